import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importEdges } from '../../support/import-graph.ts';

// The sidecar's import graph, read from the sources: its folders import each other one way only
// (docs/architecture.md draws the map), the domain folders never reach up into the pipeline or what
// assembles it, and the production entry point reaches nothing of the quick start (a development
// tool that starts a development-only MCP server).

describe('sidecar/src', () => {
  const edges = importEdges(['sidecar/src']).filter((e) => e.to.startsWith('sidecar/src/'));
  /** What assembles the parts, in the order it may import itself: each only from those before it. */
  const ASSEMBLY = ['sidecar/src/pipeline', 'sidecar/src/server', 'sidecar/src', 'sidecar/src/quickstart'];

  it('no domain folder imports the pipeline, the servers or an entry point', () => {
    const upward = edges
      .filter(({ from, to }) => !ASSEMBLY.includes(dirname(from)) && ASSEMBLY.includes(dirname(to)))
      .map(({ from, to }) => `${from} -> ${to}`);
    expect(upward).toEqual([]);
  });

  it('the assembly runs pipeline, servers, entry point, quick start: none imports one after it', () => {
    const backward = edges
      .filter(({ from, to }) => {
        const [a, b] = [ASSEMBLY.indexOf(dirname(from)), ASSEMBLY.indexOf(dirname(to))];
        return a >= 0 && b >= 0 && b > a;
      })
      .map(({ from, to }) => `${from} -> ${to}`);
    expect(backward).toEqual([]);
  });

  it('main.ts reaches no module of the quick start, directly or through others', () => {
    const reached = new Set(['sidecar/src/main.ts']);
    const queue = ['sidecar/src/main.ts'];
    for (let file = queue.pop(); file !== undefined; file = queue.pop())
      for (const { from, to } of edges)
        if (from === file && !reached.has(to)) {
          reached.add(to);
          queue.push(to);
        }
    expect(reached.size).toBeGreaterThan(20);
    expect([...reached].filter((f) => f.startsWith('sidecar/src/quickstart/'))).toEqual([]);
  });
});
