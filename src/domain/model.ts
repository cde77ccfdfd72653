/** Plain domain objects returned by services; presenters shape them for each surface. */

export const ActorKind = ['user', 'visitor', 'bot'] as const;
export type ActorKind = (typeof ActorKind)[number];

export const UserRole = ['owner', 'admin', 'operator', 'member'] as const;
export type UserRole = (typeof UserRole)[number];

export const ConversationKind = ['direct', 'group', 'channel', 'support'] as const;
export type ConversationKind = (typeof ConversationKind)[number];

export const MemberRole = ['owner', 'admin', 'member'] as const;
export type MemberRole = (typeof MemberRole)[number];

export const VisitorChannel = ['website', 'ios', 'android', 'emailsignature'] as const;
export type VisitorChannel = (typeof VisitorChannel)[number];

export interface Org {
  id: string;
  slug: string;
  name: string;
  createdAt: number;
}

export interface Actor {
  id: string;
  orgId: string;
  kind: ActorKind;
  /** Only users have a role; visitors and bots have `null`. */
  role: UserRole | null;
  name: string;
  email: string | null;
  externalId: string | null;
  phone: string | null;
  ip: string | null;
  country: string | null;
  channel: VisitorChannel | null;
  active: boolean;
  createdAt: number;
  updatedAt: number;
}

export interface Conversation {
  id: string;
  orgId: string;
  kind: ConversationKind;
  title: string | null;
  creatorId: string;
  memberCount: number;
  lastMessageId: string | null;
  lastActivityAt: number;
  createdAt: number;
  updatedAt: number;
  /** Set while the conversation is in the recycle bin (invisible to every list and read). */
  deletedAt?: number | null;
}

export interface MemberState {
  conversationId: string;
  actorId: string;
  role: MemberRole;
  joinedAt: number;
  leftAt: number | null;
  /** null: not muted; -1: muted until unmuted; otherwise muted until this epoch-ms time. */
  mutedUntil: number | null;
  readMessageId: string | null;
  unreadCount: number;
  draft: string | null;
  draftUpdatedAt: number | null;
  hidden: boolean;
  pinned: boolean;
  activityAt: number;
}

export interface Message {
  id: string;
  orgId: string;
  conversationId: string;
  senderId: string;
  type: string;
  text: string | null;
  metadata: Record<string, unknown> | null;
  replyToId: string | null;
  clientId: string | null;
  createdAt: number;
  editedAt: number | null;
  deletedAt: number | null;
  /* Team chat (domain/team-chat.ts); absent on objects built before it. */
  /** Resolved mentions: user ids, and whether `@all` was used. */
  mentions?: MessageMentions | null;
  /** The thread's root (a reply's); null outside threads. */
  threadId?: string | null;
  /** Of a thread root: how many replies, and when the last came. */
  replyCount?: number;
  lastReplyAt?: number | null;
  /** Reaction summaries, attached by reads that load them. */
  reactions?: ReactionSummary[];
  /** What the message shows of its attachments (services/attachments.ts); absent or null: none. */
  attachments?: readonly AttachmentRef[] | null;
}

export interface MessageMentions {
  ids: string[];
  all: boolean;
}

export interface ReactionSummary {
  emoji: string;
  count: number;
  /** Who reacted (the first 50 by time). */
  actorIds: string[];
}

/** An attachment as a message carries it (stored with the message, shown in its JSON). */
export interface AttachmentRef {
  id: string;
  name: string;
  contentType: string;
  size: number;
  width: number | null;
  height: number | null;
  /** A downscaled, metadata-free preview exists (images). */
  preview: boolean;
}

export interface StickyMessage {
  conversationId: string;
  messageId: string;
  creatorId: string;
  createdAt: number;
  /** null: never expires (the API's -1). */
  expiresAt: number | null;
  notify: boolean;
}

export function isMuted(state: Pick<MemberState, 'mutedUntil'>, now: number): boolean {
  return state.mutedUntil === -1 || (state.mutedUntil !== null && state.mutedUntil > now);
}

export function isPinActive(pin: Pick<StickyMessage, 'expiresAt'>, now: number): boolean {
  return pin.expiresAt === null || pin.expiresAt > now;
}

/** The states of a support chat; the transitions between them are in domain/support.ts. */
export const SupportState = ['waiting', 'connected', 'ended', 'missed'] as const;
export type SupportState = (typeof SupportState)[number];

/** A group of operators that support chats are routed to. */
export interface Department {
  id: string;
  orgId: string;
  name: string;
  createdAt: number;
}

/** A conversation of kind `support`: a visitor's chat with the org's operators. */
export interface SupportChat extends Conversation {
  kind: 'support';
  state: SupportState;
  departmentId: string;
  visitorId: string;
  /** The operator who picked the chat up; null while waiting (or missed). */
  ownerId: string | null;
  /** The operator handling it now (changes on transfer); null while waiting. */
  attenderId: string | null;
  question: string;
  /** A small per-org number for people to quote ("chat 151"), as a decimal string. */
  referenceId: string;
  /** The visitor's tracking id (the live-chat vendor's `uvid`). */
  uvid: string;
  /** The channel the chat came from. */
  channel: VisitorChannel;
  attendedAt: number | null;
  endedAt: number | null;
  missedAt: number | null;
  deletedAt: number | null;
  /** When the retention purge removes it for good (set while in the recycle bin). */
  purgeAt: number | null;
  deletedBy: string | null;
}

/** Per-org support settings, kept in the org's settings JSON. */
export interface SupportSettings {
  /** Days a deleted conversation stays in the recycle bin before it is purged. */
  recycleBinDays: number;
  /** Seconds a chat may wait in the queue before it becomes `missed`. */
  missedAfterSeconds: number;
}

/** A record of who did what to what; it outlives the conversation it names. */
export interface AuditEvent {
  id: string;
  orgId: string;
  /** null when the system acted (the retention purge). */
  actorId: string | null;
  action: string;
  targetType: string;
  targetId: string;
  details: Record<string, unknown>;
  createdAt: number;
}
