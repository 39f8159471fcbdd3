// Builds the cluster binaries the Kubernetes tests run (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, kubectl, kwok, helm; kubelet, kube-proxy and kube-router
// for the real node) from the Go module proxy, with the
// versions pinned by the go.mod files beside this script, into a cache folder keyed by those
// versions. Only what is missing is built. `PORTCULLIS_CLUSTER_BIN` or `KUBEBUILDER_ASSETS` (the
// setup-envtest layout) may name a folder of prebuilt binaries; whatever it holds is used as is.
import { execFile } from 'node:child_process';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cacheDir, exists, lock } from '../support/cache.ts';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));

export type BinaryName =
  | 'etcd'
  | 'kube-apiserver'
  | 'kube-controller-manager'
  | 'kube-scheduler'
  | 'kubectl'
  | 'kwok'
  | 'helm'
  | 'kubelet'
  | 'kube-proxy'
  | 'kube-router';

interface GoModule {
  dir: string; // folder beside this file holding the go.mod
  module: string; // the one required module whose version keys the cache
  binaries: Partial<Record<BinaryName, string>>; // binary -> main package
  ldflags: (version: string) => string[];
}

const kubeVersionFlags = (v: string) => {
  const [major, minor] = v.replace(/^v/, '').split('.');
  return ['k8s.io/component-base/version', 'k8s.io/client-go/pkg/version'].flatMap((pkg) => [
    `-X ${pkg}.gitVersion=${v}`,
    `-X ${pkg}.gitMajor=${major}`,
    `-X ${pkg}.gitMinor=${minor}`,
    `-X ${pkg}.gitTreeState=clean`,
  ]);
};

const MODULES: readonly GoModule[] = [
  {
    dir: 'kubernetes',
    module: 'k8s.io/kubernetes',
    binaries: {
      'kube-apiserver': 'k8s.io/kubernetes/cmd/kube-apiserver',
      'kube-controller-manager': 'k8s.io/kubernetes/cmd/kube-controller-manager',
      'kube-scheduler': 'k8s.io/kubernetes/cmd/kube-scheduler',
      kubectl: 'k8s.io/kubernetes/cmd/kubectl',
      kubelet: 'k8s.io/kubernetes/cmd/kubelet',
      'kube-proxy': 'k8s.io/kubernetes/cmd/kube-proxy',
    },
    ldflags: kubeVersionFlags,
  },
  // etcd and kwok carry their version in source constants already.
  {
    dir: 'etcd',
    module: 'go.etcd.io/etcd/server/v3',
    binaries: { etcd: 'go.etcd.io/etcd/server/v3' },
    ldflags: () => [],
  },
  {
    dir: 'kwok',
    module: 'sigs.k8s.io/kwok',
    binaries: { kwok: 'sigs.k8s.io/kwok/cmd/kwok' },
    ldflags: () => [],
  },
  {
    dir: 'helm',
    module: 'helm.sh/helm/v4',
    binaries: { helm: 'helm.sh/helm/v4/cmd/helm' },
    ldflags: (v) => [`-X helm.sh/helm/v4/internal/version.version=${v}`],
  },
  // The real node's NetworkPolicy firewall (kube-router/go.mod says why this one).
  {
    dir: 'kube-router',
    module: 'github.com/cloudnativelabs/kube-router/v2',
    binaries: { 'kube-router': 'github.com/cloudnativelabs/kube-router/v2/cmd/kube-router' },
    ldflags: (v) => [`-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=${v}`],
  },
];

/** kwok stage definitions (node initialise + lease heartbeat, pod ready/complete/delete), shipped in its module. */
const KWOK_STAGES = [
  'kustomize/stage/node/fast/node-initialize.yaml',
  'kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml',
  'kustomize/stage/pod/fast/pod-ready.yaml',
  'kustomize/stage/pod/fast/pod-complete.yaml',
  'kustomize/stage/pod/fast/pod-delete.yaml',
];

export interface ClusterBinaries {
  dir: string;
  path(name: BinaryName): string;
  kwokStages: string; // path of the kwok stages config
  versions: Record<string, string>;
}

const goEnv = { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' };

/** The version go.mod pins for the module (go.mod is the one source of truth for versions). */
async function requiredVersion(mod: GoModule): Promise<string> {
  const { stdout } = await run('go', ['list', '-m', '-f', '{{.Version}}', mod.module], {
    cwd: join(here, mod.dir),
    env: goEnv,
  });
  return stdout.trim();
}

async function build(
  mod: GoModule,
  version: string,
  names: BinaryName[],
  outDir: string,
  log: (s: string) => void,
) {
  const staging = join(outDir, `.build-${mod.dir}-${process.pid}`);
  await mkdir(staging, { recursive: true });
  const pkgs = names.map((n) => mod.binaries[n] as string);
  const started = Date.now();
  log(`building ${names.join(', ')} (${mod.module} ${version}) ...`);
  try {
    await run(
      'go',
      [
        'build',
        '-trimpath',
        '-ldflags',
        ['-s', '-w', ...mod.ldflags(version)].join(' '),
        '-o',
        `${staging}/`,
        ...pkgs,
      ],
      {
        cwd: join(here, mod.dir),
        env: { ...process.env, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' },
        maxBuffer: 64 << 20,
      },
    );
    // A go build of a package whose last path element is a major version (etcd's server/v3) names the
    // output after the element before it; rename each output to the binary name we want.
    for (const [i, name] of names.entries()) {
      const pkg = pkgs[i] as string;
      const parts = pkg.split('/');
      const last = parts.at(-1) as string;
      const produced = /^v\d+$/.test(last) ? (parts.at(-2) as string) : last;
      await rename(join(staging, produced), join(outDir, name));
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  log(`built ${names.join(', ')} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
}

async function writeKwokStages(outDir: string): Promise<string> {
  const target = join(outDir, 'kwok-stages.yaml');
  if (await exists(target)) return target;
  const { stdout } = await run('go', ['list', '-m', '-f', '{{.Dir}}', 'sigs.k8s.io/kwok'], {
    cwd: join(here, 'kwok'),
    env: goEnv,
  });
  const moduleDir = stdout.trim();
  const docs = await Promise.all(KWOK_STAGES.map((p) => readFile(join(moduleDir, p), 'utf8')));
  await writeFile(`${target}.tmp`, docs.map((d) => d.trim()).join('\n---\n'));
  await rename(`${target}.tmp`, target);
  return target;
}

/** Ensures every binary exists (building what is missing) and returns where they are. */
export async function ensureClusterBinaries(log: (s: string) => void = () => {}): Promise<ClusterBinaries> {
  const versions: Record<string, string> = {};
  for (const mod of MODULES) versions[mod.dir] = await requiredVersion(mod);
  const key = MODULES.map((m) => `${m.dir}-${versions[m.dir]}`).join('_');
  const dir = cacheDir('cluster', key);
  await mkdir(dir, { recursive: true });
  const unlock = await lock(join(dir, '.lock'), log);
  try {
    return await ensureIn(dir, versions, log);
  } finally {
    await unlock();
  }
}

async function ensureIn(
  dir: string,
  versions: Record<string, string>,
  log: (s: string) => void,
): Promise<ClusterBinaries> {
  const prebuilt = process.env.PORTCULLIS_CLUSTER_BIN ?? process.env.KUBEBUILDER_ASSETS;
  const paths = new Map<BinaryName, string>();
  for (const mod of MODULES) {
    const missing: BinaryName[] = [];
    for (const name of Object.keys(mod.binaries) as BinaryName[]) {
      if (prebuilt && (await exists(join(prebuilt, name)))) {
        paths.set(name, join(prebuilt, name));
        log(`using prebuilt ${name} from ${prebuilt}`);
      } else {
        paths.set(name, join(dir, name));
        if (!(await exists(join(dir, name)))) missing.push(name);
      }
    }
    if (missing.length > 0) await build(mod, versions[mod.dir] as string, missing, dir, log);
  }
  const kwokStages = await writeKwokStages(dir);
  return { dir, path: (name) => paths.get(name) as string, kwokStages, versions };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const started = Date.now();
  const bins = await ensureClusterBinaries((s) => console.log(`[cluster:binaries] ${s}`));
  console.log(`[cluster:binaries] ready in ${bins.dir} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
}
