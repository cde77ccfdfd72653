import { randomBytes, randomInt } from 'node:crypto';
import { SIGNATURE_MAX_SKEW_SEC, signatureMatches, zimSignature } from '../auth/signature.ts';
import type { AppContext } from '../context.ts';
import { AppError, NotFoundError } from '../domain/errors.ts';
import { canManageApps } from '../domain/policies/admin.ts';
import { authorize } from '../domain/policies/decision.ts';
import type { Principal } from '../domain/principal.ts';
import {
  type AppRecord,
  deleteExpiredNonces,
  findAppByAppId,
  insertApp,
  listApps,
  revokeApp,
  useNonce,
} from '../store/repos/apps.ts';
import { findOrgState } from '../store/repos/instance.ts';
import { countActiveApps, withinQuota } from './quotas.ts';
import { assertOrgActive } from './tokens.ts';
import type { Tx } from './tx.ts';

/**
 * API apps of the signed server dialect: a public numeric AppId (uint32) and a ServerSecret
 * (32 hex characters, like the vendor's). The secret is stored as is, because verifying a
 * signature needs it; it is shown only when the app is created.
 */
export async function createApp(
  ctx: AppContext,
  p: Principal | { orgId: string; system: true },
  name: string,
): Promise<AppRecord> {
  if (!('system' in p)) authorize(canManageApps(p));
  const quota = {
    quota: 'apps',
    limit: ctx.config.quotas.apps,
    adding: 1,
    what: 'The org has as many apps as it may',
    count: (tx: Tx) => countActiveApps(tx.db, p.orgId),
  } as const;
  for (let attempt = 0; attempt < 10; attempt++) {
    const app: AppRecord = {
      id: ctx.ids.next(),
      orgId: p.orgId,
      appId: randomInt(1_000_000, 4_294_967_295),
      name,
      serverSecret: randomBytes(16).toString('hex'),
      createdAt: ctx.clock.now(),
      revokedAt: null,
    };
    if (await withinQuota(ctx, p.orgId, quota, (tx) => insertApp(tx.db, app))) return app;
  }
  throw new AppError('unavailable', 'app_id_exhausted', 'Could not allocate an AppId; try again');
}

export async function listOrgApps(ctx: AppContext, p: Principal): Promise<AppRecord[]> {
  authorize(canManageApps(p));
  return listApps(ctx.db, p.orgId);
}

export async function revokeOrgApp(ctx: AppContext, p: Principal, id: string): Promise<AppRecord> {
  authorize(canManageApps(p));
  const app = await revokeApp(ctx.db, p.orgId, id, ctx.clock.now());
  if (!app) throw new NotFoundError('app_not_found', `App ${id} not found`);
  return app;
}

/** Why a signed request was refused; each has its own code on the dialect's surface. */
export type SignatureFailure = 'unknown_app' | 'timestamp_expired' | 'bad_signature' | 'nonce_replayed';

export class SignatureError extends AppError {
  readonly failure: SignatureFailure;
  constructor(failure: SignatureFailure, message: string) {
    super('unauthenticated', failure, message);
    this.failure = failure;
  }
}

/**
 * Verifies a signed request of the in-app chat dialect: the app exists and is not revoked,
 * the timestamp is within 10 minutes of now, the signature matches, and the nonce was never
 * used before (recorded in the database, so every node sees it). The nonce is spent only
 * after the signature checks out, so forged requests cannot burn a real client's nonces.
 */
export async function verifySignedRequest(
  ctx: AppContext,
  req: { appId: number; nonce: string; timestamp: number; signature: string },
): Promise<AppRecord> {
  const app = await findAppByAppId(ctx.db, req.appId);
  if (!app || app.revokedAt !== null) throw new SignatureError('unknown_app', 'No app has this AppId');
  const nowSec = Math.floor(ctx.clock.now() / 1000);
  if (Math.abs(nowSec - req.timestamp) > SIGNATURE_MAX_SKEW_SEC) {
    throw new SignatureError('timestamp_expired', 'Timestamp is more than 10 minutes from the server time');
  }
  if (!signatureMatches(req.signature, zimSignature(app.appId, req.nonce, app.serverSecret, req.timestamp))) {
    throw new SignatureError('bad_signature', 'Signature does not match');
  }
  // Remember the nonce as long as its timestamp could still be accepted.
  const expiresAt = (req.timestamp + SIGNATURE_MAX_SKEW_SEC + 60) * 1000;
  if (!(await useNonce(ctx.db, app.appId, req.nonce.toLowerCase(), expiresAt))) {
    throw new SignatureError('nonce_replayed', 'This SignatureNonce was used already');
  }
  // A suspended (or deleted) org's apps are refused like its tokens.
  assertOrgActive(await findOrgState(ctx.db, app.orgId));
  return app;
}

/** Periodic: forgets nonces whose timestamps can no longer be accepted. */
export function sweepNonces(ctx: AppContext): Promise<number> {
  return deleteExpiredNonces(ctx.db, ctx.clock.now());
}
