import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { hashApiKey } from '../../sidecar/src/authn/index.ts';
import { type EffectiveConfig, validateConfig } from '../../sidecar/src/config/load.ts';
import { CONFIG_API_VERSION, type SidecarConfig } from '../../sidecar/src/contract/config.ts';
import type { PinStore } from '../../sidecar/src/pinning/book.ts';
import type { McpRecord, Recorder } from '../../sidecar/src/pipeline/record.ts';
import { type RunningSidecar, startSidecar } from '../../sidecar/src/server/sidecar.ts';

// Builders for sidecar integration tests: a configuration with known API keys and rules, a sidecar
// on free ports, and a recorder that keeps every record for assertions.

export const KEYS = {
  alice: 'alice-key-0123456789',
  bob: 'bob-key-0123456789',
  mallory: 'mallory-key-0123456789',
} as const;

export type Rule = SidecarConfig['authorization']['rules'][number];

export function allow(name: string, fields: Partial<Rule>): Rule {
  return { policy: 'test/policy', name, action: 'allow', subjects: [{ anyAuthenticated: true }], ...fields };
}

export function deny(name: string, fields: Partial<Rule>): Rule {
  return { policy: 'test/policy', name, action: 'deny', subjects: [{ anyAuthenticated: true }], ...fields };
}

export interface ConfigInput {
  upstream:
    | SidecarConfig['upstream']
    | { transport: SidecarConfig['upstream']['transport']; url?: string; command?: string; args?: string[] };
  rules?: Rule[];
  limits?: Partial<NonNullable<SidecarConfig['limits']>>;
  allowedOrigins?: string[];
  authentication?: Partial<SidecarConfig['authentication']>;
  canonicalUri?: string;
  audit?: SidecarConfig['audit'];
}

export function rawConfig(input: ConfigInput): SidecarConfig {
  return {
    apiVersion: CONFIG_API_VERSION,
    kind: 'SidecarConfig',
    server: { name: 'test-server', canonicalUri: input.canonicalUri ?? 'http://127.0.0.1/mcp' },
    listen: { host: '127.0.0.1', port: 1, path: '/mcp' },
    admin: { host: '127.0.0.1', port: 1 },
    upstream: input.upstream as SidecarConfig['upstream'],
    ...(input.limits ? { limits: input.limits as NonNullable<SidecarConfig['limits']> } : {}),
    ...(input.allowedOrigins ? { allowedOrigins: input.allowedOrigins } : {}),
    ...(input.audit ? { audit: input.audit } : {}),
    authentication: {
      allowAnonymous: false,
      apiKeys: [
        { id: 'alice', sha256: hashApiKey(KEYS.alice), subject: 'alice', groups: ['engineering'] },
        { id: 'bob', sha256: hashApiKey(KEYS.bob), subject: 'bob', groups: ['sales'] },
        { id: 'mallory', sha256: hashApiKey(KEYS.mallory), subject: 'mallory', groups: [] },
      ],
      ...input.authentication,
    },
    authorization: {
      rules: input.rules ?? [allow('all-tools', { tools: ['*'], prompts: ['*'], resources: ['*'] })],
    },
  };
}

export function config(input: ConfigInput): EffectiveConfig {
  const result = validateConfig(rawConfig(input));
  if (!result.ok) throw new Error(`test config invalid: ${JSON.stringify(result.issues)}`);
  return result.config;
}

export interface Recorded extends Recorder {
  readonly records: McpRecord[];
}

export function collectRecords(): Recorded {
  const records: McpRecord[] = [];
  return { records, record: (r) => void records.push(r) };
}

export async function sidecarFor(
  cfg: EffectiveConfig,
  recorder?: Recorder,
  extra: {
    configFile?: string;
    digest?: string;
    env?: Record<string, string>;
    portOverride?: number;
    audit?: 'config' | 'off';
    pinStore?: PinStore;
  } = {},
): Promise<RunningSidecar> {
  return startSidecar({
    config: cfg,
    ...(recorder ? { recorder } : {}),
    audit: 'off',
    portOverride: 0,
    adminPortOverride: 0,
    ...extra,
  });
}

export const MCP_HEADERS = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
} as const;

/** Posts raw text to the sidecar with a key; returns status, headers and body text. */
export async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The JSON-RPC message in a JSON or single-event SSE reply. */
export function messageOf(text: string): unknown {
  const t = text.trim();
  if (t.startsWith('{') || t.startsWith('[')) return JSON.parse(t);
  const data = t
    .split('\n')
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trim());
  return JSON.parse(data[data.length - 1] ?? 'null');
}

export function initializeBody(id: number | string = 1, protocolVersion = '2025-06-18'): string {
  return JSON.stringify({
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw-test', version: '1' } },
  });
}

/** An SDK (v1) legacy SSE client transport that sends the API key on the stream and on each POST. */
export function legacySseTransport(url: string, key: string): SSEClientTransport {
  const headers = { 'x-api-key': key };
  return new SSEClientTransport(new URL(url), {
    requestInit: { headers },
    eventSourceInit: {
      fetch: (u, init) => fetch(u, { ...init, headers: { ...(init?.headers as object), ...headers } }),
    },
  });
}
