import { FIELD_MANAGER, GROUP, LABELS, MANAGED_BY, PART_OF, VERSION } from '../api/group.ts';
import type { KubeClient } from '../kube/client.ts';
import type { KubeObject } from '../kube/object.ts';
import { Resources } from '../kube/resources.ts';
import { WEBHOOK_PATH } from './server.ts';

// The ValidatingWebhookConfiguration that sends McpPolicy and ClusterMcpPolicy writes to the
// operator, with the CA that signed the webhook's certificate. The operator creates and owns it
// (server-side apply under its field manager, its label); one of that name it did not create is
// left alone and the webhook is not registered.
//
// failurePolicy is Ignore, on purpose: with Fail, an operator that is down or unreachable would block
// every policy edit, including the one that fixes an outage. Ignore never fails open: a policy
// admitted while the webhook is away is still checked by the operator, marked Accepted=False if it
// does not compile, and its servers keep its last accepted version or deny every call.

export type WebhookEndpoint =
  | { url: string }
  | { service: { namespace: string; name: string; port: number } };

/** Pure: the configuration object. */
export function webhookConfiguration(
  name: string,
  endpoint: WebhookEndpoint,
  caPem: string,
  namespaces: readonly string[] | undefined,
): KubeObject {
  const clientConfig =
    'url' in endpoint
      ? { url: `${endpoint.url.replace(/\/$/, '')}${WEBHOOK_PATH}` }
      : { service: { ...endpoint.service, path: WEBHOOK_PATH } };
  return {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: {
      name,
      labels: {
        [LABELS.managedBy]: MANAGED_BY,
        [LABELS.partOf]: PART_OF,
        [LABELS.component]: 'admission-webhook',
      },
    },
    webhooks: [
      {
        name: `policies.${GROUP}`,
        admissionReviewVersions: ['v1'],
        sideEffects: 'None',
        failurePolicy: 'Ignore',
        matchPolicy: 'Equivalent',
        timeoutSeconds: 5,
        clientConfig: { ...clientConfig, caBundle: Buffer.from(caPem).toString('base64') },
        rules: [
          {
            apiGroups: [GROUP],
            apiVersions: [VERSION],
            resources: ['mcppolicies', 'clustermcppolicies'],
            operations: ['CREATE', 'UPDATE'],
            scope: '*',
          },
        ],
        // A namespace-scoped operator judges the McpPolicies of its namespaces (and every
        // ClusterMcpPolicy: namespaceSelector does not apply to cluster-scoped objects).
        ...(namespaces
          ? {
              namespaceSelector: {
                matchExpressions: [
                  { key: 'kubernetes.io/metadata.name', operator: 'In', values: [...namespaces] },
                ],
              },
            }
          : {}),
      },
    ],
  };
}

export async function applyWebhookConfiguration(client: KubeClient, desired: KubeObject): Promise<void> {
  const current = await client.get<KubeObject>(
    Resources.ValidatingWebhookConfiguration,
    undefined,
    desired.metadata.name,
  );
  if (current !== undefined && current.metadata.labels?.[LABELS.managedBy] !== MANAGED_BY) {
    throw new Error(
      `ValidatingWebhookConfiguration ${desired.metadata.name} exists and was not created by Portcullis; choose another --webhook-name`,
    );
  }
  await client.apply(desired, { fieldManager: FIELD_MANAGER, force: true });
}
