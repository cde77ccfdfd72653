import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * The in-app chat vendor's request signature, version 2.0:
 * lowercase hex of md5(AppId + SignatureNonce + ServerSecret + Timestamp), the four written
 * as strings and concatenated in that order (Timestamp in Unix seconds).
 */
export function zimSignature(
  appId: number | string,
  nonce: string,
  serverSecret: string,
  timestamp: number | string,
): string {
  return createHash('md5').update(`${appId}${nonce}${serverSecret}${timestamp}`).digest('hex');
}

/** Constant-time comparison of a presented signature with the expected one. */
export function signatureMatches(presented: string, expected: string): boolean {
  const a = Buffer.from(presented.toLowerCase());
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The vendor allows a clock difference of 10 minutes either way. */
export const SIGNATURE_MAX_SKEW_SEC = 600;
