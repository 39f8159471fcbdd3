import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type Type from 'typebox';
import { Compile } from 'typebox/compile';
import Value from 'typebox/value';
import { parseDocument } from 'yaml';
import { type Limits, SidecarConfig } from '../contract/config.ts';
import type { StdioProcesses } from '../contract/upstream.ts';
import type { UpstreamAuth } from '../contract/upstream-auth.ts';

// Reads a configuration file (YAML or JSON: YAML is a superset), applies the schema's defaults and
// validates it. Every fault is reported with the JSON path of the offending value, so an operator
// reading a log line knows which field to fix.

export type LimitsConfig = Type.Static<typeof Limits>;
export type StdioProcessesConfig = Type.Static<typeof StdioProcesses>;
type UpstreamConfig = SidecarConfig['upstream'];
/** The configuration after defaults: sections with defaults are always present. */
export type EffectiveConfig = Omit<SidecarConfig, 'limits' | 'upstream'> & {
  limits: LimitsConfig;
  upstream: UpstreamConfig & { circuitBreaker: NonNullable<UpstreamConfig['circuitBreaker']> };
};

export interface ConfigIssue {
  readonly path: string;
  readonly message: string;
}

export type ConfigResult =
  | { readonly ok: true; readonly config: EffectiveConfig; readonly digest: string }
  | { readonly ok: false; readonly issues: readonly ConfigIssue[]; readonly digest: string };

const validator = Compile(SidecarConfig);

export function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Parses, defaults and validates configuration text. Pure. */
export function parseConfig(text: string): ConfigResult {
  const digest = digestOf(text);
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      digest,
      issues: doc.errors.map((e) => ({ path: '', message: `syntax: ${e.message}` })),
    };
  }
  return validateConfig(doc.toJS({ maxAliasCount: 100 }), digest);
}

export function validateConfig(input: unknown, digest = digestOf(JSON.stringify(input))): ConfigResult {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    return { ok: false, digest, issues: [{ path: '', message: 'must be an object' }] };
  }
  const value = structuredClone(input) as Record<string, unknown>;
  // Optional sections with defaults inside: give them a body so their defaults apply.
  value.limits ??= {};
  value.authorization ??= {};
  const upstream = value.upstream as Record<string, unknown> | undefined;
  if (upstream !== null && typeof upstream === 'object') {
    if (upstream.transport === 'stdio') upstream.processes ??= {};
    upstream.circuitBreaker ??= {};
  }
  const withDefaults = Value.Default(SidecarConfig, value);
  if (!validator.Check(withDefaults)) {
    return { ok: false, digest, issues: schemaIssues(withDefaults) };
  }
  const config = withDefaults as EffectiveConfig;
  const issues = semanticIssues(config);
  return issues.length > 0 ? { ok: false, digest, issues } : { ok: true, config, digest };
}

function schemaIssues(value: unknown): ConfigIssue[] {
  const seen = new Set<string>();
  const issues: ConfigIssue[] = [];
  for (const e of validator.Errors(value)) {
    // "schema is false" repeats an additionalProperties error with less context.
    if (e.keyword === 'boolean') continue;
    let path = e.instancePath || '/';
    let message = e.message;
    if (e.keyword === 'additionalProperties') {
      const extra = (e.params as { additionalProperties?: string[] }).additionalProperties ?? [];
      path = `${e.instancePath}/${extra.join(',')}`;
      message = 'unknown field';
    } else if (e.keyword === 'required') {
      const missing = (e.params as { requiredProperties?: string[] }).requiredProperties ?? [];
      path = `${e.instancePath}/${missing.join(',')}`;
      message = 'required field missing';
    }
    const key = `${path} ${message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    issues.push({ path, message });
  }
  return issues.length > 0 ? issues : [{ path: '/', message: 'invalid configuration' }];
}

/** Rules the schema cannot say: which upstream fields each transport needs. */
function semanticIssues(config: EffectiveConfig): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const up = config.upstream;
  if (up.transport === 'stdio') {
    if (up.launcher === undefined && !up.command) {
      issues.push({
        path: '/upstream/command',
        message: 'required for the stdio transport without a launcher',
      });
    }
    if (
      up.launcher !== undefined &&
      (up.command !== undefined || up.args !== undefined || up.env !== undefined)
    ) {
      issues.push({
        path: '/upstream/launcher',
        message: "the launcher runs its own command: command, args and env belong to the server's container",
      });
    }
    if (up.url) issues.push({ path: '/upstream/url', message: 'not allowed for the stdio transport' });
    if (up.processes && up.processes.warm > up.processes.maxProcesses) {
      issues.push({ path: '/upstream/processes/warm', message: 'must not exceed maxProcesses' });
    }
  } else {
    if (!up.url)
      issues.push({ path: '/upstream/url', message: `required for the ${up.transport} transport` });
    if (up.processes) issues.push({ path: '/upstream/processes', message: 'only for the stdio transport' });
    if (up.launcher) issues.push({ path: '/upstream/launcher', message: 'only for the stdio transport' });
  }
  for (const [i, h] of (up.headers ?? []).entries()) {
    const lower = h.name.toLowerCase();
    if (HOP_OR_PROTOCOL_HEADERS.has(lower)) {
      issues.push({ path: `/upstream/headers/${i}/name`, message: `header ${h.name} cannot be injected` });
    }
  }
  if (up.auth !== undefined) issues.push(...upstreamAuthIssues(up.auth, up.transport));
  if (up.tls !== undefined && !up.url?.startsWith('https://'))
    issues.push({ path: '/upstream/tls', message: 'only for an https upstream url' });
  const names = new Set<string>();
  for (const [i, rule] of config.authorization.rules.entries()) {
    const key = `${rule.policy}/${rule.name}`;
    if (names.has(key)) {
      issues.push({ path: `/authorization/rules/${i}/name`, message: `duplicate rule ${key}` });
    }
    names.add(key);
  }
  return issues;
}

// Stdio servers get no HTTP headers; every header name an auth mode sends must be injectable.
function upstreamAuthIssues(auth: UpstreamAuth, transport: string): ConfigIssue[] {
  if (transport === 'stdio')
    return [{ path: '/upstream/auth', message: 'a stdio server takes no upstream credential headers' }];
  const names =
    auth.mode === 'headers'
      ? auth.headers.map((h, i) => [`/upstream/auth/headers/${i}/name`, h.name] as const)
      : auth.mode === 'perPrincipal'
        ? []
        : ([['/upstream/auth/header', auth.header]] as const);
  const issues: ConfigIssue[] = names
    .filter(([, name]) => HOP_OR_PROTOCOL_HEADERS.has(name.toLowerCase()))
    .map(([path, name]) => ({ path, message: `header ${name} cannot be injected` }));
  // A token endpoint receives client secrets and, for exchange, callers' tokens: TLS unless on loopback.
  if (
    (auth.mode === 'tokenExchange' || auth.mode === 'clientCredentials') &&
    !secureOrLoopback(auth.tokenEndpoint)
  )
    issues.push({
      path: '/upstream/auth/tokenEndpoint',
      message: 'must be https (http only on a loopback address)',
    });
  return issues;
}

function secureOrLoopback(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'https:' || ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
}

/** Headers that frame the request or the MCP session: never set from configuration or a Secret. */
export const HOP_OR_PROTOCOL_HEADERS: ReadonlySet<string> = new Set([
  'host',
  'connection',
  'content-length',
  'content-type',
  'transfer-encoding',
  'mcp-session-id',
  'mcp-protocol-version',
  'mcp-method',
  'mcp-name',
]);

export async function loadConfigFile(file: string): Promise<ConfigResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return {
      ok: false,
      digest: '',
      issues: [{ path: '', message: `cannot read ${file}: ${(err as Error).message}` }],
    };
  }
  return parseConfig(text);
}

export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map((i) => `${i.path || '/'}: ${i.message}`).join('; ');
}
