import Type, { type Static } from 'typebox';
import Value from 'typebox/value';

/**
 * Every environment variable Parley reads, with a one-line meaning. Nothing else reads
 * process.env: loadConfig() validates all of them at once and returns a frozen object.
 * docs/operations.md has one row per variable (a unit test keeps them in step).
 */
const EnvSchema = Type.Object({
  /** TCP port of the HTTP server. */
  PORT: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  /** Interface to listen on; 0.0.0.0 to accept connections from other hosts. */
  HOST: Type.Optional(Type.String({ minLength: 1 })),
  /** PostgreSQL URL (postgres://...); when unset Parley uses the embedded SQLite file. */
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  /** Path of the embedded SQLite database file. */
  SQLITE_PATH: Type.Optional(Type.String({ minLength: 1 })),
  /** Connections in the PostgreSQL pool of this node. */
  DATABASE_POOL_SIZE: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  /** This node's number (0-1023), part of every id it makes; give each node its own. */
  NODE_ID: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  /** pino log level: fatal, error, warn, info, debug, trace or silent. */
  LOG_LEVEL: Type.Optional(Type.String({ pattern: '^(fatal|error|warn|info|debug|trace|silent)$' })),
  /** Largest request body accepted, in bytes. */
  BODY_LIMIT: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}$' })),
  /** Redis URL (redis://...): rate limits (and later events) shared by every node; unset = in-process. */
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  /** Trust X-Forwarded-* headers from a load balancer in front of Parley (true/false). */
  TRUST_PROXY: Type.Optional(Type.String({ pattern: '^(true|false)$' })),
});

export type Env = Static<typeof EnvSchema>;

export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  sqlitePath: string;
  databasePoolSize: number;
  nodeId: number;
  logLevel: string;
  bodyLimit: number;
  trustProxy: boolean;
  redisUrl: string | undefined;
}

export const ENV_VARS = Object.keys(EnvSchema.properties);

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.problems = problems;
  }
}

/** Reads and validates the configuration; throws ConfigError listing every problem at once. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Readonly<Config> {
  const picked: Record<string, string> = {};
  for (const name of ENV_VARS) {
    const v = env[name];
    if (v !== undefined && v !== '') picked[name] = v;
  }
  const problems = [...Value.Errors(EnvSchema, picked)].map(
    (e) => `${e.instancePath.slice(1) || 'env'}: ${e.message}`,
  );
  const nodeId = picked.NODE_ID === undefined ? Math.floor(Math.random() * 1024) : Number(picked.NODE_ID);
  if (nodeId > 1023) problems.push('NODE_ID: must be between 0 and 1023');
  const port = picked.PORT === undefined ? 8080 : Number(picked.PORT);
  if (port > 65535) problems.push('PORT: must be between 0 and 65535');
  if (problems.length > 0) throw new ConfigError(problems);
  const e = picked as Env;
  return Object.freeze({
    port,
    host: e.HOST ?? '127.0.0.1',
    databaseUrl: e.DATABASE_URL,
    sqlitePath: e.SQLITE_PATH ?? './data/parley.db',
    databasePoolSize: e.DATABASE_POOL_SIZE ? Number(e.DATABASE_POOL_SIZE) : 10,
    nodeId,
    logLevel: e.LOG_LEVEL ?? 'info',
    bodyLimit: e.BODY_LIMIT ? Number(e.BODY_LIMIT) : 1_048_576,
    trustProxy: e.TRUST_PROXY === 'true',
    redisUrl: e.REDIS_URL,
  });
}
