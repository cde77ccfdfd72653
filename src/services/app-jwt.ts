import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import type { AppContext } from '../context.ts';
import { AppError } from '../domain/errors.ts';
import { type AppRecord, findAppByAppId } from '../store/repos/apps.ts';

/**
 * App JWTs of the bot dialect: HS256 only, signed with the app's secret (its ServerSecret, the
 * vendor's "client secret"), the app named by the `appId` claim. The vendor's tokens carry no
 * `iat`/`exp`, so tokens without them are accepted; an `exp` or `nbf` present is honoured.
 * Verification is jose's; this module only finds the key.
 */

export type { AppRecord };

export type JwtFailure =
  | 'missing_token'
  | 'malformed_token'
  | 'unsupported_alg'
  | 'missing_app_id'
  | 'unknown_app'
  | 'bad_signature'
  | 'token_expired'
  | 'token_not_yet_valid';

export class AppJwtError extends AppError {
  readonly failure: JwtFailure;
  constructor(failure: JwtFailure, message: string) {
    super('unauthenticated', failure, message);
    this.failure = failure;
  }
}

/** At most this long a token may be (a larger header is not a JWT of ours). */
const MAX_TOKEN_LENGTH = 8192;

/**
 * The app a JWT speaks for, or an `AppJwtError` (401) saying why not: `missing_token`,
 * `malformed_token`, `unsupported_alg` (anything but HS256, `none` included), `missing_app_id`,
 * `unknown_app` (no such AppId, or revoked), `bad_signature`, `token_expired`,
 * `token_not_yet_valid`. The claim is read before the signature is checked only to find the key.
 */
export async function verifyAppJwt(ctx: AppContext, token: string | undefined): Promise<AppRecord> {
  if (!token) throw new AppJwtError('missing_token', 'Send the JWT in a header named auth');
  if (token.length > MAX_TOKEN_LENGTH) throw new AppJwtError('malformed_token', 'The JWT is too long');
  let alg: unknown;
  let claims: Record<string, unknown>;
  try {
    alg = decodeProtectedHeader(token).alg;
    claims = decodeJwt(token);
  } catch {
    throw new AppJwtError('malformed_token', 'The auth header is not a JWT (header.payload.signature)');
  }
  if (alg !== 'HS256') throw new AppJwtError('unsupported_alg', 'Only HS256 JWTs are accepted');
  const raw = claims.appId;
  const appId =
    typeof raw === 'string' && /^[0-9]{1,10}$/.test(raw)
      ? Number(raw)
      : typeof raw === 'number' && Number.isSafeInteger(raw)
        ? raw
        : undefined;
  if (appId === undefined)
    throw new AppJwtError(
      'missing_app_id',
      'The JWT must carry the claim appId: the AppId of an app of the bot',
    );
  const app = await findAppByAppId(ctx.db, appId);
  if (!app || app.revokedAt !== null) throw new AppJwtError('unknown_app', `No app has the AppId ${raw}`);
  try {
    await jwtVerify(token, new TextEncoder().encode(app.serverSecret), {
      algorithms: ['HS256'],
      currentDate: new Date(ctx.clock.now()),
    });
  } catch (err) {
    const code = (err as { code?: string }).code;
    const claim = (err as { claim?: string }).claim;
    if (code === 'ERR_JWT_EXPIRED') throw new AppJwtError('token_expired', 'The JWT has expired (exp)');
    if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED' && claim === 'nbf')
      throw new AppJwtError('token_not_yet_valid', 'The JWT is not valid yet (nbf)');
    if (code === 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED')
      throw new AppJwtError('bad_signature', "The JWT's signature does not match the app's secret");
    throw new AppJwtError('malformed_token', 'The JWT could not be verified');
  }
  return app;
}
