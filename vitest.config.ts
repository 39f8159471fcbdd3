import { defineConfig } from 'vitest/config';

// Four projects: pure unit tests; integration tests with real MCP servers, identity providers and
// sinks but no Kubernetes; tests against the real local control plane, started once for all of
// them by the global setup; and real containers (kubelet: root only, `npm run test:kubelet`, not
// part of `npm test`; test/run.sh runs it).
export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: 'kube',
          include: ['test/kube/**/*.test.ts'],
          globalSetup: ['test/cluster/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        // Real containers: images built from the Dockerfiles (test/images/build.ts), run under
        // containerd and, with the real-node tier, a kubelet. Needs root, buildah and containerd.
        test: {
          name: 'kubelet',
          include: ['test/kubelet/**/*.test.ts'],
          // One real node per machine: its address and pod range are fixed, so files take turns.
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 1_800_000,
        },
      },
    ],
  },
});
