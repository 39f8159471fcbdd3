import { describe, expect, it } from 'vitest';
import { describeProbeFailure } from '../../../../sidecar/src/upstream/probe.ts';

// What a person reads in UpstreamReachable when the gateway's probe fails: the cause, and which
// field of spec.external to look at when it is TLS.

const tlsError = (code: string, message: string) =>
  Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(message), { code }) });

describe('describeProbeFailure', () => {
  it.each([
    {
      name: 'an untrusted certificate names the CA bundle',
      err: tlsError('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
      reachable: false,
      text: 'TLS: the upstream certificate is not trusted (SELF_SIGNED_CERT_IN_CHAIN: self-signed certificate in certificate chain); check spec.external.tls.caBundle',
    },
    {
      name: 'a certificate for another name names serverName',
      err: tlsError('ERR_TLS_CERT_ALTNAME_INVALID', "Hostname/IP does not match certificate's altnames"),
      reachable: false,
      text: 'check spec.external.tls.serverName',
    },
    {
      name: 'a refused connection',
      err: tlsError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:9'),
      reachable: false,
      text: 'ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9',
    },
    {
      name: 'a failure without a code keeps the cause fetch hides',
      err: new TypeError('fetch failed', { cause: new Error('bad port') }),
      reachable: false,
      text: 'fetch failed: bad port',
    },
    {
      name: 'an authentication demand: reachable, serverInfo unknown',
      err: Object.assign(new Error('Error POSTing to endpoint (HTTP 401)'), { code: 401 }),
      reachable: true,
      text: 'HTTP 401',
    },
    {
      name: 'a 404: not the MCP endpoint',
      err: Object.assign(new Error('Error POSTing to endpoint (HTTP 404)'), { code: 404 }),
      reachable: false,
      text: 'is the URL its MCP endpoint?',
    },
  ])('$name', ({ err, reachable, text }) => {
    const r = describeProbeFailure(err);
    expect(r.reachable).toBe(reachable);
    expect(r.message).toContain(text);
  });
});
