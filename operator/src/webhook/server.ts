import { createServer, type Server } from 'node:https';
import type { Logger } from 'pino';
import { type AdmissionReview, review } from './admission.ts';

// The webhook's HTTPS endpoint: POST /validate with an AdmissionReview. Bodies are bounded; anything
// else is a 404 or 400. The serving certificate can be replaced while running (rotation).

export const WEBHOOK_PATH = '/validate';
const MAX_BODY = 3 * 1024 * 1024; // an object is at most 1.5 MiB in etcd; the review wraps it

export interface WebhookServer {
  readonly port: number;
  setCertificate(cert: { certPem: string; keyPem: string }): void;
  close(): Promise<void>;
}

export async function startWebhookServer(
  options: { host: string; port: number; cert: { certPem: string; keyPem: string } },
  log: Logger,
): Promise<WebhookServer> {
  const server: Server = createServer(
    { cert: options.cert.certPem, key: options.cert.keyPem },
    (req, res) => {
      if (req.method !== 'POST' || req.url?.split('?')[0] !== WEBHOOK_PATH) {
        res.writeHead(404).end();
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_BODY) req.destroy();
        else chunks.push(c);
      });
      req.on('end', () => {
        let body: AdmissionReview;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as AdmissionReview;
        } catch {
          res.writeHead(400, { 'content-type': 'text/plain' }).end('not an AdmissionReview');
          return;
        }
        const answer = review(body);
        log.debug({ uid: body.request?.uid, kind: body.request?.kind?.kind }, 'admission review');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    },
  );
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    setCertificate: (cert) => server.setSecureContext({ cert: cert.certPem, key: cert.keyPem }),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
