import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAuthenticator } from '../../../../sidecar/src/authn/authenticator.ts';
import { startOidcProvider, type TestOidcProvider } from '../../../support/oidc-provider.ts';
import { authentication, CANONICAL_URI, countingFetch, oidc } from './config.ts';

// Signing-key rotation at a real provider: a token with an unknown kid makes the verifier refetch the
// JWKS (once the cooldown has passed), so new keys are picked up without a restart, and retired keys
// stop working once the new set is loaded.

let idp: TestOidcProvider;
beforeEach(async () => {
  idp = await startOidcProvider();
});
afterEach(() => idp.close());

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('JWKS rotation', () => {
  it('an unknown kid triggers a refetch that picks up the rotated key', async () => {
    const counting = countingFetch();
    const authn = createAuthenticator(authentication({ oidc: [oidc(idp.issuer)] }), {
      canonicalUri: CANONICAL_URI,
      fetch: counting.fetch,
      jwks: { cooldownMs: 0 },
    });
    const before = await idp.token({ resource: CANONICAL_URI });
    expect((await authn.authenticate(bearer(before))).ok).toBe(true);
    expect(counting.count('/jwks')).toBe(1);

    await idp.rotateKeys();
    const after = await idp.token({ resource: CANONICAL_URI });
    const result = await authn.authenticate(bearer(after));
    expect(result.ok).toBe(true);
    expect(counting.count('/jwks')).toBe(2);

    // The old key is gone from the refetched set.
    const old = await authn.authenticate(bearer(before));
    expect(!old.ok && old.error.code).toBe('unknown_key');
    authn.close();
  });

  it('keys kept during a rotation overlap keep working', async () => {
    const authn = createAuthenticator(authentication({ oidc: [oidc(idp.issuer)] }), {
      canonicalUri: CANONICAL_URI,
      jwks: { cooldownMs: 0 },
    });
    const before = await idp.token({ resource: CANONICAL_URI });
    expect((await authn.authenticate(bearer(before))).ok).toBe(true);
    await idp.rotateKeys({ keepPrevious: true });
    const after = await idp.token({ resource: CANONICAL_URI });
    expect((await authn.authenticate(bearer(after))).ok).toBe(true);
    expect((await authn.authenticate(bearer(before))).ok).toBe(true);
    authn.close();
  });

  it('within the cooldown an unknown kid does not refetch (no JWKS hammering)', async () => {
    const counting = countingFetch();
    const authn = createAuthenticator(authentication({ oidc: [oidc(idp.issuer)] }), {
      canonicalUri: CANONICAL_URI,
      fetch: counting.fetch,
      jwks: { cooldownMs: 60_000 },
    });
    expect((await authn.authenticate(bearer(await idp.token({ resource: CANONICAL_URI })))).ok).toBe(true);
    await idp.rotateKeys();
    const after = await idp.token({ resource: CANONICAL_URI });
    for (let i = 0; i < 5; i++) {
      const result = await authn.authenticate(bearer(after));
      expect(!result.ok && result.error.code).toBe('unknown_key');
    }
    expect(counting.count('/jwks')).toBe(1);
    authn.close();
  });
});
