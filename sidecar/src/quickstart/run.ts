import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { validateConfig } from '../config/load.ts';
import { type RunningSidecar, startSidecar } from '../server/sidecar.ts';
import { quickstartConfig } from './default-config.ts';
import { type EverythingServer, everythingEntry, startEverything } from './everything.ts';

// `npm start` without a configuration file: the everything server behind the sidecar on
// http://127.0.0.1:8080/mcp (PORT overrides), with a local API key printed once at startup.

export interface QuickstartOptions {
  readonly port: number;
  readonly adminPort: number;
  readonly stdio: boolean;
  readonly apiKey?: string | undefined;
  readonly logger: Logger;
}

export interface RunningQuickstart {
  readonly sidecar: RunningSidecar;
  readonly apiKey: string;
  close(): Promise<void>;
}

export async function runQuickstart(opts: QuickstartOptions): Promise<RunningQuickstart> {
  const apiKey = opts.apiKey ?? `pc_dev_${randomBytes(18).toString('base64url')}`;
  let everything: EverythingServer | undefined;
  let upstream: Parameters<typeof quickstartConfig>[0]['upstream'];
  if (opts.stdio) {
    upstream = {
      transport: 'stdio',
      command: process.execPath,
      args: [everythingEntry(), 'stdio'],
      env: {}, // the bridge's minimal environment and nothing of the sidecar's (get-env prints it)
      connectTimeoutMs: 5000,
      requestTimeoutMs: 60_000,
    };
  } else {
    everything = await startEverything('streamableHttp');
    upstream = {
      transport: 'streamable-http',
      url: everything.url,
      connectTimeoutMs: 5000,
      requestTimeoutMs: 60_000,
    };
  }
  const result = validateConfig(
    quickstartConfig({ port: opts.port, adminPort: opts.adminPort, upstream, apiKey }),
  );
  if (!result.ok) throw new Error(`built-in configuration is invalid: ${JSON.stringify(result.issues)}`);
  // Audit events go to stdout (the default sink), one line per MCP message.
  const sidecar = await startSidecar({ config: result.config, logger: opts.logger }).catch(
    async (err: unknown) => {
      await everything?.close();
      throw err;
    },
  );
  printBanner(sidecar.url, apiKey);
  return {
    sidecar,
    apiKey,
    async close() {
      await sidecar.close();
      await everything?.close();
    },
  };
}

function printBanner(url: string, apiKey: string): void {
  const init = `'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"1"}}}'`;
  const call = (tool: string, args: string) =>
    `'{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"${tool}","arguments":${args}}}'`;
  const h = `-H 'content-type: application/json' -H 'accept: application/json, text/event-stream'`;
  const auth = `-H "x-api-key: $PORTCULLIS_KEY"`;
  const session = `-H "mcp-session-id: $SID" -H 'mcp-protocol-version: 2025-06-18'`;
  process.stdout.write(
    [
      '',
      `Portcullis sidecar in front of the "everything" MCP server: ${url}`,
      `Local API key (send it as X-API-Key or Authorization: Bearer): ${apiKey}`,
      '',
      `  export PORTCULLIS_KEY=${apiKey}`,
      `  # open a session`,
      `  SID=$(curl -si ${url} ${h} ${auth} -d ${init} | awk 'tolower($1)=="mcp-session-id:" {print $2}' | tr -d '\r')`,
      `  curl -s ${url} ${h} ${auth} ${session} -d '{"jsonrpc":"2.0","method":"notifications/initialized"}'`,
      `  # allowed: echo`,
      `  curl -s ${url} ${h} ${auth} ${session} -d ${call('echo', '{"message":"hi"}')}`,
      `  # denied by rule quickstart/default/no-environment-dump`,
      `  curl -s ${url} ${h} ${auth} ${session} -d ${call('get-env', '{}')}`,
      `  # unauthenticated: 401 with a WWW-Authenticate challenge`,
      `  curl -si ${url} ${h} -d ${init}`,
      '',
    ].join('\n'),
  );
}
