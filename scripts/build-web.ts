/**
 * Builds the web console (web/ -> web/dist) with vite when the build is missing or older than
 * its sources. `--force` always builds. `npm start` and the browser tests call this first.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = fileURLToPath(new URL('../web', import.meta.url));
const BUILT = join(WEB, 'dist', 'index.html');

/** The newest modification time (ms) among the console's sources. */
function newestSource(): number {
  let newest = 0;
  const visit = (path: string) => {
    if (!existsSync(path)) return;
    const st = statSync(path);
    if (st.isDirectory()) {
      for (const name of readdirSync(path)) visit(join(path, name));
    } else {
      newest = Math.max(newest, st.mtimeMs);
    }
  };
  for (const name of ['src', 'index.html', 'vite.config.ts', 'public']) visit(join(WEB, name));
  return newest;
}

export function consoleIsStale(): boolean {
  return !existsSync(BUILT) || statSync(BUILT).mtimeMs < newestSource();
}

export async function buildConsole(force = false): Promise<boolean> {
  if (!force && !consoleIsStale()) return false;
  let build: typeof import('vite').build;
  try {
    ({ build } = await import('vite'));
  } catch {
    // An install without devDependencies cannot build: serve what is there (or the
    // "not built" page) rather than refuse to start.
    process.stderr.write('vite is not installed (npm install --include=dev): the console was not rebuilt\n');
    return false;
  }
  await build({ root: WEB, configFile: join(WEB, 'vite.config.ts'), logLevel: 'warn' });
  return true;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const force = process.argv.includes('--force');
  const started = Date.now();
  const built = await buildConsole(force);
  process.stdout.write(
    built
      ? `console built into web/dist in ${Date.now() - started} ms\n`
      : 'console is up to date (web/dist)\n',
  );
}
