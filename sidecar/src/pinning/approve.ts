import { parseDocument } from 'yaml';
import type { Pin } from '../contract/pinning.ts';
import type { Observation } from './book.ts';

// What an approval writes: a pin per observed definition. Definitions flagged for hidden Unicode are
// left out unless asked for by name of the flag, so approving "everything" never approves text the
// person could not see.

export function pinsFrom(
  observations: readonly Observation[],
  opts: { includeSuspicious: boolean },
): { pins: Pin[]; skipped: Observation[] } {
  const pins: Pin[] = [];
  const skipped: Observation[] = [];
  const sorted = [...observations].sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
  for (const o of sorted) {
    if (o.suspicious !== undefined && !opts.includeSuspicious) {
      skipped.push(o);
      continue;
    }
    pins.push(
      o.kind === 'instructions'
        ? { kind: o.kind, digest: o.digest }
        : { kind: o.kind, name: o.name, digest: o.digest },
    );
  }
  return { pins, skipped };
}

/** The configuration text with `pinning.pins` replaced; comments and the rest of the file kept. */
export function withPins(configText: string, pins: readonly Pin[], defaultMode = 'Enforce'): string {
  const doc = parseDocument(configText);
  if (doc.errors.length > 0) throw new Error(`configuration is not valid YAML: ${doc.errors[0]?.message}`);
  if (!doc.hasIn(['pinning', 'mode'])) doc.setIn(['pinning', 'mode'], defaultMode);
  doc.setIn(['pinning', 'pins'], doc.createNode(pins));
  return doc.toString();
}
