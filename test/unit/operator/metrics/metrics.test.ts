import { describe, expect, it } from 'vitest';
import { createMetrics } from '../../../../operator/src/metrics/metrics.ts';

// The McpServer gauges are read from the operator's cache when Prometheus scrapes: counts by phase,
// and one readiness series per server so that an alert can name the one that stays not Ready.

describe('operator McpServer gauges', () => {
  it('count servers by phase and give each server a 0/1 readiness series and its replicas', async () => {
    const m = createMetrics();
    m.servers = () => [
      { namespace: 'a', name: 'github', phase: 'Ready', replicas: 2 },
      { namespace: 'a', name: 'jira', phase: 'Degraded', replicas: 1 },
      { namespace: 'b', name: 'github', phase: 'Pending', replicas: 1 },
      { namespace: 'b', name: 'wiki', phase: 'Ready', replicas: 0 },
    ];
    const text = await m.registry.metrics();
    expect(text).toContain('portcullis_operator_mcpservers{phase="Ready"} 2');
    expect(text).toContain('portcullis_operator_mcpservers{phase="Degraded"} 1');
    expect(text).toContain('portcullis_operator_mcpservers{phase="Pending"} 1');
    expect(text).toContain('portcullis_operator_mcpserver_ready{server_namespace="a",server="github"} 1');
    expect(text).toContain('portcullis_operator_mcpserver_ready{server_namespace="a",server="jira"} 0');
    expect(text).toContain('portcullis_operator_mcpserver_ready{server_namespace="b",server="github"} 0');
    expect(text).toContain('portcullis_operator_mcpserver_ready{server_namespace="b",server="wiki"} 1');
    expect(text).toContain('portcullis_operator_mcpserver_replicas{server_namespace="a",server="github"} 2');
    expect(text).toContain('portcullis_operator_mcpserver_replicas{server_namespace="b",server="wiki"} 0');
  });

  it('forget a deleted server at the next scrape', async () => {
    const m = createMetrics();
    let servers = [
      { namespace: 'a', name: 'github', phase: 'Ready', replicas: 1 },
      { namespace: 'a', name: 'jira', phase: 'Failed', replicas: 1 },
    ];
    m.servers = () => servers;
    expect(await m.registry.metrics()).toContain('server="jira"');
    servers = servers.slice(0, 1);
    const text = await m.registry.metrics();
    expect(text).not.toContain('server="jira"');
    expect(text).not.toContain('phase="Failed"');
  });

  it('export no server series on a replica that does not lead (empty cache)', async () => {
    const text = await createMetrics().registry.metrics();
    expect(text).not.toMatch(/^portcullis_operator_mcpserver_ready\{/m);
    expect(text).not.toMatch(/^portcullis_operator_mcpservers\{/m);
    expect(text).not.toMatch(/^portcullis_operator_mcpserver_replicas\{/m);
  });
});
