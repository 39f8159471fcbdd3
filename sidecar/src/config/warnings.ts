import type { ConfigIssue, EffectiveConfig } from './load.ts';

// What a valid configuration does that its author may not expect: logged at start and on reload,
// never refused.

/** Pure: the warnings of a valid configuration, each with the path it is about. */
export function configWarnings(config: EffectiveConfig): ConfigIssue[] {
  const warnings: ConfigIssue[] = [];
  const mode = config.upstream.auth?.mode;
  if ((mode === 'perPrincipal' || mode === 'tokenExchange') && (config.pinning?.mode ?? 'Off') !== 'Off') {
    // The credential belongs to a caller; the sidecar never borrows one for its own reads.
    warnings.push({
      path: '/upstream/auth/mode',
      message:
        `${mode} gives the sidecar's own pinning session no identity: it reads the server's ` +
        'definitions with the static upstream headers only; if the server refuses that, definitions ' +
        'are judged only in the replies to callers, and a change is held only once a caller lists it ' +
        '(docs/pinning.md)',
    });
  }
  return warnings;
}
