import type { AuditEvent } from '../event.ts';

// RFC 5424 messages with RFC 6587 octet-counting framing ("LEN SP MSG"), which survives newlines in a
// message and is what rsyslog, syslog-ng and most SIEM collectors read on TCP and TLS (RFC 5425).

const SEVERITY: Record<AuditEvent['outcome'], number> = {
  allowed: 6, // informational
  denied: 5, // notice
  failed: 4, // warning
  unauthenticated: 4,
};

export interface SyslogHeader {
  facility: number;
  hostname: string;
  appName: string;
  procId: string;
}

/** PRINTUSASCII without spaces, at most `max` characters; '-' (NILVALUE) when empty. */
export function headerField(value: string, max: number): string {
  const clean = value.replace(/[^!-~]/g, '').slice(0, max);
  return clean === '' ? '-' : clean;
}

export function formatRfc5424(event: AuditEvent, json: string, h: SyslogHeader): string {
  const pri = h.facility * 8 + SEVERITY[event.outcome];
  const msgId = event.type === 'authn.failure' ? 'authn' : 'audit';
  // Structured data stays NIL: the whole event is the JSON message, which SIEMs parse as one field.
  return `<${pri}>1 ${event.time} ${h.hostname} ${h.appName} ${h.procId} ${msgId} - ${json}`;
}

export function frameOctetCounting(message: string): string {
  return `${Buffer.byteLength(message)} ${message}`;
}
