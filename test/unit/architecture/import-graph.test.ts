import { describe, expect, it } from 'vitest';
import { importEdges } from '../../support/import-graph.ts';

// The sidecar's import graph, read from the sources: the production entry point reaches nothing of
// the quick start (a development tool that starts a development-only MCP server).

describe('sidecar/src', () => {
  const edges = importEdges(['sidecar/src']);

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
