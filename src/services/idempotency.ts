import { createHash } from 'node:crypto';
import type { AppContext } from '../context.ts';
import { ConflictError } from '../domain/errors.ts';
import type { Principal } from '../domain/principal.ts';
import {
  claimIdempotencyKey,
  completeIdempotencyKey,
  deleteIdempotencyKeysBefore,
  findIdempotencyKey,
  releaseIdempotencyKey,
} from '../store/repos/idempotency.ts';

/** How long a key is remembered: a day, like the common payment APIs. */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export function hashRequest(method: string, url: string, body: unknown): string {
  return createHash('sha256')
    .update(`${method} ${url}\n${JSON.stringify(body ?? null)}`)
    .digest('hex');
}

export type IdempotencyStart = { kind: 'proceed' } | { kind: 'replay'; status: number; body: string };

/**
 * Starts a request that carries an Idempotency-Key. The first request with a key proceeds;
 * a later one with the same key and the same request replays the stored answer. The key
 * reused for a different request is `idempotency_key_reused` (409); while the first is still
 * running, `idempotency_key_in_use` (409). The unique key in the database settles races.
 */
export async function beginIdempotent(
  ctx: AppContext,
  p: Principal,
  key: string,
  requestHash: string,
): Promise<IdempotencyStart> {
  const ids = { orgId: p.orgId, actorId: p.actor.id, key };
  if (await claimIdempotencyKey(ctx.db, { ...ids, requestHash, now: ctx.clock.now() }))
    return { kind: 'proceed' };
  const record = await findIdempotencyKey(ctx.db, p.orgId, p.actor.id, key);
  if (!record) return beginIdempotent(ctx, p, key, requestHash); // expired between the two statements
  if (record.requestHash !== requestHash) {
    throw new ConflictError(
      'idempotency_key_reused',
      'This Idempotency-Key was used for a different request',
    );
  }
  if (record.status === null || record.body === null) {
    throw new ConflictError(
      'idempotency_key_in_use',
      'A request with this Idempotency-Key is still being processed',
    );
  }
  return { kind: 'replay', status: record.status, body: record.body };
}

/** Stores a successful answer for replay, or forgets the key after a failure so the client may retry. */
export async function finishIdempotent(
  ctx: AppContext,
  p: Principal,
  key: string,
  status: number,
  body: string,
) {
  if (status >= 200 && status < 300)
    await completeIdempotencyKey(ctx.db, p.orgId, p.actor.id, key, status, body);
  else await releaseIdempotencyKey(ctx.db, p.orgId, p.actor.id, key);
}

/** Periodic: forgets keys older than the TTL. */
export function sweepIdempotencyKeys(ctx: AppContext): Promise<number> {
  return deleteIdempotencyKeysBefore(ctx.db, ctx.clock.now() - IDEMPOTENCY_TTL_MS);
}
