import { readFileSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import type { AuditSinkConfig, SecretRef } from '../../contract/audit.ts';
import { AuditError } from '../errors.ts';
import { createFileSink } from './file.ts';
import { createHttpSink, type FetchLike } from './http.ts';
import { createOtlpSink } from './otlp.ts';
import type { AuditSink } from './sink.ts';
import { createStdoutSink, type LineDestination } from './stdout.ts';
import { createSyslogSink } from './syslog.ts';

// Builds the configured sinks once, at load: secrets and certificates are read here, so a missing
// Secret is a configuration error with the sink's name, not a retry loop at run time.

export interface SinkDeps {
  instance: string;
  fetch?: FetchLike;
  stdout?: LineDestination;
  hostname?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

export function createSinks(configs: readonly AuditSinkConfig[], deps: SinkDeps): AuditSink[] {
  const env = deps.env ?? process.env;
  const host = deps.hostname ?? osHostname();
  const names = new Set<string>();
  return configs.map((cfg, i) => {
    const name =
      cfg.name ?? (configs.filter((c) => c.type === cfg.type).length > 1 ? `${cfg.type}-${i}` : cfg.type);
    if (names.has(name))
      throw new AuditError('AUDIT_CONFIG', `audit.sinks[${i}]: duplicate sink name ${name}`);
    names.add(name);
    return buildSink(cfg, name, i, deps, env, host);
  });
}

function buildSink(
  cfg: AuditSinkConfig,
  name: string,
  i: number,
  deps: SinkDeps,
  env: Readonly<Record<string, string | undefined>>,
  host: string,
): AuditSink {
  const format = cfg.format ?? 'portcullis';
  const secret = (ref: SecretRef, what: string) => readSecret(ref, env, `audit.sinks[${i}].${what}`);
  switch (cfg.type) {
    case 'stdout':
      return createStdoutSink({ name, format }, deps.stdout);
    case 'file':
      return createFileSink({
        name,
        format,
        path: cfg.path,
        maxBytes: cfg.maxBytes ?? 100 * 1024 * 1024,
        maxFiles: cfg.maxFiles ?? 5,
        fsync: cfg.fsync ?? false,
      });
    case 'otlp':
      return createOtlpSink({
        name,
        format,
        endpoint: cfg.endpoint,
        headers: Object.fromEntries(
          Object.entries(cfg.headers ?? {}).map(([k, ref]) => [k, secret(ref, `headers.${k}`)]),
        ),
        timeoutMs: cfg.timeoutMs ?? 10_000,
        instance: deps.instance,
      });
    case 'syslog':
      return createSyslogSink({
        name,
        format,
        host: cfg.host,
        port: cfg.port,
        transport: cfg.transport ?? 'tls',
        caFile: cfg.caFile,
        certFile: cfg.certFile,
        keyFile: cfg.keyFile,
        serverName: cfg.serverName,
        facility: cfg.facility ?? 13,
        appName: cfg.appName ?? 'portcullis',
        hostname: host,
        connectTimeoutMs: cfg.connectTimeoutMs ?? 5_000,
      });
    case 'http':
      return createHttpSink(
        {
          name,
          format,
          url: cfg.url,
          token: cfg.token ? secret(cfg.token, 'token') : undefined,
          authScheme: cfg.authScheme ?? 'Splunk',
          sourcetype: cfg.sourcetype ?? 'portcullis:audit',
          index: cfg.index,
          host,
          timeoutMs: cfg.timeoutMs ?? 10_000,
        },
        deps.fetch,
      );
  }
}

function readSecret(ref: SecretRef, env: Readonly<Record<string, string | undefined>>, at: string): string {
  if (ref.env !== undefined) {
    const v = env[ref.env];
    if (v === undefined || v === '')
      throw new AuditError('AUDIT_CONFIG', `${at}: environment variable ${ref.env} is not set`);
    return v;
  }
  try {
    return readFileSync(ref.file as string, 'utf8').trim();
  } catch (cause) {
    throw new AuditError('AUDIT_CONFIG', `${at}: cannot read ${ref.file}`, { cause });
  }
}
