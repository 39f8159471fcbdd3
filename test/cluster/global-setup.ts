// Vitest global setup of the `kube` project: one control plane for every test file in it. Each test
// file works in namespaces of its own.
import type { TestProject } from 'vitest/node';
import { type ControlPlane, startControlPlane } from './control-plane.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    kubeconfig: string;
    kubectl: string;
    helm: string;
    serviceAccountIssuer: string;
    clusterCaCert: string;
  }
}

let plane: ControlPlane | undefined;

export async function setup(project: TestProject) {
  plane = await startControlPlane({ log: (line) => console.log(`[control-plane] ${line}`) });
  project.provide('kubeconfig', plane.kubeconfig);
  project.provide('kubectl', `${plane.binDir}/kubectl`);
  project.provide('helm', `${plane.binDir}/helm`);
  project.provide('serviceAccountIssuer', plane.serviceAccountIssuer);
  project.provide('clusterCaCert', plane.caCert);
}

export async function teardown() {
  await plane?.stop();
}
