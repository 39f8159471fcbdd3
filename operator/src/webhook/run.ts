import type { Logger } from 'pino';
import type { KubeClient } from '../kube/client.ts';
import { ensureCertificates } from './certificates.ts';
import { applyWebhookConfiguration, type WebhookEndpoint, webhookConfiguration } from './configuration.ts';
import { startWebhookServer, type WebhookServer } from './server.ts';

// The admission webhook on every replica (each one may be called): certificates from the Secret
// (created by the first replica), the HTTPS server, and the ValidatingWebhookConfiguration with the
// CA. Twice a day the Secret is looked at again: a renewed certificate is served without a restart and
// its CA registered.

const RECHECK_MS = 12 * 3_600_000;

export interface WebhookOptions {
  host: string;
  port: number;
  endpoint: WebhookEndpoint;
  /** The Secret holding the certificates, in the operator's namespace. */
  secret: { namespace: string; name: string };
  /** Name of the ValidatingWebhookConfiguration. */
  configurationName: string;
}

/** Names the serving certificate must carry for the API server to reach it. */
export function webhookHosts(endpoint: WebhookEndpoint): string[] {
  if ('url' in endpoint) return [new URL(endpoint.url).hostname];
  const { name, namespace } = endpoint.service;
  return [`${name}.${namespace}.svc`, `${name}.${namespace}.svc.cluster.local`];
}

export async function startWebhook(
  options: WebhookOptions,
  deps: { client: KubeClient; namespaces: readonly string[] | undefined; log: Logger; now: () => Date },
): Promise<{ server: WebhookServer; stop(): Promise<void> }> {
  const hosts = webhookHosts(options.endpoint);
  const register = async () => {
    const certs = await ensureCertificates(deps.client, options.secret, hosts, deps.now);
    await applyWebhookConfiguration(
      deps.client,
      webhookConfiguration(options.configurationName, options.endpoint, certs.caPem, deps.namespaces),
    );
    return certs;
  };
  const certs = await register();
  const server = await startWebhookServer(
    { host: options.host, port: options.port, cert: certs.serving },
    deps.log.child({ component: 'webhook' }),
  );
  const timer = setInterval(() => {
    register().then(
      (renewed) => server.setCertificate(renewed.serving),
      (err: unknown) => deps.log.error({ err }, 'webhook certificates could not be checked; retrying later'),
    );
  }, RECHECK_MS);
  timer.unref();
  deps.log.info(
    { port: server.port, hosts, configuration: options.configurationName },
    'admission webhook serving',
  );
  return {
    server,
    stop: async () => {
      clearInterval(timer);
      await server.close();
    },
  };
}
