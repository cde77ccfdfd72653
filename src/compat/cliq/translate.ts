import { ValidationError } from '../../domain/errors.ts';
import { normalizeId } from '../../domain/ids.ts';

/** The team-chat vendor's request values -> service input. Pure. */

/**
 * A msguid as sent by a client: `<time>_<number>` (the pin request), `<time>%20<number>` or
 * `<time> <number>` (as responses show it), or a bare Parley message id. Returns the message
 * id and, when given, the time it claims, which must match the message.
 */
export function parseMsguid(value: string): { messageId: string; time: number | null } {
  const parts = value.trim().split(/_|%20| /);
  const idPart = parts.length === 2 ? parts[1]! : parts.length === 1 ? parts[0]! : '';
  const timePart = parts.length === 2 ? parts[0]! : null;
  const messageId = normalizeId(idPart);
  if (!messageId || (timePart !== null && !/^[0-9]{1,15}$/.test(timePart))) {
    throw ValidationError.field('body.id', 'must be a msguid: <time>_<number>', 'invalid_msguid');
  }
  return { messageId, time: timePart === null ? null : Number(timePart) };
}

/** modified_before/after: epoch milliseconds or ISO 8601 with a zone. */
export function parseCliqTime(value: string | undefined, field: string): number | undefined {
  if (value === undefined) return undefined;
  if (/^[0-9]{1,15}$/.test(value)) return Number(value);
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms;
  }
  throw ValidationError.field(
    `query.${field}`,
    'must be epoch milliseconds or an ISO 8601 time with an offset',
    'invalid_time',
  );
}

export const CLIQ_MEMBER_FIELDS = ['user_id', 'email_id', 'name'] as const;
export type CliqMemberField = (typeof CLIQ_MEMBER_FIELDS)[number];

/** `fields=name,email_id`: the member fields to return; all three when absent. */
export function parseCliqFields(value: string | undefined): CliqMemberField[] {
  if (value === undefined) return [...CLIQ_MEMBER_FIELDS];
  const names = value
    .split(/[,|]/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 0 || names.some((n) => !(CLIQ_MEMBER_FIELDS as readonly string[]).includes(n))) {
    throw ValidationError.field('query.fields', 'must be name, email_id and/or user_id', 'invalid_fields');
  }
  return CLIQ_MEMBER_FIELDS.filter((f) => names.includes(f));
}
