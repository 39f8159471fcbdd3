import type { AuditSinkConfig } from '../../sidecar/src/contract/audit.ts';
import type { Rsyslog } from './rsyslog.ts';

// One sink of every kind, pointed at the tests' real receivers. The HEC token comes from
// TEST_HEC_TOKEN in the auditor's environment.

export interface EverySinkTargets {
  auditFile: string;
  otlpUrl: string;
  hecUrl: string;
  rsyslog: Rsyslog;
  /** Rotation of the file sink (default: the sink's own). */
  fileRotation?: { maxBytes: number; maxFiles: number };
}

export function everySink(t: EverySinkTargets): AuditSinkConfig[] {
  return [
    { type: 'stdout' },
    { type: 'file', path: t.auditFile, ...t.fileRotation },
    { type: 'otlp', endpoint: t.otlpUrl },
    { type: 'syslog', name: 'syslog-tcp', host: '127.0.0.1', port: t.rsyslog.tcpPort, transport: 'tcp' },
    {
      type: 'syslog',
      name: 'syslog-tls',
      host: '127.0.0.1',
      port: t.rsyslog.tlsPort,
      transport: 'tls',
      caFile: t.rsyslog.caFile,
      serverName: 'localhost',
    },
    { type: 'http', url: t.hecUrl, token: { env: 'TEST_HEC_TOKEN' } },
  ];
}
