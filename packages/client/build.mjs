// `npm run build` (and prepack): builds dist/: the TypeScript sources compiled to JavaScript with declarations (tsc, with
// `.ts` imports rewritten to `.js`), and the generated declaration files copied beside them.
import { execFileSync } from 'node:child_process';
import { copyFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
rmSync(join(here, 'dist'), { recursive: true, force: true });
// `tsc` from the PATH npm sets for scripts (this workspace's or the repository's node_modules/.bin).
execFileSync('tsc', ['-p', join(here, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const f of readdirSync(join(here, 'src'))) {
  if (f.endsWith('.d.ts')) copyFileSync(join(here, 'src', f), join(here, 'dist', f));
}
