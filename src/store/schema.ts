import type { Generated, Kysely } from 'kysely';

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
  /** `active`, `suspended` or `deleting` (migration 2026-12-05T03-00-org-admin). */
  state?: string;
  state_changed_at?: number | null;
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
  /** Messages ever sent in it (deleted ones too): the newest message's ordinal. */
  message_count?: number;
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

/**
 * The view `member` (migration 2026-12-04T01-00-unread-counters): a membership row with its
 * derived columns (unread_count, hidden, activity_at). Read members here; write `membership`.
 */
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

/** The member rows themselves (see MemberTable for the derived view). */
export interface MembershipTable {
  conversation_id: string;
  actor_id: string;
  org_id: string;
  role: string;
  joined_at: number;
  left_at: number | null;
  muted_until: number | null;
  read_message_id: string | null;
  /** The ordinal of the last message read (0: none). */
  read_ordinal: number;
  /** How far the offline digest mail has covered (migration 2026-12-05T01-00-team-chat). */
  digest_ordinal?: number;
  /** Messages after read_ordinal that do not count as unread (deleted before they were read). */
  unread_excluded: number;
  draft: string | null;
  draft_updated_at: number | null;
  /** Hidden for this member (the flag), until a message comes after hidden_ordinal. */
  hidden: number;
  hidden_ordinal: number;
  pinned: number;
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
  /** 1, 2, … in its conversation (conversation.message_count when it was sent). */
  ordinal?: number | null;
  /* Team chat (migration 2026-12-05T01-00-team-chat); optional like `ordinal`. */
  /** JSON: the resolved mentions, `{"ids": [...], "all": bool}`; null when none. */
  mentions?: string | null;
  /** The thread's root message (a reply's); null for a message outside a thread. */
  thread_id?: string | null;
  /** Of a thread root: its replies, and when the last came. */
  reply_count?: number;
  last_reply_at?: number | null;
  /** JSON array of the message's attachments as shown (migration 2026-12-05T02-00-attachments); null: none. */
  attachments?: string | null;
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

/** One row (id 1): what the event log no longer holds (see migrations/2026-12-04T00-00-event-positions.ts). */
export interface EventLogTable {
  id: number;
  dropped_upto: number;
  removed_max: number;
}

export interface EventTable {
  /** The event's position in the store-wide log (repos/events.ts). */
  seq: Generated<number>;
  org_id: string;
  type: string;
  conversation_id: string | null;
  /** JSON array of the actor ids that may see the event. */
  recipients: string;
  /** 1: the conversation's members may see it too (DomainEvent.audience). */
  to_members?: number;
  payload: string;
  created_at: number;
  /** The message the payload carries (`payload.message.id`), for redaction; null when none. */
  message_id?: string | null;
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
  membership: MembershipTable;
  message: MessageTable;
  sticky_message: StickyMessageTable;
  idempotency_key: IdempotencyKeyTable;
  event_log: EventLogTable;
  event: EventTable;
  app: AppTable;
  used_nonce: UsedNonceTable;
  department: DepartmentTable;
  operator_department: OperatorDepartmentTable;
  org_support_seq: OrgSupportSeqTable;
  audit_event: AuditEventTable;
  attachment: AttachmentTable;
}

/** An uploaded file (migration 2026-12-05T02-00-attachments; services/attachments.ts). */
export interface AttachmentTable {
  id: string;
  org_id: string;
  uploader_id: string;
  conversation_id: string | null;
  message_id: string | null;
  name: string;
  content_type: string;
  size: number;
  width: number | null;
  height: number | null;
  storage_key: string;
  preview_key: string | null;
  preview_size: number | null;
  created_at: number;
  attached_at: number | null;
}

/* Deletion jobs, the mail outbox and webhooks (migration 2026-11-21T03-00-jobs-webhooks). */

export interface DeletionJobTable {
  /** `cdj-<uuid>`. */
  id: string;
  org_id: string;
  requested_by: string | null;
  requested_by_app: number | null;
  /** JSON object: the selector with its defaults resolved. */
  selector: string;
  dry_run: number;
  status: string;
  not_before: number;
  submitted_at: number;
  started_at: number | null;
  finished_at: number | null;
  conversations_total: number | null;
  conversations_deleted: number;
  messages_deleted: number;
  conversations_skipped: number;
  /** The last conversation id the job has handled (resume point). */
  cursor: string | null;
  /** JSON array of the conversation ids being deleted now (hidden until purged). */
  chunk: string | null;
  claimed_by: string | null;
  heartbeat_at: number | null;
  attempts: number;
  error_code: string | null;
  error_message: string | null;
}

export interface MailOutboxTable {
  id: string;
  org_id: string;
  to_address: string;
  subject: string;
  body: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  message_id: string | null;
  created_at: number;
  sent_at: number | null;
  /** A transcript mail: the support chat whose transcript is rendered into it when sent. */
  transcript_of: string | null;
}

export interface WebhookTable {
  id: string;
  org_id: string;
  url: string;
  description: string | null;
  secret: string;
  /** JSON array of event types. */
  events: string;
  active: number;
  created_at: number;
  updated_at: number;
}

export interface WebhookDeliveryTable {
  id: string;
  webhook_id: string;
  org_id: string;
  event_type: string;
  event_seq: number;
  conversation_id: string | null;
  payload: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_status_code: number | null;
  last_error: string | null;
  last_attempt_at: number | null;
  created_at: number;
  delivered_at: number | null;
  /** The message the payload carries (`data.message.id`), for redaction; null when none. */
  message_id?: string | null;
}

/* Declaration merging: the tables above join the Database interface. */
export interface Database {
  deletion_job: DeletionJobTable;
  mail_outbox: MailOutboxTable;
  webhook: WebhookTable;
  webhook_delivery: WebhookDeliveryTable;
}

/** An instance administrator's credential (migration 2026-12-05T03-00-org-admin); no org. */
export interface InstanceAdminTokenTable {
  id: string;
  name: string;
  token_hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

/** An org's OpenID Connect provider and claim mapping (services/oidc.ts). */
export interface OrgOidcTable {
  org_id: string;
  issuer: string;
  client_id: string;
  client_secret: string;
  external_id_claim: string;
  email_claim: string;
  name_claim: string;
  auto_provision: number;
  default_role: string;
  updated_at: number;
}

/** A sign-in in progress: what the callback checks. */
export interface OidcLoginTable {
  state: string;
  org_id: string;
  nonce: string;
  code_verifier: string;
  return_to: string;
  expires_at: number;
}

/** A signed-in console: the session cookie's SHA-256, its actor and its CSRF token. */
export interface ConsoleSessionTable {
  id_hash: string;
  org_id: string;
  actor_id: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
}

export interface Database {
  instance_admin_token: InstanceAdminTokenTable;
  org_oidc: OrgOidcTable;
  oidc_login: OidcLoginTable;
  console_session: ConsoleSessionTable;
}

/* Team chat (migration 2026-12-05T01-00-team-chat). */

export interface MentionTable {
  message_id: string;
  /** The mentioned user; '0' for `@all`. */
  actor_id: string;
  conversation_id: string;
  org_id: string;
  sender_id: string;
  ordinal: number;
}

export interface ReactionTable {
  message_id: string;
  actor_id: string;
  emoji: string;
  conversation_id: string;
  org_id: string;
  created_at: number;
}

export interface ThreadMemberTable {
  /** The thread's root message. */
  message_id: string;
  actor_id: string;
  conversation_id: string;
  org_id: string;
  /** Replies read (thread unread = the root's reply_count - read_count). */
  read_count: number;
  following: number;
}

export interface ActorNotifyTable {
  actor_id: string;
  org_id: string;
  digest_minutes: number | null;
  digest_sent_at: number | null;
}

export interface Database {
  mention: MentionTable;
  reaction: ReactionTable;
  thread_member: ThreadMemberTable;
  actor_notify: ActorNotifyTable;
}

/** A database handle: the database itself or a transaction on it. */
export type Db = Kysely<Database>;
