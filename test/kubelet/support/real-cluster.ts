import { type ControlPlane, FAKE_NODE, runKubectl, startControlPlane } from '../../cluster/control-plane.ts';
import {
  NODE_IP,
  REAL_NODE,
  REAL_NODE_TAINT,
  type RealNode,
  startRealNode,
} from '../../cluster/real-node.ts';
import { type BuiltImages, buildImages, type ImageName } from '../../images/build.ts';

// A control plane whose pods all run on the real node: the images built from the Dockerfiles imported
// into its containerd, the kwok node cordoned and the real node's taint removed, so what the chart and
// the operator create (which carries no toleration) is scheduled there. The `kubernetes` Service
// points at the node address, so pods reach the API server (startRealNode relays it).

export interface RealCluster {
  plane: ControlPlane;
  node: RealNode;
  images: BuiltImages;
  kubectl: (args: string[], input?: string) => Promise<string>;
  helm: (args: string[]) => Promise<string>;
  stop(): Promise<void>;
}

export async function startRealCluster(want: ImageName[]): Promise<RealCluster> {
  const log = (who: string) => (line: string) => console.log(`[${who}] ${line}`);
  const images = await buildImages({ log: log('images') });
  const plane = await startControlPlane({ log: log('control-plane'), advertiseAddress: NODE_IP });
  const kubectl = (args: string[], input?: string) =>
    runKubectl(`${plane.binDir}/kubectl`, plane.kubeconfig, args, input);
  let node: RealNode | undefined;
  const stop = async () => {
    await node?.stop();
    await plane.stop();
  };
  try {
    node = await startRealNode(plane, { log: log('real-node') });
    for (const name of want) await node.importImage(images[name].ref, images[name].archive);
    await kubectl(['cordon', FAKE_NODE]);
    await kubectl(['taint', 'node', REAL_NODE, `${REAL_NODE_TAINT.key}-`]);
    const helm = (args: string[]) => runKubectl(`${plane.binDir}/helm`, plane.kubeconfig, args);
    return { plane, node, images, kubectl, helm, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Splits `localhost/portcullis/sidecar:TAG` into the chart's repository and tag values. */
export function repositoryAndTag(ref: string): { repository: string; tag: string } {
  const at = ref.lastIndexOf(':');
  return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
}
