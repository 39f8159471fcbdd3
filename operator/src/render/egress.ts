import type { SidecarConfig } from '../../../sidecar/src/contract/index.ts';
import type { OperatorDefaults } from '../api/operator-defaults.ts';

// Pure: the TCP ports a gateway's sidecar must reach, read from the configuration it runs with (the
// one place that says what it connects to): the upstream, token endpoints, identity providers, audit
// sinks, the OTLP collector, and the API server. A NetworkPolicy can name ports, not host names, so
// a gateway may reach any address on these ports; docs/external-servers.md says what that means.

const OTLP_HTTP_PORT = 4318;

/** The port of an http(s) URL, explicit or implied by its scheme; undefined for anything else. */
export function urlPort(url: string | undefined): number | undefined {
  if (url === undefined) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.port !== '') return Number(parsed.port);
  return parsed.protocol === 'https:' ? 443 : parsed.protocol === 'http:' ? 80 : undefined;
}

export function gatewayEgressPorts(config: SidecarConfig, defaults: OperatorDefaults): number[] {
  const ports = new Set<number | undefined>();
  ports.add(urlPort(config.upstream.url));
  const auth = config.upstream.auth;
  if (auth !== undefined && (auth.mode === 'tokenExchange' || auth.mode === 'clientCredentials'))
    ports.add(urlPort(auth.tokenEndpoint));
  const authn = config.authentication;
  for (const o of authn.oidc ?? []) {
    ports.add(urlPort(o.issuer));
    ports.add(urlPort(o.jwksUri));
  }
  if (authn.serviceAccounts) {
    ports.add(urlPort(authn.serviceAccounts.issuer));
    ports.add(urlPort(authn.serviceAccounts.jwksUri));
  }
  for (const p of defaults.gateway.apiServerPorts) ports.add(p);
  const otlp = defaults.telemetry.otlpEndpoint;
  if (otlp !== undefined) ports.add(urlPort(otlp));
  for (const sink of config.audit?.sinks ?? []) {
    if (sink.type === 'syslog') ports.add(sink.port);
    else if (sink.type === 'http') ports.add(urlPort(sink.url));
    else if (sink.type === 'otlp') ports.add(urlPort(sink.endpoint ?? otlp) ?? OTLP_HTTP_PORT);
  }
  return [...ports].filter((p): p is number => p !== undefined).sort((a, b) => a - b);
}
