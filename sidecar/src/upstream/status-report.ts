import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { ProbeResult } from './probe.ts';

// Writes a probe result into `status.upstream` of the gateway's own McpServer, by server-side apply
// under a field manager of its own: the operator's status fields (conditions, phase) stay the
// operator's, and the operator turns this report into the UpstreamReachable condition. The pod's
// ServiceAccount may get and patch that one McpServer's status and nothing else (a Role the
// operator renders, limited by resourceNames).

export const GATEWAY_FIELD_MANAGER = 'portcullis-gateway';

export interface StatusReportTarget {
  readonly namespace: string;
  readonly name: string;
  /** Projected token and CA of the pod; ignored when $KUBECONFIG is set (a sidecar outside a pod). */
  readonly tokenFile: string;
  readonly caFile: string;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** The body of status.upstream (mirrors UpstreamReport of the McpServer API). */
export interface UpstreamReport extends ProbeResult {
  readonly url: string;
  readonly pod?: string;
  readonly probeTime: string;
}

export type StatusReporter = (report: UpstreamReport) => Promise<void>;

// The McpServer CRD's bounds on status.upstream: an upstream's own text (a name, an error) is cut
// to them, so an odd or hostile server cannot make every status write fail validation.
const cut = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Pure: the report within the CRD's bounds. */
export function boundedReport(report: UpstreamReport): UpstreamReport {
  const { serverInfo, protocolVersion, message } = report;
  return {
    ...report,
    url: cut(report.url, 2048),
    ...(serverInfo
      ? {
          serverInfo: {
            name: cut(serverInfo.name, 256),
            ...(serverInfo.version !== undefined ? { version: cut(serverInfo.version, 256) } : {}),
          },
        }
      : {}),
    ...(protocolVersion !== undefined ? { protocolVersion: cut(protocolVersion, 64) } : {}),
    ...(message !== undefined ? { message: cut(message, 1024) } : {}),
    ...(report.pod !== undefined ? { pod: cut(report.pod, 253) } : {}),
  };
}

function kubeConfigFor(target: StatusReportTarget): KubeConfig {
  const kc = new KubeConfig();
  if (target.env.KUBECONFIG) {
    kc.loadFromDefault();
    return kc;
  }
  const host = target.env.KUBERNETES_SERVICE_HOST;
  const port = target.env.KUBERNETES_SERVICE_PORT ?? '443';
  if (!host) throw new Error('upstream.probe.reportStatus: no KUBERNETES_SERVICE_HOST and no KUBECONFIG');
  // As loadFromCluster does, with the pod's projected token (it rotates; the file is read per request).
  kc.loadFromOptions({
    clusters: [
      {
        name: 'in-cluster',
        server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
        caFile: target.caFile,
      },
    ],
    users: [
      { name: 'gateway', authProvider: { name: 'tokenFile', config: { tokenFile: target.tokenFile } } },
    ],
    contexts: [{ name: 'in-cluster', cluster: 'in-cluster', user: 'gateway' }],
    currentContext: 'in-cluster',
  });
  return kc;
}

export function mcpServerStatusReporter(target: StatusReportTarget): StatusReporter {
  const api = kubeConfigFor(target).makeApiClient(CustomObjectsApi);
  const ssa = setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply);
  return async (report) => {
    await api.patchNamespacedCustomObjectStatus(
      {
        group: 'portcullis.dev',
        version: 'v1alpha1',
        namespace: target.namespace,
        plural: 'mcpservers',
        name: target.name,
        body: {
          apiVersion: 'portcullis.dev/v1alpha1',
          kind: 'McpServer',
          metadata: { name: target.name, namespace: target.namespace },
          status: { upstream: boundedReport(report) },
        },
        fieldManager: GATEWAY_FIELD_MANAGER,
        force: true,
      },
      ssa,
    );
  };
}
