import { describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../../../sidecar/src/upstream/probe.ts';
import {
  initializeFacts,
  startProbeLoop,
  withObserved,
} from '../../../../sidecar/src/upstream/probe-loop.ts';
import type { UpstreamReport } from '../../../../sidecar/src/upstream/status-report.ts';

// The probe loop writes McpServer status only when the result changes (a healthy fleet costs the API
// server nothing between changes), and writes again after a failed write; metrics see every probe.

const URL = 'https://mcp.vendor.example/mcp';
const up: ProbeResult = { reachable: true, serverInfo: { name: 'vendor', version: '1' } };
const down: ProbeResult = { reachable: false, message: 'TLS: the upstream certificate is not trusted' };

function loop(results: ProbeResult[], failWrites: number[] = []) {
  const written: UpstreamReport[] = [];
  const seen: boolean[] = [];
  let probes = 0;
  let writes = 0;
  const l = startProbeLoop(
    { intervalMs: 3_600_000, timeoutMs: 1_000, reportStatus: true },
    {
      target: async () => ({ url: URL, transport: 'streamable-http', headers: {}, timeoutMs: 1_000 }),
      probe: async () => results[probes++] as ProbeResult,
      onResult: (r) => seen.push(r.reachable),
      report: async (r) => {
        if (failWrites.includes(writes++)) throw new Error('the API server said no');
        written.push(r);
      },
      pod: 'gw-1',
      now: () => new Date('2026-12-05T08:00:00Z'),
    },
  );
  return { l, written, seen };
}

describe('startProbeLoop', () => {
  it('writes the first result and each change, not repeats', async () => {
    const { l, written, seen } = loop([up, up, down, down, up]);
    for (let i = 0; i < 5; i++) await l.run();
    l.close();
    expect(seen).toEqual([true, true, false, false, true]);
    expect(written.map((r) => r.reachable)).toEqual([true, false, true]);
    expect(written[0]).toEqual({ url: URL, ...up, pod: 'gw-1', probeTime: '2026-12-05T08:00:00Z' });
  });

  it('writes again at the next probe after a failed write', async () => {
    const { l, written } = loop([up, up, up], [0]);
    for (let i = 0; i < 3; i++) await l.run();
    l.close();
    expect(written.map((r) => r.reachable)).toEqual([true]);
  });
});

describe('behind per-caller credentials', () => {
  const refused: ProbeResult = {
    reachable: true,
    message: 'the upstream answered HTTP 401: it wants a credential the gateway does not hold on its own',
  };

  it("reports the serverInfo a caller's initialize brought back, and says where it comes from", async () => {
    const { l, written } = loop([refused, refused]);
    await l.run();
    expect(written[0]?.serverInfo).toBeUndefined();
    expect(written[0]?.message).toContain("serverInfo is unknown until a caller's session starts");
    l.observeInitialize({ protocolVersion: '2025-06-18', serverInfo: { name: 'vendor', version: '2.1.0' } });
    await l.run();
    l.close();
    expect(written[1]).toMatchObject({
      reachable: true,
      serverInfo: { name: 'vendor', version: '2.1.0' },
      protocolVersion: '2025-06-18',
      message: expect.stringContaining("serverInfo as the upstream answered a caller's initialize"),
    });
  });

  it("ignores an initialize result without a serverInfo name; the probe's own serverInfo wins", () => {
    expect(withObserved(up, { serverInfo: { name: 'other' } })).toBe(up);
    expect(initializeFacts({ serverInfo: { version: '1' } })).toBeUndefined();
    expect(initializeFacts(null)).toBeUndefined();
  });
});
