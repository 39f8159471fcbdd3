import { isKubeError } from '../kube/errors.ts';

// What a failed apply of a child means for the McpServer's status. Every failure is retried with
// the work queue's backoff; one the API server answered with a refusal (any 4xx but 409/429, or a
// 500: server-side apply answers 500 when it cannot convert the object, e.g. a bad quantity) also
// goes to status and an Event, since retrying alone would hide it. A busy or unreachable API server
// and write races (409) are passing, and the retry is all they need.

const PASSING_STATUSES = new Set([0, 409, 429, 503, 504]);

export function isPassing(err: unknown): boolean {
  return !isKubeError(err) || PASSING_STATUSES.has(err.status);
}

/** The line a person reads in the Ready condition and the Event: which child, and the API's own words. */
export function applyFailureMessage(kind: string, name: string, err: unknown): string {
  return `${kind} ${name}: ${err instanceof Error ? err.message : String(err)}`;
}
