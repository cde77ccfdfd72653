import { randomBytes } from 'node:crypto';
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
  /** SMTP server for mail (smtp://user:pass@host:587, smtps://...); unset = mail stays in the outbox and the log. */
  SMTP_URL: Type.Optional(Type.String({ pattern: '^smtps?://' })),
  /** The From address of Parley's mail. */
  MAIL_FROM: Type.Optional(Type.String({ minLength: 3, maxLength: 320 })),
  /** Default off-peak window for deletion jobs, UTC: HH:MM-HH:MM or `any`; orgs may set their own. */
  DELETION_WINDOW: Type.Optional(
    Type.String({ pattern: '^(any|([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9])$' }),
  ),
  /** Conversations a deletion job takes per chunk. */
  DELETION_CHUNK_SIZE: Type.Optional(Type.String({ pattern: '^[0-9]{1,4}$' })),
  /** Messages a deletion job deletes per transaction. */
  DELETION_BATCH_SIZE: Type.Optional(Type.String({ pattern: '^[0-9]{1,5}$' })),
  /** Largest share of time (percent, 1-100) a deletion job may keep the database busy; it rests the remainder. */
  DELETION_DUTY_PERCENT: Type.Optional(Type.String({ pattern: '^[0-9]{1,3}$' })),
  /** How long a webhook receiver may take to answer one delivery, in milliseconds. */
  WEBHOOK_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  /** Let webhooks reach private, loopback and link-local addresses (true/false; default false). */
  WEBHOOK_ALLOW_PRIVATE: Type.Optional(Type.String({ pattern: '^(true|false)$' })),
  /** Largest total size of a request's headers, in bytes (larger: 431). */
  HTTP_MAX_HEADER_BYTES: Type.Optional(Type.String({ pattern: '^[0-9]{1,8}$' })),
  /** How long a client may take to send a request's headers, in milliseconds (slower: 408, closed). */
  HTTP_HEADERS_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,8}$' })),
  /** How long a client may take to send a whole request, headers and body, in milliseconds. */
  HTTP_REQUEST_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,8}$' })),
  /** How long an idle keep-alive connection stays open, in milliseconds. */
  HTTP_KEEP_ALIVE_TIMEOUT_MS: Type.Optional(Type.String({ pattern: '^[0-9]{1,8}$' })),
  /** Open connections (HTTP and WebSocket) this node accepts; more are closed at once. */
  HTTP_MAX_CONNECTIONS: Type.Optional(Type.String({ pattern: '^[0-9]{1,8}$' })),
  /** Open connections from one client IP address; 0 = no per-address cap. */
  HTTP_MAX_CONNECTIONS_PER_IP: Type.Optional(Type.String({ pattern: '^[0-9]{1,8}$' })),
  /** Largest WebSocket frame a client may send on /v1/stream, in bytes (larger: close 1009). */
  STREAM_MAX_FRAME_BYTES: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
  /** Frames one socket may send per second (more are refused; twice as many close it with 4029). */
  STREAM_FRAMES_PER_SECOND: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  /** Bytes queued for one socket before it is closed as a slow consumer (4008). */
  STREAM_MAX_BUFFERED_BYTES: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}$' })),
  /** Open stream sockets per actor on one node (more: 429 on upgrade). */
  STREAM_MAX_SOCKETS_PER_ACTOR: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  /** Open stream sockets per org on one node (more: 429 on upgrade). */
  STREAM_MAX_SOCKETS_PER_ORG: Type.Optional(Type.String({ pattern: '^[0-9]{1,8}$' })),
  /** Active actors (users, visitors, bots) per org. */
  QUOTA_ACTORS: Type.Optional(Type.String({ pattern: '^[0-9]{1,9}$' })),
  /** Current members per conversation. */
  QUOTA_MEMBERS_PER_CONVERSATION: Type.Optional(Type.String({ pattern: '^[0-9]{1,8}$' })),
  /** Webhooks per org. */
  QUOTA_WEBHOOKS: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  /** Active (not revoked) API apps per org. */
  QUOTA_APPS: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  /** Active (not revoked, not expired) access tokens per actor. */
  QUOTA_TOKENS_PER_ACTOR: Type.Optional(Type.String({ pattern: '^[0-9]{1,7}$' })),
  /** Bearer token that GET /metrics requires (at least 16 characters); unset = /metrics answers 404. */
  METRICS_TOKEN: Type.Optional(Type.String({ minLength: 16, maxLength: 256, pattern: '^[\\x21-\\x7e]+$' })),
  /** Deletion jobs queued or running per org. */
  QUOTA_DELETION_JOBS: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
  /** Where attachments are stored: file:///abs/dir, or s3://bucket?endpoint=…&region=…; unset = attachments/ beside the SQLite file. */
  STORAGE_URL: Type.Optional(Type.String({ pattern: '^(file:|s3://)' })),
  /** Largest attachment accepted, in bytes. */
  ATTACHMENT_MAX_BYTES: Type.Optional(Type.String({ pattern: '^[0-9]{1,10}$' })),
  /** Bytes of attachments (files and previews) an org may store. */
  QUOTA_STORAGE_BYTES: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
  /** Secret that signs attachment download links (at least 32 characters); unset = a random one per process (set one shared secret when running several nodes). */
  ATTACHMENT_LINK_SECRET: Type.Optional(Type.String({ minLength: 32, maxLength: 256 })),
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
  smtpUrl: string | undefined;
  mailFrom: string;
  /** `any`, or `HH:MM-HH:MM` in UTC. */
  deletionWindow: string;
  deletionChunkSize: number;
  deletionBatchSize: number;
  deletionDutyPercent: number;
  webhookTimeoutMs: number;
  /** Webhooks may reach private, loopback and link-local addresses. */
  webhookAllowPrivate: boolean;
  /** The bearer token of GET /metrics; undefined: the endpoint is off (404). */
  metricsToken: string | undefined;
  /** STORAGE_URL as given (undefined: files beside the SQLite database). */
  storageUrl: string | undefined;
  /** Largest attachment, in bytes. */
  attachmentMaxBytes: number;
  /** Signs attachment download links. */
  attachmentLinkSecret: string;
  http: HttpLimits;
  stream: StreamLimits;
  quotas: Quotas;
}

/** Limits of the HTTP server of one node (docs/security.md). */
export interface HttpLimits {
  maxHeaderBytes: number;
  headersTimeoutMs: number;
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  /** 0: no per-address cap. */
  maxConnectionsPerIp: number;
}

/** Limits of /v1/stream on one node. */
export interface StreamLimits {
  maxFrameBytes: number;
  framesPerSecond: number;
  maxBufferedBytes: number;
  maxSocketsPerActor: number;
  maxSocketsPerOrg: number;
}

/** Per-org quotas, enforced by the services (`quota_exceeded`, 409). */
export interface Quotas {
  actors: number;
  membersPerConversation: number;
  webhooks: number;
  apps: number;
  tokensPerActor: number;
  deletionJobs: number;
  /** Bytes of attachments (with their previews) per org. */
  storageBytes: number;
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
  const bounded = (name: string, min: number, max: number, fallback: number) => {
    const v = picked[name] === undefined ? fallback : Number(picked[name]);
    if (v < min || v > max) problems.push(`${name}: must be between ${min} and ${max}`);
    return v;
  };
  const deletionChunkSize = bounded('DELETION_CHUNK_SIZE', 1, 1000, 50);
  const deletionBatchSize = bounded('DELETION_BATCH_SIZE', 1, 50_000, 1000);
  const deletionDutyPercent = bounded('DELETION_DUTY_PERCENT', 1, 100, 10);
  const webhookTimeoutMs = bounded('WEBHOOK_TIMEOUT_MS', 100, 120_000, 10_000);
  const http: HttpLimits = {
    maxHeaderBytes: bounded('HTTP_MAX_HEADER_BYTES', 1024, 1_048_576, 16_384),
    headersTimeoutMs: bounded('HTTP_HEADERS_TIMEOUT_MS', 100, 600_000, 20_000),
    requestTimeoutMs: bounded('HTTP_REQUEST_TIMEOUT_MS', 100, 3_600_000, 60_000),
    keepAliveTimeoutMs: bounded('HTTP_KEEP_ALIVE_TIMEOUT_MS', 100, 600_000, 72_000),
    maxConnections: bounded('HTTP_MAX_CONNECTIONS', 1, 10_000_000, 10_000),
    maxConnectionsPerIp: bounded('HTTP_MAX_CONNECTIONS_PER_IP', 0, 10_000_000, 0),
  };
  if (http.headersTimeoutMs > http.requestTimeoutMs)
    problems.push('HTTP_HEADERS_TIMEOUT_MS: must not be larger than HTTP_REQUEST_TIMEOUT_MS');
  const stream: StreamLimits = {
    maxFrameBytes: bounded('STREAM_MAX_FRAME_BYTES', 1024, 16_777_216, 65_536),
    framesPerSecond: bounded('STREAM_FRAMES_PER_SECOND', 1, 100_000, 50),
    maxBufferedBytes: bounded('STREAM_MAX_BUFFERED_BYTES', 16_384, 1_073_741_824, 1_048_576),
    maxSocketsPerActor: bounded('STREAM_MAX_SOCKETS_PER_ACTOR', 1, 100_000, 32),
    maxSocketsPerOrg: bounded('STREAM_MAX_SOCKETS_PER_ORG', 1, 10_000_000, 10_000),
  };
  const quotas: Quotas = {
    actors: bounded('QUOTA_ACTORS', 1, 100_000_000, 100_000),
    membersPerConversation: bounded('QUOTA_MEMBERS_PER_CONVERSATION', 2, 10_000_000, 10_000),
    webhooks: bounded('QUOTA_WEBHOOKS', 1, 100_000, 50),
    apps: bounded('QUOTA_APPS', 1, 100_000, 50),
    tokensPerActor: bounded('QUOTA_TOKENS_PER_ACTOR', 1, 1_000_000, 500),
    deletionJobs: bounded('QUOTA_DELETION_JOBS', 1, 100_000, 100),
    storageBytes: bounded('QUOTA_STORAGE_BYTES', 0, 1e15, 10 * 1024 ** 3),
  };
  const attachmentMaxBytes = bounded('ATTACHMENT_MAX_BYTES', 1, 1024 ** 3, 25 * 1024 ** 2);
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
    smtpUrl: e.SMTP_URL,
    mailFrom: e.MAIL_FROM ?? 'Parley <parley@localhost>',
    deletionWindow: e.DELETION_WINDOW ?? '00:00-06:00',
    deletionChunkSize,
    deletionBatchSize,
    deletionDutyPercent,
    webhookTimeoutMs,
    webhookAllowPrivate: e.WEBHOOK_ALLOW_PRIVATE === 'true',
    metricsToken: e.METRICS_TOKEN,
    storageUrl: e.STORAGE_URL,
    attachmentMaxBytes,
    attachmentLinkSecret: e.ATTACHMENT_LINK_SECRET ?? randomBytes(32).toString('hex'),
    http: Object.freeze(http),
    stream: Object.freeze(stream),
    quotas: Object.freeze(quotas),
  });
}
