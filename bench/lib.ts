/**
 * Shared helpers of the benchmark suite (bench/run.ts and its child processes): starting a
 * `parley serve` on a fresh database, talking to its API, child processes that report over IPC,
 * RSS sampling and percentiles.
 */
import { type ChildProcess, execFile, execFileSync, fork, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const MAIN = join(ROOT, 'src/cli/main.ts');
export const BENCH = join(ROOT, 'bench');
const run = promisify(execFile);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const address = srv.address();
  if (!address || typeof address !== 'object') throw new Error('no port');
  srv.close();
  await once(srv, 'close');
  return address.port;
}

/** Nearest-rank percentile of `values` (sorted in place when `sorted` is false). */
export function percentile(values: Float64Array | number[], p: number, sorted = false): number {
  if (values.length === 0) return Number.NaN;
  if (!sorted) values.sort((a, b) => a - b);
  const rank = Math.min(values.length - 1, Math.max(0, Math.ceil((p / 100) * values.length) - 1));
  return values[rank]!;
}

/** Resident set size of a process in MiB, from /proc (null once it has exited). */
export function rssMiB(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return null;
  }
}

/** Samples a process's RSS every `everyMs` until stopped; returns the samples and the maximum. */
export function sampleRss(pid: number, everyMs = 200) {
  const samples: number[] = [];
  const take = () => {
    const r = rssMiB(pid);
    if (r) samples.push(r.rss);
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { samples: samples.length, max: Math.max(...samples), last: samples.at(-1) ?? Number.NaN };
    },
  };
}

/** CPU time (user + system) a process has used so far, in ms (null once it has exited). */
export function cpuMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}
const CLOCK_TICKS = 100;

/** CPU time used between start() and stop() by what `readMs` counts (ms so far), and the wall time. */
export function msMeter(readMs: () => number) {
  let t0 = 0;
  let c0 = 0;
  return {
    start() {
      t0 = performance.now();
      c0 = readMs();
    },
    stop(): { ms: number; wallMs: number } {
      return { ms: readMs() - c0, wallMs: performance.now() - t0 };
    },
  };
}

/** Measures the CPU use (% of one core) of a process, or the sum of several, between start() and stop(). */
export function cpuMeter(pid: number | number[]) {
  const pids = typeof pid === 'number' ? [pid] : pid;
  const meter = msMeter(() => pids.reduce((sum, p) => sum + (cpuMs(p) ?? 0), 0));
  return {
    start: meter.start,
    stop(): number {
      const { ms, wallMs } = meter.stop();
      return wallMs > 0 ? Math.round((ms / wallMs) * 100) : Number.NaN;
    },
  };
}

function cpuTimes(): { idle: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  return { idle, total: v.reduce((a, b) => a + b, 0) };
}

/**
 * How much of the machine (% of all cores) processes other than `pids` used between start()
 * and stop(): other work on a shared machine takes CPU from the server and the load generator
 * and lowers every figure, so each measured window says how much there was. `servicesMs`: the
 * CPU time of the run's own services (the throwaway PostgreSQL and Redis), not counted as others.
 */
export function othersMeter(pids: () => number[], servicesMs: () => number = () => 0) {
  let m0 = cpuTimes();
  let mine0 = 0;
  const mine = () => pids().reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), servicesMs());
  return {
    start() {
      m0 = cpuTimes();
      mine0 = mine();
    },
    stop(): number {
      const m = cpuTimes();
      const total = m.total - m0.total;
      if (total <= 0) return 0;
      const busyMs = ((total - (m.idle - m0.idle)) * 1000) / CLOCK_TICKS;
      const totalMs = (total * 1000) / CLOCK_TICKS;
      return Math.max(0, Math.round(((busyMs - (mine() - mine0)) / totalMs) * 100));
    },
  };
}

/** The machine's CPU use (all cores, % of the whole machine) over `ms`. */
export async function machineBusy(ms = 1000): Promise<number> {
  const a = cpuTimes();
  await sleep(ms);
  const b = cpuTimes();
  const total = b.total - a.total;
  return total > 0 ? (1 - (b.idle - a.idle) / total) * 100 : 0;
}

/**
 * Waits (at most `maxMs`) until the machine is quiet: other processes (tests, other loads)
 * share these cores and would lower every figure. Returns the last busy % and the wait.
 */
export async function waitQuiet(
  maxMs: number,
  quietPct = 10,
): Promise<{ busyPct: number; waitedMs: number }> {
  const start = Date.now();
  for (;;) {
    const busyPct = await machineBusy(1000);
    if (busyPct < quietPct || Date.now() - start >= maxMs) {
      return { busyPct: Math.round(busyPct), waitedMs: Date.now() - start };
    }
  }
}

/** Runs one `parley` CLI command on `env` and returns its stdout. */
export async function parleyCli(env: NodeJS.ProcessEnv, args: string[]): Promise<string> {
  const r = await run(process.execPath, [MAIN, ...args], { cwd: ROOT, env, timeout: 60_000 });
  return r.stdout;
}

/** `parley org create` on a fresh database: the org, its owner and a full-scope owner token. */
export async function createOrgCli(
  env: NodeJS.ProcessEnv,
  slug: string,
): Promise<{ orgId: string; ownerId: string; token: string }> {
  const out = await parleyCli(env, [
    'org',
    'create',
    '--slug',
    slug,
    '--name',
    `Bench ${slug}`,
    '--owner-name',
    'Bench Owner',
    '--owner-email',
    `owner@${slug}.example`,
  ]);
  const orgId = /^org \S+ \(id (\d+)\)$/m.exec(out)?.[1];
  const ownerId = /^owner \S+ \(actor id (\d+)\)$/m.exec(out)?.[1];
  const token = /^token (\S+)$/m.exec(out)?.[1];
  if (!orgId || !ownerId || !token) throw new Error(`unexpected output of parley org create:\n${out}`);
  return { orgId, ownerId, token };
}

export interface Server {
  url: string;
  pid: number;
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

async function waitHealthy(child: ChildProcess, url: string, log: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${url}: exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${log()}`,
      );
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(100);
  }
  child.kill('SIGKILL');
  throw new Error(`${url}: not healthy after ${timeoutMs} ms:\n${log()}`);
}

/**
 * With --pin (PARLEY_BENCH_PIN=1): servers run on CPU 0, load generators on CPU 1, every
 * thread of theirs included (`taskset -a`), so neither takes the other's core.
 */
export function pin(pid: number | undefined, cpu: 0 | 1): void {
  if (!process.env.PARLEY_BENCH_PIN || !pid) return;
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

/** A started child process as a Server: its output kept (the last 20 kB), stop() = SIGTERM, then SIGKILL. */
export function track(child: ChildProcess, url: string): Server {
  pin(child.pid, 0);
  let log = '';
  const append = (chunk: string) => {
    log = (log + chunk).slice(-20_000);
  };
  child.stdout?.setEncoding('utf8').on('data', append);
  child.stderr?.setEncoding('utf8').on('data', append);
  return {
    url,
    pid: child.pid!,
    child,
    log: () => log,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Starts `parley serve` on `sqlitePath` (a fresh database unless the file exists) on a free
 * loopback port, LOG_LEVEL=warn, and waits (bounded) until /healthz answers.
 */
export async function startParley(opts: {
  sqlitePath: string;
  /** Open the inspector on a loopback port (for CPU profiles of a chosen window). */
  inspect?: boolean | undefined;
  /** A command the server runs under (bench/diag-commits.ts: strace); pid is then the wrapper's. */
  wrap?: string[];
  env?: NodeJS.ProcessEnv;
}): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const execArgv = opts.inspect ? ['--inspect=127.0.0.1:0'] : [];
  const [command, ...prefix] = [...(opts.wrap ?? []), process.execPath];
  const child = spawn(command!, [...prefix, ...execArgv, MAIN, 'serve'], {
    cwd: ROOT,
    env: {
      ...parleyEnv(opts.sqlitePath),
      ...opts.env,
      PORT: String(port),
      HOST: '127.0.0.1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = track(child, url);
  await waitHealthy(child, url, server.log, 30_000);
  return server;
}

/** The environment of a Parley process on the embedded SQLite file at `sqlitePath`. */
export function parleyEnv(sqlitePath: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  return { ...env, SQLITE_PATH: sqlitePath, LOG_LEVEL: 'warn' };
}

/** Starts one of the baseline servers (bench/bare-server.ts, bench/relay-server.ts). */
export async function startBaseline(script: string, args: string[] = []): Promise<Server> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [join(BENCH, script), String(port), ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const server = track(child, url);
  await waitHealthy(child, url, server.log, 15_000);
  return server;
}

/** A JSON call to the API; throws with the body on an unexpected status. */
export async function api<T = any>(
  url: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
  expect: number[] = [200, 201],
): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!expect.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${text.slice(0, 500)}`);
  return (text ? JSON.parse(text) : null) as T;
}

/** Raises the org's native rate limit so it never interferes with the load (checks the answer). */
export async function liftRateLimit(url: string, adminToken: string): Promise<void> {
  const policy = await api(url, adminToken, 'PUT', '/v1/rate-limits/native', {
    points: 1_000_000,
    duration_s: 1,
    block_s: 0,
  });
  if (policy?.points !== 1_000_000 || policy?.duration_s !== 1 || policy?.block_s !== 0) {
    throw new Error(`PUT /v1/rate-limits/native answered ${JSON.stringify(policy)}`);
  }
}

/** Runs `fn` over `items` with at most `concurrency` at a time. */
export async function pool<T, R>(items: T[], concurrency: number, fn: (item: T, i: number) => Promise<R>) {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/**
 * A child process (a load generator or a setup script) that takes its input over IPC and
 * reports with `{type: 'result'}` (or `{type: 'error'}`); other messages go to `onMessage`.
 */
export function forkChild(script: string, onMessage: (msg: any) => void = () => undefined) {
  const child = fork(join(BENCH, script), [], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  pin(child.pid, 1);
  const result = new Promise<any>((resolve, reject) => {
    child.on('message', (msg: any) => {
      if (msg?.type === 'result') resolve(msg.result);
      else if (msg?.type === 'error') reject(new Error(`${script}: ${msg.message}`));
      else onMessage(msg);
    });
    child.on('exit', (code, signal) =>
      reject(new Error(`${script} exited (${code ?? signal}) without a result`)),
    );
  });
  return { child, result, send: (msg: unknown) => child.send(msg as any) };
}

/** In a child: the first message from the parent (the input). */
export function input<T>(): Promise<T> {
  return new Promise((resolve) => process.once('message', (msg) => resolve(msg as T)));
}

/** In a child: runs `main` on the parent's input and reports its result (or error), then exits. */
export function childMain<I, R>(main: (input: I) => Promise<R>): void {
  input<I>()
    .then(main)
    .then(
      (result) => process.send!({ type: 'result', result }, () => process.exit(0)),
      (err: unknown) =>
        process.send!(
          { type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) },
          () => process.exit(1),
        ),
    );
}

/**
 * The V8 CPU profiler of a process started with `--inspect=127.0.0.1:0`, over the inspector
 * protocol: profiles exactly the window between start() and stop() (the measured load), not
 * the start-up and setup that `--cpu-prof` would include.
 */
export async function cpuProfiler(server: Server, samplingUs = 250) {
  const wsUrl = /Debugger listening on (ws:\/\/127\.0\.0\.1:\d+\/\S+)/.exec(server.log())?.[1];
  if (!wsUrl) throw new Error(`no inspector URL in the server's output:\n${server.log().slice(0, 500)}`);
  const { default: WebSocket } = await import('ws');
  const ws = new WebSocket(wsUrl);
  await once(ws, 'open');
  let nextId = 0;
  const pending = new Map<number, (m: any) => void>();
  ws.on('message', (data) => {
    const m = JSON.parse(data.toString());
    pending.get(m.id)?.(m);
    pending.delete(m.id);
  });
  const call = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<any>((resolve, reject) => {
      const id = ++nextId;
      pending.set(id, (m) =>
        m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result),
      );
      ws.send(JSON.stringify({ id, method, params }));
    });
  await call('Profiler.enable');
  await call('Profiler.setSamplingInterval', { interval: samplingUs });
  return {
    start: () => call('Profiler.start'),
    async stop(file: string): Promise<string> {
      const { profile } = await call('Profiler.stop');
      writeFileSync(file, JSON.stringify(profile));
      ws.close();
      return file;
    },
  };
}

export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
