import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** Real `parley` processes for tests that need a server on a port (e2e, multi-node). */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MAIN = join(ROOT, 'src/cli/main.ts');
const run = promisify(execFile);

export async function freePort(): Promise<number> {
  const srv = createServer();
  srv.listen(0, '127.0.0.1');
  await once(srv, 'listening');
  const address = srv.address();
  assert.ok(address && typeof address === 'object');
  srv.close();
  await once(srv, 'close');
  return address.port;
}

/** Runs `parley seed demo` with `env` and returns the printed token. */
export async function seedDemo(env: NodeJS.ProcessEnv): Promise<string> {
  const seeded = await run(process.execPath, [MAIN, 'seed', 'demo'], { cwd: ROOT, env, timeout: 30_000 });
  const match = /^\s*token:\s+(pk_\S+)\s*$/m.exec(seeded.stdout);
  assert.ok(match, `no token in the output of parley seed demo:\n${seeded.stdout}${seeded.stderr}`);
  return match[1]!;
}

export interface RunningServer {
  url: string;
  child: ChildProcess;
  log(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `parley serve` on a free port and waits (bounded) until /healthz answers. */
export async function startServer(env: NodeJS.ProcessEnv, timeoutMs = 15_000): Promise<RunningServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    cwd: ROOT,
    env: { ...env, PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: env.LOG_LEVEL ?? 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    log += chunk;
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    log += chunk;
  });
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`server exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${log}`);
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) return { url, child, log: () => log, stop };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await stop('SIGKILL');
  throw new Error(`server not healthy after ${timeoutMs} ms:\n${log}`);
}
