import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

// The repository's import graph, read from the source text, for the architecture tests: which file imports
// which, which folder depends on which, and the folder cycles. The code base uses only static
// `import … from`, `export … from` and `import('…')` with literal relative specifiers, so a scan of the text
// finds every edge; no TypeScript compiler API is needed (TypeScript 7 ships none for Node).

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]+)['"]/gm;

export const REPO_ROOT = resolve(import.meta.dirname, '../..');

export interface ImportEdge {
  /** Importing file, relative to the repository root. */
  from: string;
  /** Imported file, relative to the repository root. */
  to: string;
}

/** Every `.ts` file under `dir` (relative to the repository root), recursively. */
export function sourceFiles(dir: string): string[] {
  const entries = readdirSync(join(REPO_ROOT, dir), { withFileTypes: true, recursive: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(REPO_ROOT, join(e.parentPath, e.name)))
    .sort();
}

/** The relative imports of each file under `dirs`. */
export function importEdges(dirs: readonly string[]): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of dirs.flatMap(sourceFiles)) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8');
    for (const match of text.matchAll(SPECIFIER)) {
      const target = resolve(REPO_ROOT, dirname(file), match[1] as string);
      edges.push({ from: file, to: relative(REPO_ROOT, target) });
    }
  }
  return edges;
}

/** Folder-level dependencies: folder → folders its files import from (a folder's own files excluded). */
export function folderGraph(edges: readonly ImportEdge[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of edges) {
    const a = dirname(from);
    const b = dirname(to);
    if (a === b) continue;
    const targets = graph.get(a) ?? new Set<string>();
    targets.add(b);
    graph.set(a, targets);
  }
  return graph;
}

/** Groups of folders that import each other, directly or around a loop (Tarjan's strongly connected components). */
export function folderCycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, index.size);
    low.set(v, index.get(v) as number);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) as number, low.get(w) as number));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) as number, index.get(w) as number));
      }
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop() as string;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

// Type-only imports are erased by the compiler, so they need no package at run time.
const TYPE_ONLY = /^\s*(?:import|export)\s+type\s[^;]*;/gm;
const PACKAGE_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+)['"]([^.'"][^'"]*)['"]/gm;

/** npm packages the files under `dirs` import, by package name (`node:` builtins aside), sorted. */
export function packageImports(dirs: readonly string[]): string[] {
  const names = new Set<string>();
  for (const file of dirs.flatMap(sourceFiles)) {
    const text = readFileSync(join(REPO_ROOT, file), 'utf8').replace(TYPE_ONLY, '');
    for (const match of text.matchAll(PACKAGE_SPECIFIER)) {
      const specifier = match[1] as string;
      if (specifier.startsWith('node:')) continue;
      const parts = specifier.split('/');
      names.add(specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string));
    }
  }
  return [...names].sort();
}
