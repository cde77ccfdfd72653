import Type, { type Static } from 'typebox';
import { SupportState, VisitorChannel } from '../../domain/model.ts';
import { MISSED_AFTER_SECONDS_RANGE, RECYCLE_BIN_DAYS_RANGE } from '../../domain/support.ts';
import { AuditAction } from '../../services/audit.ts';
import { MAX_BULK_IDS } from '../../services/recycle-bin.ts';
import { Cursor, IdInput, IdString, Limit, listQuery, literals, Nullable, Timestamp } from '../schemas.ts';

/** Live support, the recycle bin and the audit log: their JSON shapes (presented by http/present/support.ts). */

export const PersonRef = Type.Object({
  id: IdString,
  name: Type.String(),
  email: Nullable(Type.String()),
  kind: Type.String(),
});
const HoursInterval = Type.Object(
  {
    start: Type.String({ maxLength: 5, description: 'HH:MM, local time' }),
    end: Type.String({ maxLength: 5, description: 'HH:MM, local time; 24:00 is midnight' }),
  },
  { additionalProperties: false },
);
const DayIntervals = Type.Array(HoursInterval, { maxItems: 12 });
export const DepartmentHoursSchema = Type.Object(
  {
    time_zone: Type.String({
      minLength: 1,
      maxLength: 64,
      description: 'An IANA time zone, e.g. Europe/Berlin',
    }),
    weekly: Type.Record(Type.String({ pattern: '^(mon|tue|wed|thu|fri|sat|sun)$' }), DayIntervals, {
      additionalProperties: false,
      description: 'Open intervals per weekday (mon … sun); days left out are closed',
    }),
  },
  { additionalProperties: false },
);
export const DepartmentSchema = Type.Object({
  id: IdString,
  name: Type.String(),
  operator_ids: Type.Array(IdString, { description: 'Operators without departments serve every department' }),
  hours: Nullable(DepartmentHoursSchema),
  created_at: Timestamp,
});
export const VisitorSchema = Type.Object({
  id: IdString,
  name: Type.String(),
  email: Nullable(Type.String()),
  phone: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  country: Nullable(Type.String()),
  channel: Nullable(literals(VisitorChannel)),
  external_id: Nullable(Type.String({ description: "The app's own id of the visitor" })),
});

export const SupportChatSchema = Type.Object({
  id: IdString,
  reference_id: Type.String({ description: 'A small per-org number for people to quote' }),
  state: literals(SupportState),
  question: Type.String(),
  uvid: Type.String({ description: "The visitor's tracking id" }),
  channel: literals(VisitorChannel),
  department: Nullable(Type.Object({ id: IdString, name: Type.String() })),
  visitor: Nullable(VisitorSchema),
  owner: Nullable(PersonRef),
  attender: Nullable(PersonRef),
  participants: Type.Array(PersonRef, { description: 'Current members other than the visitor' }),
  unread_count: Nullable(Type.Integer({ description: "The caller's unread count; null when not a member" })),
  created_at: Timestamp,
  updated_at: Timestamp,
  attended_at: Nullable(Timestamp),
  ended_at: Nullable(Timestamp),
  missed_at: Nullable(Timestamp),
});

export const BulkIds = Type.Array(IdInput, {
  minItems: 1,
  maxItems: MAX_BULK_IDS,
  description: `Conversation ids (at most ${MAX_BULK_IDS}); large JSON numbers keep every digit`,
});
export const BulkBody = Type.Object({ ids: BulkIds }, { additionalProperties: false });
export const BulkResult = Type.Object({
  items: Type.Array(
    Type.Object({
      id: IdString,
      result: literals(['done', 'refused'] as const),
      code: Nullable(Type.String({ description: 'Why the id was refused' })),
      message: Nullable(Type.String()),
    }),
    { description: 'One entry per distinct id, in the order given' },
  ),
  done: Type.Integer(),
  refused: Type.Integer(),
});
export const BinItemSchema = Type.Object({
  id: IdString,
  reference_id: Type.String(),
  state: literals(SupportState),
  question: Type.String(),
  department: Nullable(Type.Object({ id: IdString, name: Type.String() })),
  visitor: Nullable(Type.Object({ id: IdString, name: Type.String() })),
  created_at: Timestamp,
  deleted_at: Timestamp,
  deleted_by: Nullable(Type.Object({ id: IdString, name: Type.String() })),
  purge_at: Timestamp,
});
export const AuditEventSchema = Type.Object({
  id: IdString,
  actor_id: Nullable(IdString),
  action: literals(AuditAction),
  target_type: Type.String(),
  target_id: Type.String(),
  details: Type.Record(Type.String(), Type.Unknown()),
  created_at: Timestamp,
});
export const SettingsSchema = Type.Object({
  recycle_bin_days: Type.Integer({
    minimum: RECYCLE_BIN_DAYS_RANGE.min,
    maximum: RECYCLE_BIN_DAYS_RANGE.max,
    description: 'Days a deleted conversation stays in the recycle bin (default 90)',
  }),
  missed_after_seconds: Type.Integer({
    minimum: MISSED_AFTER_SECONDS_RANGE.min,
    maximum: MISSED_AFTER_SECONDS_RANGE.max,
    description: 'Seconds a chat may wait before it is missed (default 180)',
  }),
});
export const IdParams = Type.Object({ id: IdString });
export const PageQuery = Type.Object(
  { limit: Type.Optional(Limit), cursor: Type.Optional(Cursor) },
  { additionalProperties: false },
);
export const Empty = Type.Object({}, { additionalProperties: false });

/* Request bodies and queries of the support routes (routes/departments.ts, support-chats.ts,
   recycle-bin.ts, audit.ts). */

export const DepartmentCreateBody = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
export const DepartmentOperatorsBody = Type.Object(
  { operator_ids: Type.Array(IdInput, { maxItems: 500 }) },
  { additionalProperties: false },
);
export const SupportChatStartBody = Type.Object(
  {
    department_id: IdInput,
    question: Type.String({ minLength: 1, maxLength: 2000 }),
    visitor_id: Type.Optional(IdInput),
    uvid: Type.Optional(
      Type.String({ minLength: 1, maxLength: 128, description: "The visitor's tracking id" }),
    ),
    channel: Type.Optional(literals(VisitorChannel)),
  },
  { additionalProperties: false },
);
export const QueueQuery = listQuery({
  department_id: Type.Optional(IdString),
});
export const TransferBody = Type.Object(
  { operator_id: Type.Optional(IdInput), department_id: Type.Optional(IdInput) },
  { additionalProperties: false, minProperties: 1 },
);
export const SettingsPatchBody = Type.Partial(SettingsSchema, {
  additionalProperties: false,
  minProperties: 1,
});
export type SettingsPatch = Partial<Static<typeof SettingsSchema>>;
export const DeleteConversationsBody = Type.Object(
  { ids: BulkIds, channel: Type.Optional(literals(VisitorChannel)) },
  { additionalProperties: false },
);
export const AuditQuery = listQuery({
  action: Type.Optional(literals(AuditAction)),
  target_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
});
