import { createHash, randomBytes } from 'node:crypto';

/** Access tokens are 32 random bytes, shown once; only their SHA-256 is stored. */
export const TOKEN_PREFIX = 'pk_';

export function generateToken(): string {
  return TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

/** SHA-256 is enough for 256-bit random secrets: there is nothing to brute-force. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** Instance-admin tokens (`parley admin token`) look different, so each surface can name the mix-up. */
export const INSTANCE_TOKEN_PREFIX = 'pia_';

export function generateInstanceToken(): string {
  return INSTANCE_TOKEN_PREFIX + randomBytes(32).toString('base64url');
}

export function isInstanceToken(token: string): boolean {
  return token.startsWith(INSTANCE_TOKEN_PREFIX);
}
