/**
 * The HTTP load generator (a child process of bench/run.ts): autocannon with `connections`
 * keep-alive connections for `durationS` seconds after an unmeasured warm-up of `warmupS`.
 * Connection i sends requests[i % requests.length] over and over. Latencies are recorded
 * from autocannon's per-response timings (microsecond resolution; autocannon's own histogram
 * rounds to whole milliseconds), and only 2xx answers count. With `urls` (several nodes of one
 * cluster), the connections are split evenly between them, one autocannon instance each, in this
 * one process, and the figures are of all of them together.
 */
import autocannon from 'autocannon';
import { childMain, percentile, round } from './lib.ts';

export interface HttpLoadInput {
  url: string;
  /** Several servers: the connections are split between them (`url` is then not used). */
  urls?: string[];
  connections: number;
  durationS: number;
  warmupS: number;
  requests: { method: string; path: string; headers?: Record<string, string>; body?: string }[];
}

export interface HttpLoadResult {
  connections: number;
  durationS: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  statusCodes: Record<string, number>;
  /** 2xx answers per second. */
  rps: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
  /** CPU use of this load generator during the measured run (% of one core). */
  loadCpuPct: number;
  /** CPU use of the server during the measured run (% of one core), filled in by bench/run.ts. */
  serverCpuPct: number;
}

function runOnce(input: HttpLoadInput, durationS: number, onLatency?: (ms: number, status: number) => void) {
  const urls = input.urls ?? [input.url];
  return Promise.all(
    urls.map((url, u) =>
      runOne(
        {
          ...input,
          url,
          connections:
            Math.floor(input.connections / urls.length) + (u === 0 ? input.connections % urls.length : 0),
        },
        durationS,
        onLatency,
      ),
    ),
  ).then((results) =>
    results.length === 1
      ? results[0]
      : {
          duration: Math.max(...results.map((r) => r.duration)),
          '2xx': sum(results, (r) => r['2xx']),
          non2xx: sum(results, (r) => r.non2xx),
          errors: sum(results, (r) => r.errors),
          timeouts: sum(results, (r) => r.timeouts),
          statusCodeStats: results.reduce(
            (all, r) => {
              for (const [code, st] of Object.entries(r.statusCodeStats ?? {}))
                all[code] = { count: (all[code]?.count ?? 0) + (st as { count: number }).count };
              return all;
            },
            {} as Record<string, { count: number }>,
          ),
        },
  );
}

const sum = (results: any[], f: (r: any) => number) => results.reduce((a, r) => a + f(r), 0);

function runOne(input: HttpLoadInput, durationS: number, onLatency?: (ms: number, status: number) => void) {
  return new Promise<any>((resolve, reject) => {
    let i = 0;
    const instance = autocannon(
      {
        url: input.url,
        connections: input.connections,
        duration: durationS,
        timeout: 10,
        setupClient: (client: any) => {
          const r = input.requests[i++ % input.requests.length]!;
          client.setRequests([{ method: r.method, path: r.path, headers: r.headers, body: r.body }]);
        },
      },
      (err: unknown, result: any) => (err ? reject(err) : resolve(result)),
    );
    if (onLatency) {
      instance.on('response', (_client: unknown, status: number, _bytes: number, ms: number) =>
        onLatency(ms, status),
      );
    }
  });
}

async function main(input: HttpLoadInput): Promise<HttpLoadResult> {
  if (input.warmupS > 0) await runOnce(input, input.warmupS);
  process.send!({ type: 'measuring' });
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  const cpu0 = process.cpuUsage();
  const result = await runOnce(input, input.durationS, (ms, status) => {
    if (status < 200 || status > 299) return;
    if (n === latencies.length) {
      const bigger = new Float64Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[n++] = ms;
  });
  const cpu = process.cpuUsage(cpu0);
  const sorted = latencies.subarray(0, n).sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const statusCodes: Record<string, number> = {};
  for (const [code, s] of Object.entries(result.statusCodeStats ?? {}))
    statusCodes[code] = (s as { count: number }).count;
  return {
    connections: input.connections,
    durationS: result.duration,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCodes,
    rps: round(result['2xx'] / result.duration, 0),
    p50: round(percentile(sorted, 50, true), 2),
    p90: round(percentile(sorted, 90, true), 2),
    p99: round(percentile(sorted, 99, true), 2),
    max: round(sorted[n - 1] ?? Number.NaN, 2),
    mean: round(sum / n, 2),
    loadCpuPct: Math.round(((cpu.user + cpu.system) / 1000 / (result.duration * 1000)) * 100),
    serverCpuPct: Number.NaN,
  };
}

childMain(main);
