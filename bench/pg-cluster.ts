/**
 * The services of `npm run bench -- --db postgres`: a throwaway PostgreSQL cluster (initdb and
 * pg_ctl in a temporary directory, on a free loopback port, with the settings of a production
 * site on this machine, below) and a throwaway Redis without persistence (or the one named by
 * --redis-url). Never the machine's shared instances. Both are stopped by `stop()`, which
 * bench/run.ts calls at the end of the run, on failure too.
 *
 * Also measures the CPU time of the cluster (every postgres process: the postmaster, its live
 * children and, through the postmaster's cutime/cstime, the children it has already reaped),
 * so a scenario can say how much PostgreSQL itself spent per message.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { cpuMs, freePort, type Server, sleep, track } from './lib.ts';

const run = promisify(execFile);

/**
 * The cluster's settings, with why: a production site on this machine (2 vCPUs, 24 GiB, one
 * virtio disk, PostgreSQL alone or beside Parley). Durability is never traded for speed.
 */
export const PG_SETTINGS: { name: string; value: string; why: string }[] = [
  { name: 'fsync', value: 'on', why: 'durable: every acknowledged commit survives power loss' },
  { name: 'synchronous_commit', value: 'on', why: 'a commit returns after its WAL is flushed' },
  { name: 'full_page_writes', value: 'on', why: 'torn pages are recoverable' },
  { name: 'wal_level', value: 'replica', why: 'a standby or a base backup can follow (the default)' },
  { name: 'max_connections', value: '200', why: 'two nodes x their pools, tools and headroom' },
  {
    name: 'shared_buffers',
    value: '3GB',
    why: '~1/8 of the 24 GiB: the working set fits; the OS cache holds the rest',
  },
  { name: 'effective_cache_size', value: '16GB', why: 'shared buffers + what the OS page cache can hold' },
  { name: 'wal_buffers', value: '64MB', why: 'bursts of concurrent commits do not wait on WAL writes' },
  { name: 'work_mem', value: '16MB', why: 'per sort/hash; 200 connections stay well within memory' },
  { name: 'maintenance_work_mem', value: '512MB', why: 'vacuum and index builds' },
  { name: 'checkpoint_timeout', value: '15min', why: 'fewer checkpoints, fewer full-page images in the WAL' },
  { name: 'max_wal_size', value: '4GB', why: 'checkpoints by time, not by WAL volume, under load' },
  { name: 'min_wal_size', value: '1GB', why: 'WAL segments are recycled, not created' },
  { name: 'checkpoint_completion_target', value: '0.9', why: 'checkpoint writes spread over the interval' },
  { name: 'autovacuum', value: 'on', why: 'dead rows of updated member and conversation rows are reclaimed' },
  { name: 'random_page_cost', value: '1.1', why: 'an SSD-backed virtual disk, not a spinning one' },
  { name: 'effective_io_concurrency', value: '200', why: 'the same' },
  { name: 'huge_pages', value: 'try', why: 'large pages for shared buffers when the kernel has them' },
];

/** The directory of initdb and pg_ctl: the newest /usr/lib/postgresql/<version>/bin, else PATH. */
export function pgBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    for (const v of readdirSync(root).sort((a, b) => Number(b) - Number(a))) {
      const bin = join(root, v, 'bin');
      if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
    }
  }
  for (const d of (process.env.PATH ?? '').split(':'))
    if (d && existsSync(join(d, 'initdb')) && existsSync(join(d, 'pg_ctl'))) return d;
  return undefined;
}

export interface Cluster {
  /** postgres://postgres@127.0.0.1:<port>/ (add a database name). */
  base: string;
  version: string;
  /** The settings as the running server reports them (SHOW). */
  shown: Record<string, string>;
  /** Creates a fresh database; its URL. */
  createDatabase(name: string): Promise<string>;
  /** CPU time (user + system) every process of the cluster has used so far, in ms. */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** Initializes and starts a throwaway cluster (as the postgres user when we are root). */
export async function startPostgres(opts: { keep?: boolean } = {}): Promise<Cluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error('--db postgres: no initdb/pg_ctl in /usr/lib/postgresql/*/bin or PATH');
  const dir = mkdtempSync(join(tmpdir(), 'parley-bench-pg-'));
  const data = join(dir, 'data');
  let as: { uid: number; gid: number } | undefined;
  if (process.getuid?.() === 0) {
    const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
    as = { uid: id('-u'), gid: id('-g') };
    chownSync(dir, as.uid, as.gid);
  }
  const tool = (name: string, args: string[]) =>
    run(join(bin, name), args, { ...as, cwd: dir, timeout: 120_000 });
  const port = await freePort();
  await tool('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--no-sync']);
  const settings = [
    ...PG_SETTINGS.map((s) => `-c ${s.name}=${s.value}`),
    `-p ${port}`,
    `-k ${dir}`,
    '-c listen_addresses=127.0.0.1',
  ].join(' ');
  await tool('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-o', settings, '-w', '-t', '120', 'start']);
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const base = `postgres://postgres@127.0.0.1:${port}/`;
  const admin = new pg.Client({ connectionString: `${base}postgres` });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await admin.end().catch(() => undefined);
    await tool('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']).catch(() =>
      tool('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined),
    );
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await admin.connect();
    const version = (await admin.query('SHOW server_version')).rows[0].server_version as string;
    const shown: Record<string, string> = {};
    for (const s of PG_SETTINGS)
      shown[s.name] = (await admin.query(`SHOW ${s.name}`)).rows[0][s.name] as string;
    return {
      base,
      version,
      shown,
      async createDatabase(name) {
        await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
        return `${base}${name}`;
      },
      cpuMs: () => clusterCpuMs(postmaster),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * CPU time of the postmaster `pid`, its reaped children (its cutime/cstime) and its live
 * children (backends, WAL writer, checkpointer, autovacuum...), in ms.
 *
 * A backend that exits during the listing of /proc moves from "live child" to the postmaster's
 * reaped total; read on the wrong side of that move it would be counted nowhere (the reading
 * drops by all the CPU that backend ever used, and a window's difference can go negative when
 * a pool closes its connections) or twice. So the reaped total is read before and after the
 * listing, and the listing is repeated until no child was reaped during it.
 */
function clusterCpuMs(pid: number): number {
  for (let attempt = 0; ; attempt++) {
    const before = reapedMs(pid);
    if (before === null) return 0;
    let live = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (Number(statFields(stat)[1]) === pid) live += cpuMs(Number(entry)) ?? 0;
      } catch {
        // exited since the listing
      }
    }
    const after = reapedMs(pid);
    if (after === null) return 0;
    if (after === before || attempt >= 20) return after + (cpuMs(pid) ?? 0) + live;
  }
}

/** The fields of a /proc stat line after the command name (which may hold spaces). */
const statFields = (stat: string) => stat.slice(stat.lastIndexOf(')') + 2).split(' ');

/** CPU time of the reaped children of `pid` (cutime + cstime), in ms; null when it is gone. */
function reapedMs(pid: number): number | null {
  try {
    const f = statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return ((Number(f[13]) + Number(f[14])) * 1000) / 100;
  } catch {
    return null;
  }
}

/** A throwaway redis-server on a free loopback port, no persistence. */
export async function startRedis(): Promise<Server> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const server = track(child, `redis://127.0.0.1:${port}`);
  const deadline = Date.now() + 10_000;
  while (!/Ready to accept connections/.test(server.log())) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await server.stop();
      throw new Error(`redis-server did not start:\n${server.log()}`);
    }
    await sleep(50);
  }
  return server;
}
