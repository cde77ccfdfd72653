import { randomBytes } from 'node:crypto';
import * as oidc from 'openid-client';
import { hashToken } from '../auth/tokens.ts';
import type { AppContext } from '../context.ts';
import {
  AppError,
  ForbiddenError,
  NotFoundError,
  UnauthenticatedError,
  ValidationError,
} from '../domain/errors.ts';
import type { Actor, UserRole } from '../domain/model.ts';
import { canManageActors } from '../domain/policies/conversation.ts';
import { authorize } from '../domain/policies/decision.ts';
import type { Principal } from '../domain/principal.ts';
import { Scope } from '../domain/scopes.ts';
import { findActor, findActorByExternalId, insertActor } from '../store/repos/actors.ts';
import { findOrgState } from '../store/repos/instance.ts';
import {
  deleteExpiredSessions,
  deleteOidcConfig,
  deleteSession,
  findOidcConfig,
  findSession,
  insertLogin,
  insertSession,
  type OidcConfigRecord,
  takeLogin,
  upsertOidcConfig,
} from '../store/repos/oidc.ts';
import { getOrgBySlug } from './orgs.ts';
import { assertOrgActive } from './tokens.ts';

/**
 * OpenID Connect sign-in for the console (docs/operations.md#openid-connect-sign-in), per org:
 * the authorization code flow with PKCE (S256), `state` and `nonce`, through openid-client. The
 * provider's ID token names the person by a claim (`sub` unless configured otherwise), matched
 * to the org's user with that external id; an unknown person is created when the org allows it
 * (with its default role, never owner), refused otherwise. A sign-in ends in a console session:
 * a random id in an httpOnly cookie (only its SHA-256 is stored) and a CSRF token that writes
 * made with the cookie must send back in `X-CSRF-Token` (http/auth.ts).
 */

/** How long a console session lasts from sign-in. */
export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** How long a sign-in may take at the provider. */
const LOGIN_TTL_MS = 10 * 60 * 1000;
export const SESSION_COOKIE = 'parley_session';
export const CSRF_COOKIE = 'parley_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export interface OidcSettingsInput {
  issuer: string;
  clientId: string;
  /** Required when the org has no settings yet; kept when omitted on an update. */
  clientSecret?: string | undefined;
  externalIdClaim?: string | undefined;
  emailClaim?: string | undefined;
  nameClaim?: string | undefined;
  autoProvision?: boolean | undefined;
  defaultRole?: Exclude<UserRole, 'owner'> | undefined;
}

/** An issuer URL: https, or http on a loopback host (a provider on the same machine, tests). */
function issuerUrl(issuer: string, path = 'body.issuer'): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw ValidationError.field(path, 'must be an absolute URL', 'invalid_issuer');
  }
  const loopback = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback))
    throw ValidationError.field(path, 'must be https (http only on localhost)', 'invalid_issuer');
  if (url.username || url.password || url.search || url.hash)
    throw ValidationError.field(path, 'must have no credentials, query or fragment', 'invalid_issuer');
  return url;
}

export async function getOidcSettings(ctx: AppContext, p: Principal): Promise<OidcConfigRecord> {
  authorize(canManageActors(p));
  const found = await findOidcConfig(ctx.db, p.orgId);
  if (!found) throw new NotFoundError('oidc_not_configured', 'This org has no OpenID Connect sign-in');
  return found;
}

/** Sets the org's provider (owners and admins); the secret is stored and never shown again. */
export async function setOidcSettings(
  ctx: AppContext,
  p: Principal,
  input: OidcSettingsInput,
): Promise<OidcConfigRecord> {
  authorize(canManageActors(p));
  issuerUrl(input.issuer);
  const current = await findOidcConfig(ctx.db, p.orgId);
  const secret = input.clientSecret ?? current?.clientSecret;
  if (!secret)
    throw ValidationError.field('body.client_secret', 'is required the first time', 'invalid_request');
  const record: OidcConfigRecord = {
    orgId: p.orgId,
    issuer: input.issuer.replace(/\/$/, ''),
    clientId: input.clientId,
    clientSecret: secret,
    externalIdClaim: input.externalIdClaim ?? 'sub',
    emailClaim: input.emailClaim ?? 'email',
    nameClaim: input.nameClaim ?? 'name',
    autoProvision: input.autoProvision ?? false,
    defaultRole: input.defaultRole ?? 'member',
    updatedAt: ctx.clock.now(),
  };
  await upsertOidcConfig(ctx.db, record);
  discovered.delete(p.orgId);
  return record;
}

export async function removeOidcSettings(ctx: AppContext, p: Principal): Promise<void> {
  authorize(canManageActors(p));
  if (!(await deleteOidcConfig(ctx.db, p.orgId)))
    throw new NotFoundError('oidc_not_configured', 'This org has no OpenID Connect sign-in');
  discovered.delete(p.orgId);
}

/** Discovered provider configurations, per org, until the settings change. */
const discovered = new Map<string, { key: string; config: oidc.Configuration }>();

async function providerOf(record: OidcConfigRecord): Promise<oidc.Configuration> {
  const key = `${record.issuer}\n${record.clientId}\n${record.clientSecret}`;
  const hit = discovered.get(record.orgId);
  if (hit?.key === key) return hit.config;
  const url = issuerUrl(record.issuer, 'issuer');
  let config: oidc.Configuration;
  try {
    config = await oidc.discovery(
      url,
      record.clientId,
      record.clientSecret,
      undefined,
      url.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined,
    );
  } catch (err) {
    throw new AppError(
      'unavailable',
      'oidc_provider_unavailable',
      `The identity provider ${record.issuer} could not be reached: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  discovered.set(record.orgId, { key, config });
  return config;
}

async function configuredOrg(ctx: AppContext, slug: string) {
  const org = await getOrgBySlug(ctx, slug);
  const record = org ? await findOidcConfig(ctx.db, org.id) : undefined;
  if (!org || !record)
    throw new NotFoundError('oidc_not_configured', `No OpenID Connect sign-in for org ${slug}`);
  assertOrgActive(await findOrgState(ctx.db, org.id));
  return { org, record };
}

/** A path on this server to go back to after sign-in ("/" unless a plain same-origin path). */
function safeReturn(returnTo: string | undefined): string {
  if (!returnTo?.startsWith('/') || returnTo.startsWith('//') || returnTo.includes('\\')) return '/';
  return returnTo.slice(0, 500);
}

/** Starts a sign-in: remembers state, nonce and the PKCE verifier, answers the provider's URL. */
export async function startLogin(
  ctx: AppContext,
  input: { slug: string; redirectUri: string; returnTo?: string | undefined },
): Promise<URL> {
  const { org, record } = await configuredOrg(ctx, input.slug);
  const config = await providerOf(record);
  const codeVerifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  await insertLogin(ctx.db, {
    state,
    orgId: org.id,
    nonce,
    codeVerifier,
    returnTo: safeReturn(input.returnTo),
    expiresAt: ctx.clock.now() + LOGIN_TTL_MS,
  });
  return oidc.buildAuthorizationUrl(config, {
    redirect_uri: input.redirectUri,
    scope: 'openid email profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
  });
}

const signInFailed = (why: string) =>
  new UnauthenticatedError('oidc_sign_in_failed', `Sign-in failed: ${why}`);

/**
 * The provider's redirect back: the code is exchanged (with the PKCE verifier) and the ID token
 * checked by openid-client (issuer, audience = the client id, signature, expiry, nonce); then
 * the person is found or created and a session begins. A wrong or reused state, a wrong nonce
 * or audience, an expired sign-in: `oidc_sign_in_failed` (401), and no session.
 */
export async function finishLogin(
  ctx: AppContext,
  input: { slug: string; callbackUrl: URL },
): Promise<{ sessionId: string; csrfToken: string; expiresAt: number; returnTo: string; actor: Actor }> {
  const { org, record } = await configuredOrg(ctx, input.slug);
  const state = input.callbackUrl.searchParams.get('state') ?? '';
  const login = state ? await takeLogin(ctx.db, state) : undefined;
  if (!login || login.orgId !== org.id) throw signInFailed('unknown or reused state');
  if (login.expiresAt <= ctx.clock.now()) throw signInFailed('the sign-in took too long; start again');
  const config = await providerOf(record);
  let claims: Record<string, unknown> | undefined;
  try {
    const tokens = await oidc.authorizationCodeGrant(config, input.callbackUrl, {
      pkceCodeVerifier: login.codeVerifier,
      expectedState: login.state,
      expectedNonce: login.nonce,
      idTokenExpected: true,
    });
    claims = tokens.claims() as Record<string, unknown> | undefined;
  } catch (err) {
    // openid-client wraps the check that failed (its cause says which claim: aud, nonce, iss...).
    const inner = (err as { cause?: unknown }).cause;
    const why = inner instanceof Error ? inner.message : err instanceof Error ? err.message : String(err);
    throw signInFailed(why);
  }
  if (!claims) throw signInFailed('the provider sent no ID token');
  const text = (name: string) => {
    const v = claims?.[name];
    return typeof v === 'string' && v.trim() !== '' ? v.trim().slice(0, 320) : undefined;
  };
  const externalId = text(record.externalIdClaim);
  if (!externalId) throw signInFailed(`the ID token has no ${record.externalIdClaim} claim`);
  let actor = await findActorByExternalId(ctx.db, org.id, externalId);
  if (actor && (actor.kind !== 'user' || !actor.active))
    throw new ForbiddenError('not_a_console_user', 'This identity is not an active user of the org');
  if (!actor) {
    if (!record.autoProvision)
      throw new ForbiddenError(
        'not_provisioned',
        `No user of the org has the external id ${externalId}; ask an admin to add you`,
      );
    const now = ctx.clock.now();
    actor = {
      id: ctx.ids.next(),
      orgId: org.id,
      kind: 'user',
      role: record.defaultRole as UserRole,
      name: text(record.nameClaim) ?? text(record.emailClaim) ?? externalId,
      email: text(record.emailClaim) ?? null,
      externalId,
      phone: null,
      ip: null,
      country: null,
      channel: null,
      active: true,
      createdAt: now,
      updatedAt: now,
    };
    await insertActor(ctx.db, actor);
  }
  const sessionId = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(24).toString('base64url');
  const now = ctx.clock.now();
  const expiresAt = now + SESSION_TTL_MS;
  await insertSession(ctx.db, {
    idHash: hashToken(sessionId),
    orgId: org.id,
    actorId: actor.id,
    csrfToken,
    createdAt: now,
    expiresAt,
  });
  return { sessionId, csrfToken, expiresAt, returnTo: login.returnTo, actor };
}

/**
 * The principal of a console session cookie: every scope (the person's role and memberships
 * decide, as for any token), and the CSRF token writes must carry. Unknown or expired
 * sessions, and those of deactivated people, are `invalid_session` (401).
 */
export async function authenticateSession(
  ctx: AppContext,
  sessionId: string,
): Promise<{ principal: Principal; csrfToken: string }> {
  const session = await findSession(ctx.db, hashToken(sessionId));
  const now = ctx.clock.now();
  const invalid = () =>
    new UnauthenticatedError(
      'invalid_session',
      'The console session is invalid or has expired; sign in again',
    );
  if (!session || session.expiresAt <= now) throw invalid();
  const actor = await findActor(ctx.db, session.orgId, session.actorId);
  if (!actor?.active) throw invalid();
  assertOrgActive(await findOrgState(ctx.db, session.orgId));
  return {
    principal: { orgId: session.orgId, actor, scopes: new Set(Scope), tokenId: null },
    csrfToken: session.csrfToken,
  };
}

export async function endSession(ctx: AppContext, sessionId: string): Promise<void> {
  await deleteSession(ctx.db, hashToken(sessionId));
}

/** Periodic: forgets expired sessions and abandoned sign-ins. */
export function sweepSessions(ctx: AppContext): Promise<number> {
  return deleteExpiredSessions(ctx.db, ctx.clock.now());
}
