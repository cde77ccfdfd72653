#!/usr/bin/env node
// The `parley` command: Node 24 runs the TypeScript sources directly (type stripping). This
// file is plain JavaScript that any Node can parse, so an older Node gets a clear message
// instead of ERR_UNKNOWN_FILE_EXTENSION.
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  const root = new URL('..', import.meta.url).pathname;
  process.stderr.write(
    `parley: needs Node 24 or later, but this is Node ${process.versions.node} (${process.execPath}): ` +
      `run \`npm ci\` in ${root} (it installs Node 24 from the \`node\` npm package) and use \`npx parley ...\`, ` +
      'or run node_modules/.bin/node bin/parley.js ...\n',
  );
  process.exit(1);
}
import('../src/cli/main.ts');
