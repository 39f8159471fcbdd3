import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Authenticator, createAuthenticator } from '../../../../sidecar/src/authn/authenticator.ts';
import { createNamespace, kubectl } from '../../../support/kube.ts';

// ServiceAccount tokens minted by a real kube-apiserver (`kubectl create token --audience`), verified
// through the API server's own issuer discovery and JWKS over TLS with the cluster CA, the way the
// sidecar does it in a pod.

const CANONICAL_URI = 'http://payments.portcullis-test.svc:8080/mcp';

describe('Kubernetes ServiceAccount tokens', () => {
  let ns: Awaited<ReturnType<typeof createNamespace>>;
  let dir: string;
  let authn: Authenticator;

  beforeAll(async () => {
    ns = await createNamespace('sa-authn');
    dir = await mkdtemp(join(tmpdir(), 'sa-authn-'));
    await kubectl(['create', 'serviceaccount', 'release-bot', '-n', ns.name]);
    await kubectl(['create', 'serviceaccount', 'sidecar', '-n', ns.name]);
    // The sidecar's own token (API server audience) lets it read the issuer's discovery and keys.
    const tokenFile = join(dir, 'token');
    await writeFile(tokenFile, await kubectl(['create', 'token', 'sidecar', '-n', ns.name]));
    authn = createAuthenticator(
      {
        allowAnonymous: false,
        serviceAccounts: {
          issuer: inject('serviceAccountIssuer'),
          caFile: inject('clusterCaCert'),
          tokenFile,
        },
      },
      { canonicalUri: CANONICAL_URI },
    );
  });

  afterAll(async () => {
    authn.close();
    await ns.remove();
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts a token bound to this server and maps it to the service account', async () => {
    const token = (
      await kubectl(['create', 'token', 'release-bot', '-n', ns.name, '--audience', CANONICAL_URI])
    ).trim();
    const result = await authn.authenticate({ authorization: `Bearer ${token}` });
    expect(result.ok && result.principal).toMatchObject({
      subject: `system:serviceaccount:${ns.name}:release-bot`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${ns.name}`],
      method: 'service-account',
      serviceAccount: { namespace: ns.name, name: 'release-bot' },
      issuer: inject('serviceAccountIssuer'),
    });
  });

  it('refuses a token minted for the API server audience', async () => {
    const token = (await kubectl(['create', 'token', 'release-bot', '-n', ns.name])).trim();
    const result = await authn.authenticate({ authorization: `Bearer ${token}` });
    expect(!result.ok && [result.error.code, result.error.httpStatus]).toEqual(['invalid_audience', 401]);
  });

  it('refuses a token for another server', async () => {
    const token = (
      await kubectl([
        'create',
        'token',
        'release-bot',
        '-n',
        ns.name,
        '--audience',
        'http://other.svc:8080/mcp',
      ])
    ).trim();
    const result = await authn.authenticate({ authorization: `Bearer ${token}` });
    expect(!result.ok && result.error.code).toBe('invalid_audience');
  });
});
