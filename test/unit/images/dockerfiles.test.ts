import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { packageImports } from '../../support/import-graph.ts';

// The facts that matter, read from the Dockerfiles (test/images/build.ts builds and runs them):
// a Node 24 base taken as a build argument, a runtime stage with production dependencies only, a numeric
// non-root user, and an entry point that the build (tsconfig.build.json) actually produces.

const ROOT = new URL('../../../', import.meta.url).pathname;

interface Stage {
  /** The base image with the build arguments' defaults substituted. */
  from: string;
  /** The base image as written. */
  rawFrom: string;
  name: string | undefined;
  lines: string[];
}

function stages(dockerfile: string): { args: Map<string, string>; stages: Stage[] } {
  const args = new Map<string, string>();
  const out: Stage[] = [];
  const text = readFileSync(join(ROOT, dockerfile), 'utf8').replace(/\\\n/g, ' ');
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) {
      const image = (from[1] ?? '').replace(/\$\{(\w+)\}/g, (_m, k: string) => args.get(k) ?? '');
      out.push({ from: image, rawFrom: from[1] ?? '', name: from[2], lines: [] });
      continue;
    }
    const arg = /^ARG\s+(\w+)=(\S+)/i.exec(line);
    if (arg && out.length === 0) args.set(arg[1] ?? '', arg[2] ?? '');
    out.at(-1)?.lines.push(line);
  }
  return { args, stages: out };
}

const images = [
  { file: 'Dockerfile.sidecar', entry: 'dist/sidecar/src/main.js', source: 'sidecar/src/main.ts' },
  { file: 'Dockerfile.operator', entry: 'dist/operator/src/main.js', source: 'operator/src/main.ts' },
];

describe.each(images)('$file', ({ file, entry, source }) => {
  const { args, stages: all } = stages(file);
  const runtime = all.at(-1) as Stage;
  const instr = (s: Stage, keyword: string) =>
    s.lines.filter((l) => l.toUpperCase().startsWith(`${keyword} `));

  // The sidecar's static launcher compiles in a Go stage (GO_IMAGE); every other stage is Node's.
  const goStages = all.filter((s) => s.rawFrom === `\${GO_IMAGE}`);
  const nodeStages = all.filter((s) => !goStages.includes(s));

  it('is multi-stage on Node 24 images', () => {
    expect(nodeStages.length).toBeGreaterThanOrEqual(2);
    for (const s of nodeStages) expect(s.from).toMatch(/^node:24(-|$)/);
    expect(nodeStages).toContain(runtime);
    for (const s of goStages) expect(s.from).toMatch(/^golang:/);
  });

  it('takes its base image as the NODE_IMAGE build argument, the Node 24 image by default', () => {
    // Builds without a registry (test/images/build.ts) pass a local base; every stage must follow it.
    expect(args.get('NODE_IMAGE')).toMatch(/^node:24(-|$)/);
    for (const s of nodeStages) expect(s.rawFrom).toBe(`\${NODE_IMAGE}`);
  });

  it('builds with npm ci and npm run build', () => {
    const build = all.find((s) => s.lines.some((l) => /npm run build/.test(l)));
    expect(build).toBeDefined();
    expect(build?.lines.some((l) => /^RUN npm ci\b/.test(l))).toBe(true);
    expect(build).not.toBe(runtime);
  });

  it('ships production dependencies only', () => {
    expect(instr(runtime, 'RUN')).toEqual([]);
    const modules = instr(runtime, 'COPY').find((l) => /node_modules/.test(l)) ?? '';
    const fromStage = /--from=(\S+)/.exec(modules)?.[1];
    const deps = all.find((s) => s.name === fromStage);
    expect(deps?.lines.some((l) => /npm ci\b.*--omit=dev/.test(l))).toBe(true);
    expect(deps?.lines.some((l) => /npm run build/.test(l))).toBe(false);
    expect(instr(runtime, 'ENV')).toContain('ENV NODE_ENV=production');
  });

  it('runs as a numeric non-root user', () => {
    const users = instr(runtime, 'USER');
    expect(users).toHaveLength(1);
    const [uid, gid] = (users[0] ?? '').slice(5).trim().split(':');
    expect(uid).toMatch(/^\d+$/);
    expect(Number(uid)).toBeGreaterThan(0);
    if (gid !== undefined) expect(gid).toMatch(/^\d+$/);
  });

  it('starts the compiled entry point that tsconfig.build.json produces', () => {
    const entrypoint = instr(runtime, 'ENTRYPOINT')[0] ?? '';
    const argv = JSON.parse(entrypoint.slice('ENTRYPOINT '.length)) as string[];
    expect(argv[0]).toBe('node');
    expect(argv.at(-1)).toBe(entry);
    // Between them only node's own flags (the sidecar's V8 heap settings, docs/performance.md#memory).
    for (const flag of argv.slice(1, -1)) expect(flag).toMatch(/^--[a-z-]+=\w+$/);
    expect(existsSync(join(ROOT, source))).toBe(true);
    const build = JSON.parse(readFileSync(join(ROOT, 'tsconfig.build.json'), 'utf8')) as {
      compilerOptions: { outDir: string; rootDir: string };
      include: string[];
    };
    expect(build.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' });
    expect(build.include.some((dir) => source.startsWith(`${dir}/`))).toBe(true);
  });
});

describe('.dockerignore', () => {
  const lines = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));

  it('sends only the sources the builds need (no node_modules, dist, tests or secrets)', () => {
    expect(lines[0]).toBe('**');
    expect(lines.slice(1).every((l) => l.startsWith('!'))).toBe(true);
    expect(lines.slice(1).some((l) => /node_modules|dist|test|\.env/.test(l))).toBe(false);
  });
});

describe('Dockerfile.operator: the operator with the sidecar contract only', () => {
  const { stages: all } = stages('Dockerfile.operator');
  const build = all.find((s) => s.name === 'build') as Stage;
  const runtime = all.at(-1) as Stage;
  /** A COPY's sources and destination; `from` names the stage it copies out of. */
  const copies = (s: Stage) =>
    s.lines
      .filter((l) => l.toUpperCase().startsWith('COPY '))
      .map((l) => {
        const words = l.split(/\s+/).slice(1);
        const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length);
        const paths = words.filter((w) => !w.startsWith('--'));
        return { from, sources: paths.slice(0, -1), dest: paths.at(-1) as string };
      });

  it('copies only sidecar/src/contract of the sidecar, and ships only its compiled form', () => {
    const sidecarSources = copies(build)
      .flatMap((c) => c.sources)
      .filter((p) => p.startsWith('sidecar'));
    expect(sidecarSources).toEqual(['sidecar/src/contract']);
    const shipped = copies(runtime)
      .filter((c) => c.from === 'build')
      .flatMap((c) => c.sources);
    expect(shipped.filter((p) => p.includes('sidecar'))).toEqual(['/src/dist/sidecar/src/contract']);
  });

  it('installs only the packages the operator and the contract import', () => {
    const deps = all.find((s) => s.name === 'deps') as Stage;
    const arg = deps.lines.map((l) => /^ARG OPERATOR_PACKAGES="([^"]*)"$/.exec(l)?.[1]).find(Boolean) ?? '';
    expect(arg.split(' ').sort()).toEqual(packageImports(['operator/src', 'sidecar/src/contract']));
    const run = deps.lines.find((l) => l.startsWith('RUN npm ci')) ?? '';
    expect(run).toMatch(/\$OPERATOR_PACKAGES\s+&& npm prune --omit=dev\b/);
  });

  /** Runs node in `cwd`; a failure carries the program's output (tsc writes its errors to stdout). */
  const node = (cwd: string, ...args: string[]): string => {
    try {
      return execFileSync(process.execPath, args, { cwd, encoding: 'utf8', stdio: 'pipe' });
    } catch (e) {
      const { stdout, stderr } = e as { stdout?: string; stderr?: string };
      throw new Error(`node ${args.join(' ')} (in ${cwd}) failed:\n${stdout ?? ''}${stderr ?? ''}`);
    }
  };

  it('builds and starts from a tree laid out as the image lays it out', () => {
    // The build stage's context (its COPY lines, into WORKDIR /src), compiled as `npm run build` does,
    // then the runtime stage's COPY --from=build lines into /app; node_modules is the project's own.
    const tmp = mkdtempSync(join(tmpdir(), 'operator-image-'));
    try {
      const layOut = (
        workdir: string,
        from: (source: string) => string,
        stage: Stage,
        stageFrom?: string,
      ) => {
        for (const { from: f, sources, dest } of copies(stage)) {
          if (f !== stageFrom) continue;
          const into = join(workdir, dest);
          for (const source of sources) {
            const target = dest.endsWith('/') ? join(into, basename(source)) : into;
            cpSync(from(source), target, { recursive: true });
          }
        }
      };
      const src = join(tmp, 'src');
      const app = join(tmp, 'app');
      layOut(src, (p) => join(ROOT, p), build);
      symlinkSync(join(ROOT, 'node_modules'), join(src, 'node_modules'));
      node(src, join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json');
      layOut(app, (p) => join(src, p.replace(/^\/src\//, '')), runtime, 'build');
      symlinkSync(join(ROOT, 'node_modules'), join(app, 'node_modules'));

      const entry = runtime.lines.find((l) => l.startsWith('ENTRYPOINT ')) ?? '';
      const entrypoint = JSON.parse(entry.slice('ENTRYPOINT '.length)) as string[];
      const help = node(app, ...entrypoint.slice(1), '--help');
      expect(help).toMatch(/^Usage: /);
      expect(readdirSync(join(app, 'dist/sidecar/src'))).toEqual(['contract']);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);
});
