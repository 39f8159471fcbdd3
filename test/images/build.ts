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

export interface BuiltImage {
  /** The image reference inside the archive (use it as the pod's image with imagePullPolicy Never). */
  ref: string;
  /** An oci-archive file holding exactly this image. */
  archive: string;
}

export type ImageName = 'node' | 'sidecar' | 'operator';
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
  for (const dir of ['operator/src', 'sidecar/src']) files.push(...(await filesUnder(join(ROOT, dir))));
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

async function buildNodeBase(buildah: Buildah, cache: string, log: (l: string) => void): Promise<BuiltImage> {
  const nodeBin = join(ROOT, 'node_modules', 'node', 'bin', 'node');
  const npmDir = await hostNpmDir();
  const npmVersion = (JSON.parse(await readFile(join(npmDir, 'package.json'), 'utf8')) as { version: string })
    .version;
  const tag = await contentHash(
    [nodeBin, fileURLToPath(import.meta.url)],
    [DEBIAN_SUITE, `npm ${npmVersion}`],
  );
  const ref = `localhost/portcullis/node:24-${tag}`;
  const archive = join(cache, `node-${tag}.oci.tar`);
  if (await exists(archive)) {
    await ensureLoaded(buildah, ref, archive);
    return { ref, archive };
  }
  log(`building ${ref} (Debian ${DEBIAN_SUITE} minbase, node from node_modules, npm ${npmVersion})`);
  const rootfs = join(cache, `rootfs-${DEBIAN_SUITE}-${process.pid}.tar`);
  try {
    // mmdebstrap without a mirror argument uses the host's apt sources.
    await run('mmdebstrap', [
      '--quiet',
      '--variant=minbase',
      '--mode=root',
      '--format=tar',
      DEBIAN_SUITE,
      rootfs,
    ]);
    const ctr = await buildah.run(['from', 'scratch']);
    try {
      await buildah.run(['add', ctr, rootfs, '/']);
      await buildah.run(['copy', '--chmod', '0755', ctr, nodeBin, '/usr/local/bin/node']);
      await buildah.run(['copy', ctr, npmDir, '/usr/local/lib/node_modules/npm']);
      await buildah.run([
        'run',
        ctr,
        '--',
        'sh',
        '-c',
        // The same layout and user as the node image: npm on PATH, a `node` user, no apt lists.
        'ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ' +
          'ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx && ' +
          'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node && ' +
          'rm -rf /var/lib/apt/lists/* /var/cache/apt/* && node --version && npm --version',
      ]);
      await buildah.run(['config', '--env', 'NODE_VERSION=24', '--cmd', 'node', ctr]);
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

/** After a cache wipe of buildah's storage the archive is still good; load it back for FROM. */
async function ensureLoaded(buildah: Buildah, ref: string, archive: string): Promise<void> {
  const present = await buildah.run(['images', '--quiet', '--filter', `reference=${ref}`]).catch(() => '');
  if (present === '') await buildah.run(['pull', '--quiet', `oci-archive:${archive}`]);
}

async function buildDockerfile(
  buildah: Buildah,
  cache: string,
  name: 'sidecar' | 'operator',
  base: BuiltImage,
  log: (l: string) => void,
): Promise<BuiltImage> {
  const dockerfile = join(ROOT, `Dockerfile.${name}`);
  const tag = await contentHash([dockerfile, ...(await buildContextFiles())], [base.ref]);
  const ref = `localhost/portcullis/${name}:${tag}`;
  const archive = join(cache, `${name}-${tag}.oci.tar`);
  if (await exists(archive)) return { ref, archive };
  log(`building ${ref} from Dockerfile.${name}`);
  await buildah.run(
    [
      'bud',
      '--layers',
      '--pull=false',
      '-f',
      dockerfile,
      '--build-arg',
      `NODE_IMAGE=${base.ref}`,
      '-t',
      ref,
      '.',
    ],
    { cwd: ROOT },
  );
  await buildah.push(ref, archive);
  return { ref, archive };
}

/** Builds (or finds in the cache) every image the real-node tests run. */
export async function buildImages(opts: BuildOptions = {}): Promise<BuiltImages> {
  const log = opts.log ?? (() => undefined);
  const cache = opts.cacheDir ?? imagesCacheDir();
  await mkdir(cache, { recursive: true });
  const buildah = new Buildah(join(cache, 'storage'), log);
  const node = await buildNodeBase(buildah, cache, log);
  const sidecar = await buildDockerfile(buildah, cache, 'sidecar', node, log);
  const operator = await buildDockerfile(buildah, cache, 'operator', node, log);
  return { node, sidecar, operator };
}

if (process.argv[1] && (await realpath(process.argv[1])) === fileURLToPath(import.meta.url)) {
  const started = Date.now();
  const images = await buildImages({ log: (l) => process.stderr.write(`${l}\n`) });
  process.stderr.write(`images ready in ${((Date.now() - started) / 1000).toFixed(1)}s\n`);
  process.stdout.write(`${JSON.stringify(images, null, 2)}\n`);
}
