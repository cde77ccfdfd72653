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
