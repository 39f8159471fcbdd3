import { describe, expect, it } from 'vitest';
import { folderCycles, folderGraph, type ImportEdge, importEdges } from '../../support/import-graph.ts';

// The rules of docs/architecture.md's import map, read from the source: where a rule is broken, the
// failure lists the offending imports (file → imported file).

const CONTRACT = 'sidecar/src/contract/';
const CONTRACT_INDEX = `${CONTRACT}index.ts`;

const show = (edges: readonly ImportEdge[]) => edges.map((e) => `${e.from} → ${e.to}`);

describe('the operator/sidecar contract', () => {
  const operatorEdges = importEdges(['operator']);

  it('the operator imports the sidecar only through contract/index.ts', () => {
    const intoSidecar = operatorEdges.filter((e) => e.to.startsWith('sidecar/'));
    // The scan itself works: the operator does render the sidecar's configuration through the contract.
    expect(intoSidecar.some((e) => e.to === CONTRACT_INDEX)).toBe(true);
    expect(show(intoSidecar.filter((e) => e.to !== CONTRACT_INDEX))).toEqual([]);
  });

  it('contract/ imports nothing outside itself (libraries only)', () => {
    const contractEdges = importEdges([CONTRACT]);
    expect(contractEdges.length).toBeGreaterThan(0);
    expect(show(contractEdges.filter((e) => !e.to.startsWith(CONTRACT)))).toEqual([]);
  });
});

describe('operator/src folders', () => {
  it('import each other without cycles', () => {
    const edges = importEdges(['operator/src']).filter((e) => e.to.startsWith('operator/src/'));
    const graph = folderGraph(edges);
    // The scan itself works: the manager wires the per-kind controllers.
    expect(graph.get('operator/src/manager')?.has('operator/src/controller/mcpserver')).toBe(true);
    expect(folderCycles(graph)).toEqual([]);
  });

  it('keep the kinds apart: no controller/<kind> folder imports another one', () => {
    const kindOf = (file: string) => /^operator\/src\/controller\/([^/]+)\//.exec(file)?.[1];
    const across = importEdges(['operator/src/controller']).filter((e) => {
      const [from, to] = [kindOf(e.from), kindOf(e.to)];
      return from !== undefined && to !== undefined && from !== to;
    });
    expect(show(across)).toEqual([]);
  });
});
