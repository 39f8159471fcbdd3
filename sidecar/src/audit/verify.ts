import { Compile } from 'typebox/compile';
import { eventHash } from './chain.ts';
import { AUDIT_SCHEMA_ID, AuditEvent, GENESIS_HASH } from './event.ts';

// Verifies a stream of audit events (NDJSON, in the order written): per instance, sequence numbers
// contiguous from 1, each prevHash equal to the previous event's hash, each hash recomputed. Several
// instances may be interleaved (one SIEM export of many sidecars). Lines that are JSON but carry no
// audit schema (other log lines on stdout) are skipped; anything else that is wrong is a failure.

export interface VerifyOptions {
  /** Accept a stream whose first event of an instance is not seq 1 (e.g. after file rotation). */
  partial?: boolean;
}

export interface VerifyProblem {
  line: number;
  instance?: string;
  seq?: number;
  problem: string;
}

export interface VerifyState {
  readonly events: number;
  readonly skipped: number;
  readonly instances: ReadonlyMap<string, { seq: number; hash: string }>;
  readonly failure: VerifyProblem | undefined;
}

export interface Verifier {
  /** Feed one line (1-based number); returns false once a failure was found. */
  line(text: string, lineNo: number): boolean;
  state(): VerifyState;
}

export function createVerifier(options: VerifyOptions = {}): Verifier {
  const check = Compile(AuditEvent);
  const instances = new Map<string, { seq: number; hash: string }>();
  let events = 0;
  let skipped = 0;
  let failure: VerifyProblem | undefined;

  const fail = (p: VerifyProblem) => {
    failure = p;
    return false;
  };

  return {
    line(text, line) {
      if (failure) return false;
      if (text.trim() === '') return true;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch {
        return fail({ line, problem: 'not JSON (altered or truncated line)' });
      }
      if (typeof value !== 'object' || value === null || !('schema' in value)) {
        skipped += 1;
        return true;
      }
      if ((value as { schema: unknown }).schema !== AUDIT_SCHEMA_ID) {
        return fail({
          line,
          problem: `unknown schema ${JSON.stringify((value as { schema: unknown }).schema)}`,
        });
      }
      if (!check.Check(value)) {
        const first = check.Errors(value)[0];
        return fail({
          line,
          problem: `not a valid event: ${first?.instancePath ?? ''} ${first?.message ?? ''}`,
        });
      }
      const event = value as AuditEvent;
      const at = { line, instance: event.instance, seq: event.seq };
      const last = instances.get(event.instance);
      if (last === undefined) {
        if (!options.partial && (event.seq !== 1 || event.prevHash !== GENESIS_HASH)) {
          return fail({
            ...at,
            problem: `first event of instance has seq ${event.seq}, expected 1 (events missing)`,
          });
        }
      } else {
        if (event.seq !== last.seq + 1) {
          const problem =
            event.seq > last.seq + 1
              ? `gap: seq ${last.seq + 1}..${event.seq - 1} missing`
              : `seq ${event.seq} after ${last.seq} (duplicate or reordered)`;
          return fail({ ...at, problem });
        }
        if (event.prevHash !== last.hash)
          return fail({ ...at, problem: 'prevHash does not match the previous event' });
      }
      if (eventHash(event) !== event.hash) return fail({ ...at, problem: 'hash mismatch: event altered' });
      instances.set(event.instance, { seq: event.seq, hash: event.hash });
      events += 1;
      return true;
    },
    state() {
      return { events, skipped, instances, failure };
    },
  };
}

/** Verifies a whole text (tests, small files). */
export function verifyText(text: string, options?: VerifyOptions): VerifyState {
  const verifier = createVerifier(options);
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) if (!verifier.line(lines[i] ?? '', i + 1)) break;
  return verifier.state();
}
