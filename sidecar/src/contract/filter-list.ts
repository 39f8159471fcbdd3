import { decideTarget } from './decide.ts';
import { classifyMethod } from './methods.ts';
import type { CompiledPolicy } from './policy.ts';
import type { Principal } from './principal.ts';
import { normalizeResourceUri } from './resource-uri.ts';

// List results (tools/list, prompts/list, resources/list, resources/templates/list) keep only the
// items the caller could use, judged by the same rules as the call (contract/decide.ts, 'list' mode). Works
// page by page: other fields such as nextCursor pass through untouched, so pagination still works
// (a page may come back shorter, even empty). An item without a usable name is dropped.

/**
 * `result` is the JSON-RPC `result` member. Returns the same object when nothing was removed (no
 * copy on the common path), otherwise a shallow copy with the filtered array. Non-list methods and
 * results without the expected array are returned unchanged.
 */
export function filterListResult(
  policy: CompiledPolicy,
  principal: Principal,
  method: string,
  result: unknown,
  server = '',
): unknown {
  const cls = classifyMethod(method);
  if (cls.kind !== 'list' || typeof result !== 'object' || result === null) return result;
  const items = (result as Record<string, unknown>)[cls.field];
  if (!Array.isArray(items)) return result;

  let kept: unknown[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const item: unknown = items[i];
    const raw =
      typeof item === 'object' && item !== null ? (item as Record<string, unknown>)[cls.itemKey] : undefined;
    // A listed URI is judged as a read of it would be: normalized (templates are not URIs).
    const name = cls.itemKey === 'uri' && typeof raw === 'string' ? normalizeResourceUri(raw) : raw;
    const allowed =
      typeof name === 'string' &&
      name !== '' &&
      decideTarget(policy, principal, cls.target, name, cls.callMethod, server, undefined, 'list').effect ===
        'allow';
    if (allowed) {
      kept?.push(item);
    } else if (kept === undefined) {
      kept = items.slice(0, i);
    }
  }
  return kept === undefined ? result : { ...(result as Record<string, unknown>), [cls.field]: kept };
}
