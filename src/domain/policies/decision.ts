import { ForbiddenError } from '../errors.ts';

export type Decision = { allowed: true } | { allowed: false; reason: string; message: string };

export function allow(): Decision {
  return { allowed: true };
}

export function deny(reason: string, message: string): Decision {
  return { allowed: false, reason, message };
}

/** Throws `ForbiddenError(reason)` for a denied decision. */
export function authorize(decision: Decision): void {
  if (!decision.allowed) throw new ForbiddenError(decision.reason, decision.message);
}
