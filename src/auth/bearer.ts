import { UnauthenticatedError } from '../domain/errors.ts';

/**
 * The credential of a request: `Authorization: Bearer <token>`, or the team-chat vendor's
 * `Authorization: Zoho-oauthtoken <token>`. Anything else is `missing_token` / `invalid_token`.
 */
export function extractBearer(header: string | undefined): string {
  if (!header) throw new UnauthenticatedError('missing_token', 'Send Authorization: Bearer <token>');
  const match = /^(Bearer|Zoho-oauthtoken)\s+(\S+)\s*$/i.exec(header);
  if (!match)
    throw new UnauthenticatedError('invalid_token', 'The Authorization header must be "Bearer <token>"');
  return match[2]!;
}
