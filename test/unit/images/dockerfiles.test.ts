import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

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

  it('is multi-stage on Node 24 images', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const s of all) expect(s.from).toMatch(/^node:24(-|$)/);
  });

  it('takes its base image as the NODE_IMAGE build argument, the Node 24 image by default', () => {
    // Builds without a registry (test/images/build.ts) pass a local base; every stage must follow it.
    expect(args.get('NODE_IMAGE')).toMatch(/^node:24(-|$)/);
    for (const s of all) expect(s.rawFrom).toBe(`\${NODE_IMAGE}`);
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
    expect(JSON.parse(entrypoint.slice('ENTRYPOINT '.length))).toEqual(['node', entry]);
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
