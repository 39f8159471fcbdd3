// The pin decision for one definition, pure: from the mode, what a person approved (spec pins),
// what was trusted on first use, and what the server shows now.

export type PinningMode = 'Off' | 'Observe' | 'TrustOnFirstUse' | 'Enforce';

export type HoldReason = 'changed' | 'unapproved' | 'suspicious';

export const HOLD_MESSAGES: Readonly<Record<HoldReason, string>> = {
  changed: 'definition changed since it was approved',
  unapproved: 'definition not approved',
  suspicious: 'definition holds invisible or bidirectional Unicode',
};

export interface PinInput {
  readonly mode: PinningMode;
  /** Digest a person approved (spec.tools.pins / the config file). */
  readonly approved: string | undefined;
  /** Digest trusted on first use (TrustOnFirstUse only). */
  readonly trusted: string | undefined;
  readonly observed: string;
  readonly suspicious: boolean;
}

export type PinVerdict =
  | { readonly verdict: 'pass'; readonly trust?: true; readonly drift?: HoldReason }
  | { readonly verdict: 'held'; readonly reason: HoldReason; readonly pinned: string | undefined };

/**
 * An approved digest always decides (a person saw this exact text, hidden characters included).
 * Otherwise: Enforce hides what is unapproved; TrustOnFirstUse trusts the first clean definition and
 * holds any other; Observe passes everything but reports what the other modes would hold.
 */
export function decidePin(input: PinInput): PinVerdict {
  const { mode, approved, trusted, observed, suspicious } = input;
  if (mode === 'Off') return { verdict: 'pass' };
  const pinned = approved ?? (mode === 'TrustOnFirstUse' || mode === 'Observe' ? trusted : undefined);
  let hold: HoldReason | undefined;
  if (approved !== undefined) hold = approved === observed ? undefined : 'changed';
  else if (suspicious) hold = 'suspicious';
  else if (mode === 'Enforce') hold = 'unapproved';
  else if (pinned !== undefined && pinned !== observed) hold = 'changed';
  if (hold === undefined) {
    return approved === undefined && trusted === undefined && mode !== 'Enforce'
      ? { verdict: 'pass', trust: true }
      : { verdict: 'pass' };
  }
  if (mode === 'Observe') return { verdict: 'pass', drift: hold };
  return { verdict: 'held', reason: hold, pinned };
}
