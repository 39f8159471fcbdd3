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
  /** In a pod, its ServiceAccount (the standard token path); outside one, $KUBECONFIG. */
  readonly kubeConfig?: KubeConfig;
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

export function mcpServerStatusReporter(target: StatusReportTarget): StatusReporter {
  const kc = target.kubeConfig ?? new KubeConfig();
  if (target.kubeConfig === undefined) kc.loadFromDefault();
  const api = kc.makeApiClient(CustomObjectsApi);
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
