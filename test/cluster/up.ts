// `npm run cluster:up [-- --real-node]`: the tests' control plane, by hand, optionally with the real
// node (kubelet on containerd; needs root). Prints the kubeconfig path and stays up until interrupted.
import { startControlPlane } from './control-plane.ts';
import { type RealNode, startRealNode } from './real-node.ts';

const log = (line: string) => console.log(`[cluster:up] ${line}`);
const plane = await startControlPlane({ log });
let node: RealNode | undefined;
if (process.argv.includes('--real-node')) {
  try {
    node = await startRealNode(plane, { log });
  } catch (err) {
    await plane.stop();
    throw err;
  }
}
console.log(
  `\nexport KUBECONFIG=${plane.kubeconfig}\nkubectl binary: ${plane.binDir}/kubectl\n${
    node ? `real node: ${node.name} (containerd socket ${node.containerdSocket})\n` : ''
  }\nCtrl-C stops it.`,
);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await node?.stop();
    await plane.stop();
    process.exit(0);
  });
}
