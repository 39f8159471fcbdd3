import type { EffectiveConfig } from '../../sidecar/src/config/load.ts';
import { parseConfig } from '../../sidecar/src/config/load.ts';
import type { RunningSidecar } from '../../sidecar/src/server/sidecar.ts';
import { collectRecords, type Recorded, rawConfig, sidecarFor } from './harness.ts';
import { eventually, kubectlJson } from './kube.ts';

// A sidecar enforcing exactly what the operator rendered for a server on the test control plane:
// its server section and authorization rules come from the server's ConfigMap; the listener,
// upstream and identity providers are the test's (API keys of harness.ts, optionally an OpenID
// provider), since no pod runs.

export const RENDERED_CANONICAL_URI = 'http://127.0.0.1/mcp';

/** The server's rendered configuration, once `ready` says it carries what the test waits for. */
export function renderedConfig(
  namespace: string,
  server: string,
  ready: (config: EffectiveConfig) => boolean,
): Promise<EffectiveConfig> {
  return eventually(`configuration of ${namespace}/${server}`, async () => {
    const cm = await kubectlJson<{ data: Record<string, string> }>([
      '-n',
      namespace,
      'get',
      `configmap/${server}`,
    ]);
    const parsed = parseConfig(Object.values(cm.data)[0] ?? '');
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
    return ready(parsed.config) ? parsed.config : undefined;
  });
}

export async function startRenderedSidecar(
  rendered: EffectiveConfig,
  options: { upstreamUrl: string; oidcIssuer?: string },
): Promise<{ sidecar: RunningSidecar; records: Recorded }> {
  const raw = rawConfig({
    upstream: { transport: 'streamable-http', url: options.upstreamUrl },
    canonicalUri: RENDERED_CANONICAL_URI,
    ...(options.oidcIssuer
      ? {
          authentication: {
            oidc: [
              {
                issuer: options.oidcIssuer,
                audiences: [RENDERED_CANONICAL_URI],
                algorithms: ['RS256'],
                clockSkewSeconds: 30,
                usernameClaim: 'sub',
                groupsClaim: 'groups',
              },
            ],
          },
        }
      : {}),
    rules: rendered.authorization.rules,
  });
  raw.server = { ...rendered.server, canonicalUri: RENDERED_CANONICAL_URI };
  const checked = parseConfig(JSON.stringify(raw));
  if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
  const records = collectRecords();
  return { sidecar: await sidecarFor(checked.config, records), records };
}
