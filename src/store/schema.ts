/**
 * Table types for Kysely. Ids are 64-bit integers in the database and decimal strings in
 * TypeScript; times are epoch milliseconds; flags are 0/1 integers so one migration fits both
 * SQLite and PostgreSQL. The drivers hand back integers as numbers when they are safe and as
 * strings when they are not (see db.ts), so repos normalize with String()/Number().
 */
export interface OrgTable {
  id: string;
  slug: string;
  name: string;
  settings: string;
  created_at: number;
}

export interface ActorTable {
  id: string;
  org_id: string;
  kind: string;
  role: string | null;
  name: string;
  email: string | null;
  external_id: string | null;
  phone: string | null;
  ip: string | null;
  country: string | null;
  channel: string | null;
  active: number;
  created_at: number;
  updated_at: number;
}

export interface AccessTokenTable {
  id: string;
  org_id: string;
  actor_id: string;
  name: string;
  token_hash: string;
  scopes: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

export interface ConversationTable {
  id: string;
  org_id: string;
  kind: string;
  title: string | null;
  creator_id: string;
  direct_key: string | null;
  member_count: number;
  last_message_id: string | null;
  last_activity_at: number;
  created_at: number;
  updated_at: number;
  /*
   * Support and recycle-bin columns (migration 2026-11-21T02-00-support). Optional here so rows
   * built by code that predates them still type-check; NULL for conversations that are not
   * support chats (the recycle-bin pair applies to every kind).
   */
  state?: string | null;
  department_id?: string | null;
  visitor_id?: string | null;
  owner_id?: string | null;
  attender_id?: string | null;
  question?: string | null;
  reference_id?: number | null;
  uvid?: string | null;
  channel?: string | null;
  attended_at?: number | null;
  ended_at?: number | null;
  missed_at?: number | null;
  deleted_at?: number | null;
  purge_at?: number | null;
  deleted_by?: string | null;
  /** `<visitor_id>:<department_id>` while a support chat is open; unique per org (one open chat). */
  open_key?: string | null;
}

export interface MemberTable {
  conversation_id: string;
  actor_id: string;
  org_id: string;
  role: string;
  joined_at: number;
  left_at: number | null;
  muted_until: number | null;
  read_message_id: string | null;
  unread_count: number;
  draft: string | null;
  draft_updated_at: number | null;
  hidden: number;
  pinned: number;
  activity_at: number;
}

export interface MessageTable {
  id: string;
  org_id: string;
  conversation_id: string;
  sender_id: string;
  type: string;
  text: string | null;
  metadata: string | null;
  reply_to_id: string | null;
  client_id: string | null;
  created_at: number;
  edited_at: number | null;
  deleted_at: number | null;
}

export interface StickyMessageTable {
  conversation_id: string;
  org_id: string;
  message_id: string;
  creator_id: string;
  created_at: number;
  expires_at: number | null;
  notify: number;
}

export interface IdempotencyKeyTable {
  org_id: string;
  actor_id: string;
  key: string;
  request_hash: string;
  status: number | null;
  body: string | null;
  created_at: number;
}

export interface OrgEventSeqTable {
  org_id: string;
  last_seq: number;
}

export interface EventTable {
  org_id: string;
  seq: number;
  type: string;
  conversation_id: string | null;
  /** JSON array of the actor ids that may see the event. */
  recipients: string;
  payload: string;
  created_at: number;
}

export interface AppTable {
  id: string;
  org_id: string;
  /** The public numeric AppId of the signed dialect (uint32). */
  app_id: number;
  name: string;
  server_secret: string;
  created_at: number;
  revoked_at: number | null;
}

export interface UsedNonceTable {
  app_id: number;
  nonce: string;
  expires_at: number;
}

export interface DepartmentTable {
  id: string;
  org_id: string;
  name: string;
  created_at: number;
}

export interface OperatorDepartmentTable {
  actor_id: string;
  department_id: string;
  org_id: string;
}

export interface OrgSupportSeqTable {
  org_id: string;
  last_reference: number;
}

export interface AuditEventTable {
  id: string;
  org_id: string;
  /** null for the system (the retention purge). */
  actor_id: string | null;
  action: string;
  target_type: string;
  target_id: string;
  /** JSON object. */
  details: string;
  created_at: number;
}

export interface Database {
  org: OrgTable;
  actor: ActorTable;
  access_token: AccessTokenTable;
  conversation: ConversationTable;
  member: MemberTable;
  message: MessageTable;
  sticky_message: StickyMessageTable;
  idempotency_key: IdempotencyKeyTable;
  org_event_seq: OrgEventSeqTable;
  event: EventTable;
  app: AppTable;
  used_nonce: UsedNonceTable;
  department: DepartmentTable;
  operator_department: OperatorDepartmentTable;
  org_support_seq: OrgSupportSeqTable;
  audit_event: AuditEventTable;
}
