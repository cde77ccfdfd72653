import { readFileSync } from 'node:fs';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import type { Config } from '../config.ts';

/**
 * How a `parley` command is described: its words, its options with their help, and a lazily
 * imported body, so `--help`, `--version` and argument errors load nothing heavy and touch
 * no database.
 */
export interface Option {
  type: 'string' | 'boolean';
  short?: string;
  /** The value's placeholder in the help (string options). */
  arg?: string;
  help: string;
  required?: boolean;
}

export type Values = Record<string, string | boolean | undefined>;

export interface Invocation {
  values: Values;
  positionals: string[];
  /** The arguments after the command's words, as given (bench passes them on). */
  raw: string[];
  config: Readonly<Config>;
}

export interface Command {
  /** The command's words: `migrate`, `org create`. */
  name: string;
  summary: string;
  /** Positional arguments in the usage line, e.g. `<file>`. */
  args?: { name: string; help: string; required: boolean }[];
  options: Record<string, Option>;
  /** Prose after the option list. */
  notes?: string;
  /** Needs no configuration (loads none). */
  noConfig?: boolean;
  /** The command's body; resolves to the exit code (0 when undefined). */
  run(inv: Invocation): Promise<number | undefined>;
}

/** An error the CLI explains in one line (no stack trace): usage errors exit 2, others 1. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

export const GLOBAL_OPTIONS: Record<string, Option> = {
  help: { type: 'boolean', short: 'h', help: 'print this help and exit' },
  debug: { type: 'boolean', help: 'print the stack trace of an error' },
};

export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function optionLabel(name: string, o: Option): string {
  const short = o.short ? `-${o.short}, ` : '';
  return `${short}--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
}

export function usageLine(cmd: Command): string {
  const parts = [`parley ${cmd.name}`];
  for (const a of cmd.args ?? []) parts.push(a.required ? `<${a.name}>` : `[<${a.name}>]`);
  for (const [name, o] of Object.entries(cmd.options)) {
    const label = `--${name}${o.type === 'string' ? ` ${o.arg ?? 'VALUE'}` : ''}`;
    parts.push(o.required ? label : `[${label}]`);
  }
  return parts.join(' ');
}

export function commandHelp(cmd: Command): string {
  const rows: [string, string][] = [
    ...(cmd.args ?? []).map((a): [string, string] => [`<${a.name}>`, a.help]),
    ...Object.entries({ ...cmd.options, ...GLOBAL_OPTIONS }).map(([n, o]): [string, string] => [
      optionLabel(n, o),
      o.help,
    ]),
  ];
  const width = Math.max(...rows.map(([l]) => l.length)) + 2;
  return [
    `usage: ${usageLine(cmd)}`,
    '',
    cmd.summary,
    '',
    ...rows.map(([l, h]) => `  ${l.padEnd(width)}${h}`),
    ...(cmd.notes ? ['', cmd.notes] : []),
    '',
  ].join('\n');
}

/** Parses a command's arguments strictly; unknown options and missing values are CliErrors (2). */
export function parseCommand(cmd: Command, args: string[]): { values: Values; positionals: string[] } {
  const options: ParseArgsOptionsConfig = {};
  for (const [name, o] of Object.entries({ ...cmd.options, ...GLOBAL_OPTIONS })) {
    options[name] = o.short ? { type: o.type, short: o.short } : { type: o.type };
  }
  const see = `see \`parley ${cmd.name} --help\``;
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    const e = err as { code?: string; message: string };
    if (!e.code?.startsWith('ERR_PARSE_ARGS')) throw err;
    const option = /'([^']+)'/.exec(e.message)?.[1];
    const what =
      e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION'
        ? `unknown option ${option ?? ''}`.trim()
        : e.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE'
          ? `option ${option ?? ''} needs a value`.replace('  ', ' ')
          : e.message.split('\n')[0];
    throw new CliError(`parley ${cmd.name}: ${what}: ${see}`, 2);
  }
  if (parsed.values.help) return parsed;
  const max = cmd.args?.length ?? 0;
  if (parsed.positionals.length > max) {
    throw new CliError(`parley ${cmd.name}: unexpected argument ${parsed.positionals[max]}: ${see}`, 2);
  }
  for (const [i, a] of (cmd.args ?? []).entries()) {
    if (a.required && parsed.positionals[i] === undefined)
      throw new CliError(`parley ${cmd.name}: missing <${a.name}>: ${see}`, 2);
  }
  for (const [name, o] of Object.entries(cmd.options)) {
    if (o.required && parsed.values[name] === undefined)
      throw new CliError(`parley ${cmd.name}: --${name} is required: ${see}`, 2);
  }
  return parsed;
}

/** A string option's value (after parseCommand checked the required ones). */
export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

/** Writes one JSON document (machine-readable output) to stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
