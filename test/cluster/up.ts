// `npm run cluster:up`: the tests' control plane, by hand. Prints the kubeconfig path and stays up
// until interrupted.
import { startControlPlane } from './control-plane.ts';

const plane = await startControlPlane({ log: (line) => console.log(`[cluster:up] ${line}`) });
console.log(
  `\nexport KUBECONFIG=${plane.kubeconfig}\nkubectl binary: ${plane.binDir}/kubectl\n\nCtrl-C stops it.`,
);
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, async () => {
    if (stopping) return;
    stopping = true;
    await plane.stop();
    process.exit(0);
  });
}
