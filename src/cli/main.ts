import type { Config } from '../config.ts';
import { COMMANDS, USAGE } from './commands.ts';
import { explain } from './errors.ts';
import { CliError, type Command, commandHelp, parseCommand, version } from './spec.ts';

/**
 * The `parley` command. Output meant for programs goes to stdout alone; messages go to stderr.
 * Failures print one line naming the cause and the fix (the stack only with --debug) and exit
 * 2 (usage, configuration) or 1 (anything else).
 */

/** The command named by the first words of argv, with the arguments after them. */
function findCommand(argv: string[]): { cmd: Command; rest: string[] } | undefined {
  for (const words of [2, 1]) {
    const name = argv.slice(0, words).join(' ');
    const cmd = COMMANDS.find((c) => c.name === name);
    if (cmd && argv.length >= words) return { cmd, rest: argv.slice(words) };
  }
  return undefined;
}

function groupHelp(group: string): string | undefined {
  const subs = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  if (subs.length === 0) return undefined;
  return `usage: parley ${group} <${subs.map((c) => c.name.split(' ')[1]).join('|')}> [options]\n\n${subs
    .map((c) => `  parley ${c.name.padEnd(14)}${c.summary}`)
    .join('\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [first] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' ? argv.slice(1) : [];
    const found = topic.length > 0 ? findCommand(topic) : undefined;
    if (topic.length > 0 && !found && !groupHelp(topic[0]!))
      throw new CliError(`unknown command "${topic.join(' ')}": run \`parley --help\` for the list`, 2);
    process.stdout.write(found ? commandHelp(found.cmd) : topic.length > 0 ? groupHelp(topic[0]!)! : USAGE);
    return 0;
  }
  if (first === '--version' || first === '-v' || first === 'version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = groupHelp(first);
    if (group && (argv[1] === '--help' || argv[1] === '-h')) {
      process.stdout.write(group);
      return 0;
    }
    if (group) {
      const subs = COMMANDS.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name);
      const what = argv[1] === undefined ? 'needs a subcommand' : `has no subcommand "${argv[1]}"`;
      throw new CliError(
        `parley ${first} ${what}: use ${subs.map((s) => `\`parley ${s}\``).join(' or ')}`,
        2,
      );
    }
    if (first.startsWith('-'))
      throw new CliError(`unknown option ${first}: run \`parley --help\` for the commands and options`, 2);
    throw new CliError(`unknown command "${first}": run \`parley --help\` for the list`, 2);
  }
  const { cmd, rest } = found;
  const { values, positionals } = parseCommand(cmd, rest);
  if (values.help) {
    process.stdout.write(commandHelp(cmd));
    return 0;
  }
  let config: Readonly<Config>;
  // Loaded only now: the configuration's schema library is the slowest import of all.
  const { ConfigError, loadConfig } = await import('../config.ts');
  try {
    config = cmd.noConfig ? ({} as Config) : loadConfig();
  } catch (err) {
    if (err instanceof ConfigError)
      throw new CliError(
        `${err.problems.join('; ')}: fix these environment variables (docs/operations.md)`,
        2,
      );
    throw err;
  }
  configForErrors = config;
  return (await cmd.run({ values, positionals, raw: rest, config })) ?? 0;
}

let configForErrors: Readonly<Config> | undefined;
const argv = process.argv.slice(2);
const debug = argv.includes('--debug');

main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    const { message, exitCode } = explain(err, configForErrors);
    process.stderr.write(`parley: ${message}\n`);
    if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    // Open pools and sockets must not keep a failed command alive.
    process.exit(exitCode);
  },
);
