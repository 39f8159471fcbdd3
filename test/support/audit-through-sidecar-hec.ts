import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from '../../sidecar/src/audit/event.ts';
import type { AuditConfig } from '../../sidecar/src/contract/audit.ts';
import { type Receiver, startHecReceiver } from './audit-receivers.ts';
import { type AuditedSidecar, startAuditedSidecar } from './audit-through-sidecar-process.ts';
import { type EchoUpstream, startEchoUpstream } from './echo-upstream.ts';
import { allow } from './harness.ts';

// A sidecar process whose only audit sink is an HTTP (HEC) receiver the test can take down, in front
// of its own counting upstream: the setting of the outage tests. alice (engineering) may call any tool.

const TOKEN = 'hec-outage-token';
const rules = [allow('engineers-any-tool', { subjects: [{ group: 'engineering' }], tools: ['*'] })];

/** Quick retries, so recovery is seen within a second of the receiver coming back. */
export const fastRetry = { retryInitialMs: 50, retryMaxMs: 500 };

export interface HecSidecar {
  readonly dir: string;
  readonly hec: Receiver;
  readonly upstream: EchoUpstream;
  readonly sidecar: AuditedSidecar;
  /** The events the receiver holds, parsed. */
  events(): AuditEvent[];
  /** portcullis_sidecar_audit_events_total{sink="http",result} from /metrics. */
  auditCount(result: 'delivered' | 'retried' | 'dropped' | 'refused'): Promise<number>;
  close(): Promise<void>;
}

export async function startHecSidecar(name: string, audit: Omit<AuditConfig, 'sinks'>): Promise<HecSidecar> {
  const dir = mkdtempSync(join(tmpdir(), `portcullis-outage-${name}-`));
  const hec = await startHecReceiver(TOKEN);
  const upstream = await startEchoUpstream();
  const cleanup = async () => {
    await hec.stop();
    await upstream.close();
    rmSync(dir, { recursive: true, force: true });
  };
  const sidecar = await startAuditedSidecar({
    dir,
    upstreamUrl: upstream.url,
    rules,
    env: { TEST_HEC_TOKEN: TOKEN },
    audit: { ...audit, sinks: [{ type: 'http', url: hec.url, token: { env: 'TEST_HEC_TOKEN' } }] },
  }).catch(async (err: unknown) => {
    await cleanup();
    throw err;
  });
  return {
    dir,
    hec,
    upstream,
    sidecar,
    events: () => hec.events.map((e) => JSON.parse(e) as AuditEvent),
    auditCount: (result) => sidecar.metric('portcullis_sidecar_audit_events_total', { sink: 'http', result }),
    async close() {
      await sidecar.close();
      await cleanup();
    },
  };
}
