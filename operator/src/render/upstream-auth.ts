import type { V1Volume, V1VolumeMount } from '@kubernetes/client-node';
import type { UpstreamAuth } from '../../../sidecar/src/contract/index.ts';
import type { SecretKeyRef, UpstreamAuthSpec } from '../api/upstream-auth.ts';

// Pure: `spec.upstreamAuth` → the sidecar's `upstream.auth` section, and one projected volume of
// exactly the Secret keys it names, mounted read-only into the sidecar container only (the MCP
// server container never sees them). Secret changes reach the files without a restart.

export const UPSTREAM_AUTH_DIR = '/etc/portcullis/upstream-auth';
export const UPSTREAM_AUTH_VOLUME = 'portcullis-upstream-auth';

export interface RenderedUpstreamAuth {
  readonly auth: UpstreamAuth;
  readonly volume: V1Volume;
  readonly mount: V1VolumeMount;
}

export function renderUpstreamAuth(spec: UpstreamAuthSpec | undefined): RenderedUpstreamAuth | undefined {
  if (spec === undefined) return undefined;
  const refs: SecretKeyRef[] = [];
  // Each referenced key becomes its own file, named by position (keys of two Secrets may collide).
  const file = (ref: SecretKeyRef): string => {
    refs.push(ref);
    return `${UPSTREAM_AUTH_DIR}/${refs.length - 1}`;
  };
  const auth = authOf(spec, file);
  return {
    auth,
    volume: {
      name: UPSTREAM_AUTH_VOLUME,
      projected: {
        sources: refs.map((r, i) => ({ secret: { name: r.name, items: [{ key: r.key, path: String(i) }] } })),
      },
    },
    mount: { name: UPSTREAM_AUTH_VOLUME, mountPath: UPSTREAM_AUTH_DIR, readOnly: true },
  };
}

function authOf(spec: UpstreamAuthSpec, file: (ref: SecretKeyRef) => string): UpstreamAuth {
  const defaults = { header: 'authorization', refreshBeforeExpirySeconds: 30 };
  if (spec.headers)
    return {
      mode: 'headers',
      id: spec.headers.id,
      headers: spec.headers.headers.map((h) => ({ name: h.name, file: file(h.secretKeyRef) })),
    };
  if (spec.perPrincipal) return { mode: 'perPrincipal', file: file(spec.perPrincipal.secretKeyRef) };
  const oauth = (spec.tokenExchange ?? spec.clientCredentials) as NonNullable<
    UpstreamAuthSpec['clientCredentials']
  >;
  const { clientSecretRef, ...rest } = oauth;
  const common = {
    ...rest,
    ...defaults,
    ...(clientSecretRef ? { clientSecretFile: file(clientSecretRef) } : {}),
  };
  if (spec.tokenExchange)
    return {
      ...common,
      mode: 'tokenExchange',
      audience: spec.tokenExchange.audience,
      requestedTokenType: 'urn:ietf:params:oauth:token-type:access_token',
      maxCachedPrincipals: 10_000,
    };
  return { ...common, mode: 'clientCredentials' };
}
