import type { FastifyInstance } from 'fastify';
import Type from 'typebox';
import type { AppContext } from '../../context.ts';
import { UserRole } from '../../domain/model.ts';
import { iso } from '../../domain/presenters.ts';
import {
  endSession,
  finishLogin,
  getOidcSettings,
  removeOidcSettings,
  SESSION_COOKIE,
  SESSION_TTL_MS,
  setOidcSettings,
  startLogin,
} from '../../services/oidc.ts';
import type { OidcConfigRecord } from '../../store/repos/oidc.ts';
import { principalOf } from '../auth.ts';
import { commonErrors, literals, readErrors, Timestamp } from '../schemas.ts';
import { clearSessionCookies, cookieOf, sessionPrincipal, setSessionCookies } from '../session.ts';
import { type Api, typed } from './util.ts';

/**
 * OpenID Connect sign-in for the console (services/oidc.ts): the org's settings under /v1 (owners
 * and admins, `admin` scope; the client secret is never answered), and the browser's routes
 * outside it: `/auth/oidc/{org}/login` (to the provider), `/auth/oidc/{org}/callback` (back,
 * into a session cookie) and `POST /auth/logout`.
 */

const Claim = Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_:.\\-/]+$' });
const ConsoleRole = literals(UserRole.filter((r) => r !== 'owner') as ['admin', 'operator', 'member']);

const OidcSettingsSchema = Type.Object({
  issuer: Type.String(),
  client_id: Type.String(),
  client_secret_set: Type.Boolean({ description: 'The secret is stored; it is never shown' }),
  claims: Type.Object({ external_id: Type.String(), email: Type.String(), name: Type.String() }),
  auto_provision: Type.Boolean(),
  default_role: ConsoleRole,
  login_path: Type.String({ description: 'Where the console sends the browser to sign in' }),
  updated_at: Timestamp,
});

function present(c: OidcConfigRecord, slug: string) {
  return {
    issuer: c.issuer,
    client_id: c.clientId,
    client_secret_set: c.clientSecret !== '',
    claims: { external_id: c.externalIdClaim, email: c.emailClaim, name: c.nameClaim },
    auto_provision: c.autoProvision,
    default_role: c.defaultRole as 'admin' | 'operator' | 'member',
    login_path: `/auth/oidc/${slug}/login`,
    updated_at: iso(c.updatedAt),
  };
}

/** `/v1/oidc`: the org's OpenID Connect settings (registered in the /v1 scope). */
export function oidcSettingsRoutes(app: Api, ctx: AppContext): void {
  const r = typed(app);
  const tags = ['oidc'];
  const slugOf = async (orgId: string) =>
    (await ctx.db.selectFrom('org').select('slug').where('id', '=', orgId).executeTakeFirst())?.slug ?? '';

  r.get(
    '/oidc',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: "The org's OpenID Connect sign-in settings (owners and admins; no secret)",
        response: { 200: OidcSettingsSchema, ...readErrors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      return present(await getOidcSettings(ctx, p), await slugOf(p.orgId));
    },
  );

  r.put(
    '/oidc',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary: "Set the org's OpenID Connect provider and claim mapping (owners and admins)",
        description:
          'The provider must redirect to `{server}/auth/oidc/{org slug}/callback`. `client_secret` is required the first time and kept when omitted later. Claims name the ID token claims holding the external id (matched to a user), email and name.',
        body: Type.Object(
          {
            issuer: Type.String({
              minLength: 8,
              maxLength: 500,
              description: 'https (http only on localhost)',
            }),
            client_id: Type.String({ minLength: 1, maxLength: 300 }),
            client_secret: Type.Optional(Type.String({ minLength: 1, maxLength: 1000 })),
            claims: Type.Optional(
              Type.Object(
                {
                  external_id: Type.Optional(Claim),
                  email: Type.Optional(Claim),
                  name: Type.Optional(Claim),
                },
                { additionalProperties: false },
              ),
            ),
            auto_provision: Type.Optional(
              Type.Boolean({ description: 'Create a user on first sign-in (default false: refused)' }),
            ),
            default_role: Type.Optional(ConsoleRole),
          },
          { additionalProperties: false },
        ),
        response: { 200: OidcSettingsSchema, ...commonErrors },
      },
    },
    async (req) => {
      const p = principalOf(req);
      const b = req.body;
      const saved = await setOidcSettings(ctx, p, {
        issuer: b.issuer,
        clientId: b.client_id,
        clientSecret: b.client_secret,
        externalIdClaim: b.claims?.external_id,
        emailClaim: b.claims?.email,
        nameClaim: b.claims?.name,
        autoProvision: b.auto_provision,
        defaultRole: b.default_role,
      });
      return present(saved, await slugOf(p.orgId));
    },
  );

  r.delete(
    '/oidc',
    {
      config: { scope: 'admin' },
      schema: {
        tags,
        summary:
          "Turn the org's OpenID Connect sign-in off (sessions already open last until they expire or sign out)",
        response: { 204: Type.Null(), ...commonErrors },
      },
    },
    async (req, reply) => {
      await removeOidcSettings(ctx, principalOf(req));
      return reply.code(204).send(null);
    },
  );
}

/** The browser's sign-in routes, outside /v1 (they answer redirects, not JSON, when all goes well). */
export function oidcBrowserRoutes(app: FastifyInstance, ctx: AppContext): void {
  const base = (req: { protocol: string; host: string }) => `${req.protocol}://${req.host}`;
  const Params = Type.Object({ org: Type.String({ minLength: 1, maxLength: 63 }) });
  const hide = { hide: true } as const;

  app.get(
    '/auth/oidc/:org/login',
    {
      config: { public: true },
      schema: {
        ...hide,
        params: Params,
        querystring: Type.Object({ return_to: Type.Optional(Type.String({ maxLength: 500 })) }),
      },
    },
    async (req, reply) => {
      const { org } = req.params as { org: string };
      const url = await startLogin(ctx, {
        slug: org,
        redirectUri: `${base(req)}/auth/oidc/${encodeURIComponent(org)}/callback`,
        returnTo: (req.query as { return_to?: string }).return_to,
      });
      return reply.redirect(url.href, 302);
    },
  );

  app.get(
    '/auth/oidc/:org/callback',
    { config: { public: true }, schema: { ...hide, params: Params } },
    async (req, reply) => {
      const { org } = req.params as { org: string };
      const done = await finishLogin(ctx, { slug: org, callbackUrl: new URL(req.url, base(req)) });
      setSessionCookies(req, reply, {
        sessionId: done.sessionId,
        csrfToken: done.csrfToken,
        maxAgeSec: Math.floor(SESSION_TTL_MS / 1000),
      });
      return reply.redirect(done.returnTo, 302);
    },
  );

  app.post('/auth/logout', { config: { public: true }, schema: hide }, async (req, reply) => {
    const sessionId = cookieOf(req, SESSION_COOKIE);
    if (sessionId) {
      // The CSRF rule of any cookie write (a cross-site form cannot sign the user out either).
      await sessionPrincipal(ctx, req).catch((err: unknown) => {
        if ((err as { code?: string }).code === 'invalid_session') return undefined;
        throw err;
      });
      await endSession(ctx, sessionId);
    }
    clearSessionCookies(req, reply);
    return reply.code(204).send();
  });
}
