/**
 * Builds the website chat widget (web/widget -> web/widget/dist): the loader a site embeds
 * (`/widget.js`) and the chat panel of its iframe (`/widget/panel.js`), each one minified
 * script, with vite. Prints both sizes gzipped and fails when one is over its budget
 * (loader 5 KB, panel 60 KB). `npm start`, `npm run build:web` and the widget's browser test
 * call it; `--force` always builds.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const WIDGET = fileURLToPath(new URL('../web/widget', import.meta.url));
const DIST = join(WIDGET, 'dist');

/** The gzipped budgets, in bytes. */
export const BUDGET = { 'loader.js': 5 * 1024, 'panel.js': 60 * 1024 } as const;
const ENTRIES = { 'loader.js': 'loader.ts', 'panel.js': 'panel.ts' } as const;

function stale(): boolean {
  let newest = 0;
  for (const name of readdirSync(WIDGET))
    if (name.endsWith('.ts')) newest = Math.max(newest, statSync(join(WIDGET, name)).mtimeMs);
  return Object.keys(ENTRIES).some((out) => {
    const path = join(DIST, out);
    return !existsSync(path) || statSync(path).mtimeMs < newest;
  });
}

/** The gzipped size of each built file, in bytes. */
export function widgetSizes(): Record<keyof typeof BUDGET, number> {
  const size = (name: string) => gzipSync(readFileSync(join(DIST, name)), { level: 9 }).length;
  return { 'loader.js': size('loader.js'), 'panel.js': size('panel.js') };
}

export async function buildWidget(force = false): Promise<boolean> {
  if (!force && !stale()) return false;
  let build: typeof import('vite').build;
  try {
    ({ build } = await import('vite'));
  } catch {
    process.stderr.write('vite is not installed (npm install --include=dev): the widget was not rebuilt\n');
    return false;
  }
  let first = true;
  for (const [out, entry] of Object.entries(ENTRIES)) {
    await build({
      configFile: false,
      root: WIDGET,
      logLevel: 'warn',
      build: {
        outDir: DIST,
        emptyOutDir: first,
        target: 'es2020',
        minify: true,
        sourcemap: false,
        copyPublicDir: false,
        lib: { entry: join(WIDGET, entry), formats: ['iife'], name: 'ParleyWidget', fileName: () => out },
      },
    });
    first = false;
  }
  return true;
}

/** Fails (throws) when a built file is over its gzipped budget. */
export function checkBudget(): Record<keyof typeof BUDGET, number> {
  const sizes = widgetSizes();
  for (const [name, bytes] of Object.entries(sizes) as [keyof typeof BUDGET, number][])
    if (bytes > BUDGET[name])
      throw new Error(`${name} is ${bytes} bytes gzipped, over its budget of ${BUDGET[name]}`);
  return sizes;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const built = await buildWidget(process.argv.includes('--force'));
  const sizes = checkBudget();
  const kb = (n: number) => `${(n / 1024).toFixed(2)} KB`;
  process.stdout.write(
    `${built ? 'widget built into web/widget/dist' : 'widget is up to date (web/widget/dist)'}: ` +
      `loader ${kb(sizes['loader.js'])} gzipped (budget ${kb(BUDGET['loader.js'])}), ` +
      `panel ${kb(sizes['panel.js'])} gzipped (budget ${kb(BUDGET['panel.js'])})\n`,
  );
}
