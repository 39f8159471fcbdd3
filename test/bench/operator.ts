// `npm run bench:operator [-- --servers N --workers W]`: N McpServers (default 1000) on the local
// control plane (or the cluster of $KUBECONFIG). Measures the time until all are Ready, API writes
// per server, writes during a resync of the unchanged cluster (goal: zero) and the operator's
// memory. Prints a table and writes bench-results/operator.json.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { KubeClient } from '../../operator/src/kube/client.ts';
import { loadConnection } from '../../operator/src/kube/connection.ts';
import type { KubeObject } from '../../operator/src/kube/object.ts';
import { Resources } from '../../operator/src/kube/resources.ts';
import { freePort } from '../../sidecar/src/quickstart/everything.ts';
import { startControlPlane } from '../cluster/control-plane.ts';
import { type Child, startChild } from '../support/child-process.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '1000' },
    workers: { type: 'string', default: '32' },
    timeout: { type: 'string', default: '600' },
  },
});
const N = Number(values.servers);
const WORKERS = Number(values.workers);
const TIMEOUT_MS = Number(values.timeout) * 1000;

// The same V8 heap settings as `npm run start:operator` (and the operator's container): without a
// limit V8 sizes the heap for the whole machine and keeps what a burst made it grow to (measured at
// 1000 servers: RSS 279 MiB without, ~175 MiB with; live heap ~60 MiB, so raise the limit for
// clusters with several thousand servers).
const HEAP_FLAGS = ['--max-old-space-size=160', '--max-semi-space-size=4'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const log = (s: string) => process.stderr.write(`[bench:operator] ${s}\n`);

async function pool<T>(items: readonly T[], concurrency: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

async function scrape(port: number): Promise<Map<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    out.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return out;
}

const sum = (m: Map<string, number>, prefix: string, filter: (k: string) => boolean = () => true) =>
  [...m].filter(([k]) => k.startsWith(prefix) && filter(k)).reduce((n, [, v]) => n + v, 0);

async function rssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round((kb / 1024) * 10) / 10;
}

async function main() {
  const plane = process.env.KUBECONFIG ? undefined : await startControlPlane({ log });
  const kubeconfig = plane?.kubeconfig ?? (process.env.KUBECONFIG as string);
  const client = new KubeClient(await loadConnection(kubeconfig));
  let operator: Child | undefined;
  const ns = `bench-${randomBytes(3).toString('hex')}`;
  try {
    for (const file of await readdir(join(ROOT, 'crds'))) {
      for (const doc of parseAllDocuments(await readFile(join(ROOT, 'crds', file), 'utf8'))) {
        await client.apply(doc.toJS() as KubeObject, { fieldManager: 'bench', force: true });
      }
    }
    await sleep(2000); // CRDs become Established
    await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });

    const healthPort = await freePort();
    operator = startChild(
      'operator',
      process.execPath,
      [
        ...HEAP_FLAGS,
        join(ROOT, 'operator/src/main.ts'),
        `--kubeconfig=${kubeconfig}`,
        `--namespaces=${ns}`,
        '--leader-elect=false',
        `--health-addr=127.0.0.1:${healthPort}`,
        `--workers=${WORKERS}`,
        '--sidecar-image=portcullis/sidecar:bench',
        '--resync-seconds=0',
        '--log-level=warn',
      ],
      { stdout: 'ignore', stderr: 'inherit' },
    );
    const pid = operator.pid;
    await operator.waitUntilServing(`http://127.0.0.1:${healthPort}/readyz`, { timeoutMs: 120_000 });

    log(`creating ${N} McpServers in ${ns} ...`);
    const started = performance.now();
    const names = Array.from({ length: N }, (_, i) => `s-${String(i).padStart(4, '0')}`);
    await pool(names, 16, async (name) => {
      await client.create({
        apiVersion: 'portcullis.dev/v1alpha1',
        kind: 'McpServer',
        metadata: {
          name,
          namespace: ns,
          labels: { bench: 'operator', ...(name === names[0] ? { first: 'yes' } : {}) },
        },
        spec: { hosted: { image: 'mcp/everything:latest', transport: 'streamable-http', port: 3001 } },
      });
    });
    const createdS = (performance.now() - started) / 1000;

    let ready = 0;
    let peakRss = 0;
    let reconciledS: number | undefined;
    const elapsed = () => (performance.now() - started) / 1000;
    while (ready < N) {
      if (elapsed() * 1000 > TIMEOUT_MS)
        throw new Error(`only ${ready} of ${N} Ready after ${TIMEOUT_MS / 1000} s`);
      await sleep(1000);
      ready = 0;
      let seen = 0;
      let continueToken: string | undefined;
      do {
        type Server = KubeObject & { status?: { phase?: string } };
        const page = await client.list<Server>(Resources.McpServer, ns, { limit: 500, continueToken });
        ready += page.items.filter((s) => s.status?.phase === 'Ready').length;
        // Every child applied and a first status written: the operator's part is done.
        seen += page.items.filter((s) => s.status?.phase && s.status.phase !== 'Pending').length;
        continueToken = page.metadata.continue || undefined;
      } while (continueToken);
      if (seen === N && reconciledS === undefined) reconciledS = elapsed();
      peakRss = Math.max(peakRss, await rssMiB(pid));
      log(`${ready}/${N} Ready, ${seen} with children, after ${elapsed().toFixed(1)} s`);
    }
    const readyS = (performance.now() - started) / 1000;

    // Let the last status writes and rollouts settle before counting.
    await sleep(5000);
    const settled = await scrape(healthPort);
    const writesOf = (m: Map<string, number>, resource?: string) =>
      sum(m, 'portcullis_operator_api_writes_total', (k) =>
        resource ? k.includes(`resource="${resource}"`) : true,
      );
    const resources = [
      'serviceaccounts',
      'configmaps',
      'deployments',
      'services',
      'networkpolicies',
      'mcpservers',
      'events',
    ];
    const byResource = Object.fromEntries(resources.map((r) => [r, writesOf(settled, r)]));
    const totalWrites = writesOf(settled);
    const reconcilesBefore = sum(settled, 'portcullis_operator_reconciles_total', (k) =>
      k.includes('kind="McpServer"'),
    );

    log('resync of the unchanged cluster (SIGHUP) ...');
    const resyncStarted = performance.now();
    operator.process.kill('SIGHUP'); // not an exit: the operator resyncs
    let after = settled;
    for (;;) {
      await sleep(500);
      after = await scrape(healthPort);
      const reconciles = sum(after, 'portcullis_operator_reconciles_total', (k) =>
        k.includes('kind="McpServer"'),
      );
      const depth = sum(after, 'portcullis_operator_workqueue_depth', (k) => k.includes('kind="McpServer"'));
      if (reconciles - reconcilesBefore >= N && depth === 0) break;
    }
    const resyncS = (performance.now() - resyncStarted) / 1000;
    const resyncWrites = writesOf(after) - totalWrites;
    const rss = await rssMiB(pid);

    // Policy propagation: from the policy's creation to the ConfigMaps carrying its rules (the sidecar
    // sees the file once the kubelet syncs the volume, which kwok does not emulate).
    const propagation = async (policyName: string, matchLabels: Record<string, string>, expected: number) => {
      const t0 = performance.now();
      await client.create({
        apiVersion: 'portcullis.dev/v1alpha1',
        kind: 'McpPolicy',
        metadata: { name: policyName, namespace: ns },
        spec: {
          servers: { matchLabels },
          rules: [{ name: 'r', action: 'allow', subjects: [{ group: 'engineering' }], tools: ['get_*'] }],
        },
      });
      const ref = `"${ns}/${policyName}"`;
      for (;;) {
        let count = 0;
        let continueToken: string | undefined;
        do {
          type Cm = KubeObject & { data?: Record<string, string> };
          const page = await client.list<Cm>(Resources.ConfigMap, ns, {
            labelSelector: 'app.kubernetes.io/managed-by=portcullis',
            limit: 500,
            continueToken,
          });
          count += page.items.filter((c) => Object.values(c.data ?? {}).some((v) => v.includes(ref))).length;
          continueToken = page.metadata.continue || undefined;
        } while (continueToken);
        if (count >= expected) return (performance.now() - t0) / 1000;
        await sleep(100);
      }
    };
    log('policy propagation ...');
    const policyOneS = await propagation('bench-one', { first: 'yes' }, 1);
    const policyAllS = await propagation('bench-all', { bench: 'operator' }, N);
    const heapMiB = Math.round(sum(after, 'portcullis_operator_nodejs_heap_size_used_bytes') / 104857.6) / 10;

    // Mean API request latency by method: the API server's share of the time.
    const meanMs = Object.fromEntries(
      ['GET', 'PATCH', 'POST', 'PUT', 'DELETE']
        .map((m) => {
          const has = (k: string) => k.includes(`method="${m}"`);
          const n = sum(after, 'portcullis_operator_api_request_duration_seconds_count', has);
          const s = sum(after, 'portcullis_operator_api_request_duration_seconds_sum', has);
          return [m, n > 0 ? Math.round((s / n) * 1000) : undefined] as const;
        })
        .filter(([, v]) => v !== undefined),
    );
    const result = {
      servers: N,
      workers: WORKERS,
      createSeconds: Number(createdS.toFixed(1)),
      allChildrenAppliedSeconds: Number((reconciledS ?? readyS).toFixed(1)),
      allReadySeconds: Number(readyS.toFixed(1)),
      apiWritesTotal: totalWrites,
      apiWritesPerServer: Number((totalWrites / N).toFixed(2)),
      apiWritesByResource: byResource,
      apiRequestMeanMs: meanMs,
      policyToConfigMapSeconds: {
        oneServer: Number(policyOneS.toFixed(2)),
        allServers: Number(policyAllS.toFixed(1)),
      },
      resyncSeconds: Number(resyncS.toFixed(1)),
      resyncWrites,
      operatorRssMiB: rss,
      operatorPeakRssMiB: Math.max(peakRss, rss),
      operatorHeapUsedMiB: heapMiB,
      targets: { allReadySeconds: 60, resyncWrites: 0, operatorRssMiB: 200 },
    };
    for (const [k, v] of after)
      if (/heap_size|external_memory|resident|heap_space_size_used/.test(k))
        log(`${k} ${(v / 1048576).toFixed(1)} MiB`);
    console.table({
      McpServers: { value: N },
      'time until every server has its children (s)': { value: result.allChildrenAppliedSeconds },
      'time until all Ready (s)': { value: result.allReadySeconds },
      'API writes per server': { value: result.apiWritesPerServer },
      'writes during resync (goal 0)': { value: resyncWrites },
      'policy -> ConfigMap, 1 server (s)': { value: result.policyToConfigMapSeconds.oneServer },
      [`policy -> ConfigMap, ${N} servers (s)`]: { value: result.policyToConfigMapSeconds.allServers },
      'operator RSS after resync (MiB)': { value: rss },
      'operator peak RSS (MiB)': { value: result.operatorPeakRssMiB },
      'operator JS heap used (MiB)': { value: heapMiB },
    });
    console.table(byResource);
    await mkdir(join(ROOT, 'bench-results'), { recursive: true });
    await writeFile(join(ROOT, 'bench-results/operator.json'), `${JSON.stringify(result, null, 2)}\n`);
    log('wrote bench-results/operator.json');
  } finally {
    await operator?.stop();
    await client.delete(Resources.Namespace, undefined, ns).catch(() => {});
    await client.connection.close();
    await plane?.stop();
  }
}

await main();
