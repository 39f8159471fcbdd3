// Container images for the real-node tests, built without a registry: a Node 24 base from Debian
// packages (mmdebstrap, the host's apt sources) plus the Node binary the project already installs,
// then the product Dockerfiles FROM it with buildah, each pushed to an oci-archive that containerd
// imports (`ctr -n k8s.io images import --index-name REF FILE`). Every image is cached under
// ~/.cache/portcullis/images by a content hash of its inputs and rebuilt only when they change.
//
// For people: `npm run images:build` prints the references and archives.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readdir, readFile, realpath, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const HERE = fileURLToPath(new URL('.', import.meta.url));

export interface BuiltImage {
  /** The image reference inside the archive (use it as the pod's image with imagePullPolicy Never). */
  ref: string;
  /** An oci-archive file holding exactly this image. */
  archive: string;
}

export type ImageName = 'node' | 'go' | 'sidecar' | 'operator' | 'everything' | 'python';
export type BuiltImages = Record<ImageName, BuiltImage>;

export interface BuildOptions {
  log?: (line: string) => void;
  /** Cache folder; default ~/.cache/portcullis/images (or under XDG_CACHE_HOME). */
  cacheDir?: string;
}

export function imagesCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'portcullis', 'images');
}

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );

/** Debian release of the base, the same one node:24-slim is built on. */
const DEBIAN_SUITE = 'bookworm';

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

/** sha256 over the relative paths and contents of the given files, plus any extra strings. */
async function contentHash(files: string[], extra: string[]): Promise<string> {
  const hash = createHash('sha256');
  for (const e of extra) hash.update(`${e}\0`);
  for (const file of [...files].sort()) {
    hash.update(`${relative(ROOT, file)}\0`);
    hash.update(await readFile(file));
    hash.update('\0');
  }
  return hash.digest('hex').slice(0, 16);
}

/** The build context the Dockerfiles see: the allow-list in .dockerignore, read from the repo. */
async function buildContextFiles(): Promise<string[]> {
  const files = ['package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'].map((f) =>
    join(ROOT, f),
  );
  for (const dir of ['operator/src', 'sidecar/src', 'sidecar/launcher'])
    files.push(...(await filesUnder(join(ROOT, dir))));
  files.push(join(ROOT, '.dockerignore'));
  return files;
}

class Buildah {
  readonly #storage: string;
  readonly #log: (line: string) => void;

  constructor(storage: string, log: (line: string) => void) {
    this.#storage = storage;
    this.#log = log;
  }

  // vfs and chroot isolation: what works on these machines without fuse-overlayfs or user namespaces.
  async run(args: string[], opts: { cwd?: string } = {}): Promise<string> {
    const { stdout } = await run(
      'buildah',
      [
        '--root',
        join(this.#storage, 'root'),
        '--runroot',
        join(this.#storage, 'run'),
        '--storage-driver',
        'vfs',
        ...args,
      ],
      { cwd: opts.cwd, env: { ...process.env, BUILDAH_ISOLATION: 'chroot' }, maxBuffer: 64 << 20 },
    );
    return stdout.trim();
  }

  /**
   * Empties the storage: the archives are the cache, and with vfs every build step is a full copy
   * of its root filesystem (tens of GB after a few builds). Bases load back from their archives.
   */
  async clear(): Promise<void> {
    await this.run(['rm', '--all']);
    await this.run(['rmi', '--all', '--force']);
  }

  async push(ref: string, archive: string): Promise<void> {
    const partial = `${archive}.partial-${process.pid}`;
    await rm(partial, { force: true });
    await this.run(['push', ref, `oci-archive:${partial}:${ref}`]);
    await rename(partial, archive);
    this.#log(`  ${ref} -> ${archive}`);
  }
}

/** The npm that runs this script (the host's), so the base can run the Dockerfiles' `npm ci`. */
async function hostNpmDir(): Promise<string> {
  const cli =
    process.env.npm_execpath ?? (await realpath(join(dirname(process.execPath), 'npm')).catch(() => ''));
  const candidates = [
    cli && join(dirname(cli), '..'),
    '/usr/lib/node_modules/npm',
    '/usr/local/lib/node_modules/npm',
  ];
  for (const dir of candidates) {
    if (dir && (await exists(join(dir, 'bin', 'npm-cli.js')))) return realpath(dir);
  }
  throw new Error('cannot find the npm package to put in the base image (set npm_execpath)');
}

/** The CA files the host's npm and pip are configured with (a TLS-inspecting proxy here), if any. */
async function hostCafile(): Promise<string | undefined> {
  const { stdout } = await run('npm', ['config', 'get', 'cafile']);
  const file = stdout.trim();
  return file && file !== 'null' && file !== 'undefined' && (await exists(file)) ? file : undefined;
}

const CA_SETUP =
  'printf "cafile=/usr/local/etc/build-ca.pem\\n" > /usr/local/etc/npmrc && printf "[global]\\ncert = /usr/local/etc/build-ca.pem\\n" > /etc/pip.conf';
const CLEANUP = 'rm -rf /var/lib/apt/lists/* /var/cache/apt/*';

interface DebianBase {
  name: string;
  /** Debian packages on top of minbase. */
  packages: string[];
  /** Files whose content goes into the image (hashed). */
  inputs: string[];
  /** Facts that change the image but are not files (hashed). */
  facts: string[];
  /** Adds what Debian does not provide, in the working container. */
  finish: (buildah: Buildah, ctr: string) => Promise<void>;
}

/**
 * A base image from Debian packages: mmdebstrap (minbase, the host's apt sources) into a tar, then
 * FROM scratch. Both build tools of the images that follow, npm and pip, reach their registries the
 * way the host does, so the host's CA file goes in as their configured cafile (this local base
 * only; the programs in the images do not read it).
 */
async function debianBase(buildah: Buildah, cache: string, log: (l: string) => void, base: DebianBase) {
  const cafile = await hostCafile();
  const inputs = [...base.inputs, ...(cafile ? [cafile] : [])];
  // The recipe is code: its text is part of the key, so editing this file elsewhere rebuilds nothing.
  const recipe = [DEBIAN_SUITE, ...base.packages, ...base.facts, base.finish.toString(), CA_SETUP, CLEANUP];
  const tag = await contentHash(inputs, recipe);
  const ref = `localhost/portcullis/${base.name}-${tag}`;
  const archive = join(cache, `${base.name.replace(/[:/]/g, '-')}-${tag}.oci.tar`);
  if (await exists(archive)) {
    await ensureLoaded(buildah, ref, archive);
    return { ref, archive };
  }
  log(`building ${ref} from Debian ${DEBIAN_SUITE} minbase ${base.packages.join(' ')}`.trimEnd());
  const rootfs = join(cache, `rootfs-${process.pid}.tar`);
  try {
    // mmdebstrap without a mirror argument uses the host's apt sources.
    const include = base.packages.length > 0 ? [`--include=${base.packages.join(',')}`] : [];
    await run('mmdebstrap', [
      '--quiet',
      '--variant=minbase',
      '--mode=root',
      '--format=tar',
      ...include,
      DEBIAN_SUITE,
      rootfs,
    ]);
    const ctr = await buildah.run(['from', 'scratch']);
    try {
      await buildah.run(['add', ctr, rootfs, '/']);
      if (cafile) {
        await buildah.run(['copy', ctr, cafile, '/usr/local/etc/build-ca.pem']);
        await shell(buildah, ctr, CA_SETUP);
      }
      await base.finish(buildah, ctr);
      await shell(buildah, ctr, CLEANUP);
      await buildah.run(['commit', '--rm', ctr, ref]);
    } catch (err) {
      await buildah.run(['rm', ctr]).catch(() => undefined);
      throw err;
    }
  } finally {
    await rm(rootfs, { force: true });
  }
  await buildah.push(ref, archive);
  return { ref, archive };
}

const shell = (buildah: Buildah, ctr: string, script: string) =>
  buildah.run(['run', ctr, '--', 'sh', '-c', script]);

/** Debian plus the Node 24 binary the project installs (the `node` devDependency) and npm. */
async function nodeBase(buildah: Buildah, cache: string, log: (l: string) => void): Promise<BuiltImage> {
  const nodeBin = join(ROOT, 'node_modules', 'node', 'bin', 'node');
  const npmDir = await hostNpmDir();
  const npmVersion = (JSON.parse(await readFile(join(npmDir, 'package.json'), 'utf8')) as { version: string })
    .version;
  return debianBase(buildah, cache, log, {
    name: 'node:24',
    packages: [],
    inputs: [nodeBin],
    facts: [`npm ${npmVersion}`],
    async finish(b, ctr) {
      await b.run(['copy', '--chmod', '0755', ctr, nodeBin, '/usr/local/bin/node']);
      await b.run(['copy', ctr, npmDir, '/usr/local/lib/node_modules/npm']);
      // The node image's layout and user: npm and npx on PATH, a `node` user with uid 1000.
      await shell(
        b,
        ctr,
        'ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ' +
          'ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && ' +
          'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node && ' +
          'node --version && npm --version',
      );
      await b.run(['config', '--env', 'NODE_VERSION=24', '--cmd', 'node', ctr]);
    },
  });
}

/** Debian's Python 3 with venv and pip, and no Node. */
function pythonBase(buildah: Buildah, cache: string, log: (l: string) => void): Promise<BuiltImage> {
  return debianBase(buildah, cache, log, {
    name: 'python:3',
    packages: ['python3', 'python3-venv'],
    inputs: [],
    facts: [],
    async finish(b, ctr) {
      await b.run(['config', '--cmd', 'python3', ctr]);
    },
  });
}

/**
 * A Go builder from the host's toolchain (GOROOT copied in), for Dockerfile stages `FROM ${GO_IMAGE}`
 * that compile stdlib-only programs: no module downloads, CGO off so the binaries are static.
 */
async function goBuilder(buildah: Buildah, cache: string, log: (l: string) => void): Promise<BuiltImage> {
  const goroot = (await run('go', ['env', 'GOROOT'])).stdout.trim();
  const version = (await run('go', ['env', 'GOVERSION'])).stdout.trim();
  return debianBase(buildah, cache, log, {
    name: `golang:${version.replace(/^go/, '')}`,
    packages: [],
    inputs: [],
    facts: [goroot, version],
    async finish(b, ctr) {
      await b.run(['copy', ctr, goroot, '/usr/local/go']);
      await b.run([
        'config',
        '--env',
        'PATH=/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        '--env',
        'GOTOOLCHAIN=local',
        '--env',
        'CGO_ENABLED=0',
        '--env',
        'GOPROXY=off',
        '--cmd',
        'go',
        ctr,
      ]);
      await shell(b, ctr, 'PATH=/usr/local/go/bin:$PATH go version');
    },
  });
}

/** After a wipe of buildah's storage the archive is still good; load it back for FROM. */
async function ensureLoaded(buildah: Buildah, ref: string, archive: string): Promise<void> {
  const present = await buildah.run(['images', '--quiet', '--filter', `reference=${ref}`]).catch(() => '');
  if (present === '') await buildah.run(['pull', '--quiet', `oci-archive:${archive}`]);
}

interface Build {
  name: string;
  containerfile: string;
  context: string;
  /** Everything the build reads from its context (hashed with the Containerfile and build args). */
  inputs: string[];
  buildArgs: Record<string, string>;
}

async function buildContainerfile(
  buildah: Buildah,
  cache: string,
  log: (l: string) => void,
  build: Build,
): Promise<BuiltImage> {
  const args = Object.entries(build.buildArgs).map(([k, v]) => `${k}=${v}`);
  const tag = await contentHash([build.containerfile, ...build.inputs], args);
  const ref = `localhost/portcullis/${build.name}:${tag}`;
  const archive = join(cache, `${build.name}-${tag}.oci.tar`);
  if (await exists(archive)) return { ref, archive };
  log(`building ${ref} from ${relative(ROOT, build.containerfile)}`);
  await buildah.run(
    [
      'bud',
      '--layers',
      '--pull=false',
      '-f',
      build.containerfile,
      ...args.flatMap((a) => ['--build-arg', a]),
      '-t',
      ref,
      '.',
    ],
    { cwd: build.context },
  );
  await buildah.push(ref, archive);
  return { ref, archive };
}

/** The image's ENTRYPOINT, for runtimes (like ctr run) whose arguments replace it rather than follow it. */
export async function imageEntrypoint(image: BuiltImage): Promise<string[]> {
  // Read from the archive (index -> manifest -> config): buildah's storage is emptied after builds.
  const read = async (path: string) =>
    JSON.parse((await run('tar', ['-xOf', image.archive, path], { maxBuffer: 16 << 20 })).stdout) as {
      manifests?: { digest: string }[];
      config?: { digest?: string; Entrypoint?: string[] | null };
    };
  const blob = (digest = '') => `blobs/${digest.replace(':', '/')}`;
  const index = await read('index.json');
  const manifest = await read(blob(index.manifests?.[0]?.digest));
  const config = await read(blob(manifest.config?.digest));
  return config.config?.Entrypoint ?? [];
}

/** Builds (or finds in the cache) every image the real-node tests run. */
export async function buildImages(opts: BuildOptions = {}): Promise<BuiltImages> {
  const log = opts.log ?? (() => undefined);
  const cache = opts.cacheDir ?? imagesCacheDir();
  await mkdir(cache, { recursive: true });
  const buildah = new Buildah(join(cache, 'storage'), log);
  const node = await nodeBase(buildah, cache, log);
  const go = await goBuilder(buildah, cache, log);
  const context = await buildContextFiles();
  const product = (name: 'sidecar' | 'operator') =>
    buildContainerfile(buildah, cache, log, {
      name,
      containerfile: join(ROOT, `Dockerfile.${name}`),
      context: ROOT,
      inputs: context,
      // GO_IMAGE: for the sidecar's static launcher stage; a Dockerfile without one ignores it.
      buildArgs: { NODE_IMAGE: node.ref, GO_IMAGE: go.ref },
    });
  const sidecar = await product('sidecar');
  const operator = await product('operator');
  const pkg = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
  };
  const everything = await buildContainerfile(buildah, cache, log, {
    name: 'everything',
    containerfile: join(HERE, 'everything.Containerfile'),
    context: HERE,
    inputs: [],
    buildArgs: {
      NODE_IMAGE: node.ref,
      EVERYTHING_VERSION: pkg.devDependencies['@modelcontextprotocol/server-everything'] ?? '',
    },
  });
  const python = await buildContainerfile(buildah, cache, log, {
    name: 'python-mcp',
    containerfile: join(HERE, 'python.Containerfile'),
    context: join(HERE, 'python'),
    inputs: await filesUnder(join(HERE, 'python')),
    buildArgs: { PYTHON_IMAGE: (await pythonBase(buildah, cache, log)).ref },
  });
  await buildah.clear();
  return { node, go, sidecar, operator, everything, python };
}

if (process.argv[1] && (await realpath(process.argv[1])) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const images = await buildImages({ log: (l) => process.stderr.write(`${l}\n`) });
  process.stderr.write(`images ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  process.stdout.write(`${JSON.stringify(images, null, 2)}\n`);
}
