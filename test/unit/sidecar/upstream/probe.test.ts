import { describe, expect, it } from 'vitest';
import { describeProbeFailure } from '../../../../sidecar/src/upstream/probe.ts';
import { boundedReport } from '../../../../sidecar/src/upstream/status-report.ts';

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

describe('boundedReport', () => {
  it("cuts an upstream's own text to the CRD's bounds, so status writes stay valid", () => {
    const r = boundedReport({
      url: 'https://mcp.vendor.example/mcp',
      reachable: true,
      serverInfo: { name: 'n'.repeat(5_000), version: 'v'.repeat(300) },
      protocolVersion: 'p'.repeat(100),
      message: 'm'.repeat(2_000),
      probeTime: '2026-12-05T08:00:00Z',
    });
    expect([r.serverInfo?.name.length, r.serverInfo?.version?.length]).toEqual([256, 256]);
    expect([r.protocolVersion?.length, r.message?.length]).toEqual([64, 1024]);
    expect(r.serverInfo?.name.endsWith('…')).toBe(true);
    expect(r.url).toBe('https://mcp.vendor.example/mcp');
  });
});
