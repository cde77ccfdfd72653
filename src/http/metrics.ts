import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AppContext, RateLimiter } from '../context.ts';
import { AppError } from '../domain/errors.ts';
import { RateGroup } from '../domain/rate-limits.ts';
import type { EventBus } from '../realtime/bus.ts';
import { workByState } from '../services/work-stats.ts';
import { renderNativeError } from './errors.ts';

/** What /metrics reads from the realtime gateway of this node. */
export interface GatewayStats {
  readonly socketCount: number;
  readonly deliveredCount: number;
}

type PoolStats = () => { total: number; idle: number; waiting: number };

/**
 * The Prometheus metrics of one process (`GET /metrics`, docs/operations.md). One registry per
 * app (tests build many apps in one process). The store and the gateway import nothing from
 * here: the group commit calls `groupCommitBatch` (its `onBatch` hook), the bus and the rate
 * limiter are wrapped, and the gauges read the gateway, the pool and the job tables on scrape.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly #http = new Histogram({
    name: 'parley_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly #published = new Counter({
    name: 'parley_events_published_total',
    help: 'Events published on the bus by this node',
    registers: [this.registry],
  });
  readonly #batchSize = new Histogram({
    name: 'parley_group_commit_batch_size',
    help: 'Write transactions per SQLite group commit',
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });
  readonly #sendBatchSize = new Histogram({
    name: 'parley_send_batch_size',
    help: 'Plain sends per PostgreSQL send statement (store/send-batch.ts)',
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers: [this.registry],
  });
  readonly #flushSeconds = new Histogram({
    name: 'parley_group_commit_flush_seconds',
    help: 'Time of one group commit (commit and WAL flush)',
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers: [this.registry],
  });
  readonly #refused = new Counter({
    name: 'parley_rate_limit_refusals_total',
    help: 'Requests refused by a rate limit, by group',
    labelNames: ['group'] as const,
    registers: [this.registry],
  });

  constructor() {
    for (const group of RateGroup) this.#refused.inc({ group }, 0);
  }

  /** The group commit's onBatch hook. */
  readonly groupCommitBatch = (size: number, flushMs: number): void => {
    this.#batchSize.observe(size);
    this.#flushSeconds.observe(flushMs / 1000);
  };

  /** The PostgreSQL send batcher's onBatch hook. */
  readonly sendBatch = (size: number): void => {
    this.#sendBatchSize.observe(size);
  };

  /** The bus, counting what is published through it. */
  countPublished(bus: EventBus): EventBus {
    const published = this.#published;
    return {
      ...bus,
      publish: (orgId, events) => {
        published.inc(events.length);
        return bus.publish(orgId, events);
      },
      subscribe: (h) => bus.subscribe(h),
      watch: (o) => bus.watch(o),
      unwatch: (o) => bus.unwatch(o),
      close: () => bus.close(),
    };
  }

  /** The rate limiter, counting its refusals by group. */
  countRefusals(limiter: RateLimiter): RateLimiter {
    const refused = this.#refused;
    return {
      consume: async (ctx, orgId, group, key) => {
        try {
          return await limiter.consume(ctx, orgId, group, key);
        } catch (err) {
          if (err instanceof AppError && err.kind === 'rate_limited') refused.inc({ group });
          throw err;
        }
      },
      peek: (ctx, orgId, group, key) => limiter.peek(ctx, orgId, group, key),
      forgetOrg: (orgId) => limiter.forgetOrg(orgId),
    };
  }

  /** The gauges read on scrape: sockets, deliveries, the pool, work by state. */
  observe(ctx: AppContext, gateway: GatewayStats, poolStats: PoolStats | undefined): void {
    const registers = [this.registry];
    new Gauge({
      name: 'parley_stream_sockets',
      help: 'Open /v1/stream sockets on this node',
      registers,
      collect() {
        this.set(gateway.socketCount);
      },
    });
    let delivered = 0;
    new Counter({
      name: 'parley_events_delivered_total',
      help: 'Events sent to stream sockets by this node (one per socket)',
      registers,
      collect() {
        const now = gateway.deliveredCount;
        this.inc(now - delivered);
        delivered = now;
      },
    });
    const sends = { oneStatement: 0, transaction: 0 };
    new Counter({
      name: 'parley_message_sends_total',
      help: 'Messages sent through this node, by path: one_statement (PostgreSQL, plain sends) or transaction',
      labelNames: ['path'] as const,
      registers,
      collect() {
        const now = ctx.sendPaths;
        this.inc({ path: 'one_statement' }, now.oneStatement - sends.oneStatement);
        this.inc({ path: 'transaction' }, now.transaction - sends.transaction);
        sends.oneStatement = now.oneStatement;
        sends.transaction = now.transaction;
      },
    });
    if (poolStats) {
      new Gauge({
        name: 'parley_db_pool_connections',
        help: 'PostgreSQL pool connections by state (total, idle) and requests waiting for one',
        labelNames: ['state'] as const,
        registers,
        collect() {
          const s = poolStats();
          this.set({ state: 'total' }, s.total);
          this.set({ state: 'idle' }, s.idle);
          this.set({ state: 'waiting' }, s.waiting);
        },
      });
    }
    const byState = (name: string, help: string, kind: Parameters<typeof workByState>[1]) =>
      new Gauge({
        name,
        help,
        labelNames: ['state'] as const,
        registers,
        async collect() {
          this.reset();
          for (const r of await workByState(ctx, kind)) this.set({ state: r.status }, r.n);
        },
      });
    byState('parley_deletion_jobs', 'Deletion jobs by state (all orgs)', 'deletion_job');
    byState('parley_mail_outbox', 'Mail in the outbox by state', 'mail');
    byState('parley_webhook_deliveries', 'Webhook deliveries by state (all orgs)', 'webhook_delivery');
  }

  /** Times every response of `app` by its route pattern (not the raw URL) and status. */
  timeRequests(app: FastifyInstance): void {
    app.addHook('onResponse', async (request, reply) => {
      this.#http.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? 'unmatched',
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    });
  }

  /**
   * `GET /metrics` in the Prometheus text format. Off (404) without METRICS_TOKEN; with it, the
   * request must carry `Authorization: Bearer <METRICS_TOKEN>` (401 otherwise).
   */
  route(app: FastifyInstance, token: string | undefined): void {
    const expected = token ? digest(token) : null;
    app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
      if (!expected) return notFound(request, reply);
      const given = /^Bearer (\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
      if (!given || !timingSafeEqual(digest(given), expected)) {
        return renderNativeError(
          new AppError('unauthenticated', 'invalid_token', 'GET /metrics needs the bearer METRICS_TOKEN'),
          request,
          reply,
        );
      }
      const text = await this.registry.metrics();
      return reply.type(this.registry.contentType).send(text);
    });
  }
}

const digest = (s: string) => createHash('sha256').update(s).digest();

function notFound(request: FastifyRequest, reply: FastifyReply) {
  return renderNativeError(
    new AppError('not_found', 'route_not_found', 'No route GET /metrics'),
    request,
    reply,
  );
}
