import type {
  Actor,
  AttachmentRef,
  AuditEvent,
  Conversation,
  Department,
  MemberState,
  Message,
  MessageMentions,
  Org,
  StickyMessage,
  SupportChat,
} from '../../domain/model.ts';
import type {
  ActorTable,
  AuditEventTable,
  ConversationTable,
  DepartmentTable,
  MemberTable,
  MessageTable,
  OrgTable,
  StickyMessageTable,
} from '../schema.ts';

/** Row -> domain mappers; the one place that knows ids are strings and flags are 0/1. */
const str = (v: unknown): string => String(v);
const optStr = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number => Number(v);
const optNum = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export function toOrg(r: OrgTable): Org {
  return { id: str(r.id), slug: r.slug, name: r.name, createdAt: num(r.created_at) };
}

export function toActor(r: ActorTable): Actor {
  return {
    id: str(r.id),
    orgId: str(r.org_id),
    kind: r.kind as Actor['kind'],
    role: r.role as Actor['role'],
    name: r.name,
    email: r.email,
    externalId: r.external_id,
    phone: r.phone,
    ip: r.ip,
    country: r.country,
    channel: r.channel as Actor['channel'],
    active: num(r.active) === 1,
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
  };
}

export function toConversation(r: ConversationTable): Conversation {
  return {
    id: str(r.id),
    orgId: str(r.org_id),
    kind: r.kind as Conversation['kind'],
    title: r.title,
    creatorId: str(r.creator_id),
    memberCount: num(r.member_count),
    lastMessageId: optStr(r.last_message_id),
    lastActivityAt: num(r.last_activity_at),
    createdAt: num(r.created_at),
    updatedAt: num(r.updated_at),
    deletedAt: optNum(r.deleted_at),
  };
}

export function toMember(r: MemberTable): MemberState {
  return {
    conversationId: str(r.conversation_id),
    actorId: str(r.actor_id),
    role: r.role as MemberState['role'],
    joinedAt: num(r.joined_at),
    leftAt: optNum(r.left_at),
    mutedUntil: optNum(r.muted_until),
    readMessageId: optStr(r.read_message_id),
    unreadCount: num(r.unread_count),
    draft: r.draft,
    draftUpdatedAt: optNum(r.draft_updated_at),
    hidden: num(r.hidden) === 1,
    pinned: num(r.pinned) === 1,
    activityAt: num(r.activity_at),
  };
}

export function toMessage(r: MessageTable): Message {
  return {
    id: str(r.id),
    orgId: str(r.org_id),
    conversationId: str(r.conversation_id),
    senderId: str(r.sender_id),
    type: r.type,
    text: r.text,
    metadata: r.metadata ? (JSON.parse(r.metadata) as Record<string, unknown>) : null,
    replyToId: optStr(r.reply_to_id),
    clientId: r.client_id,
    createdAt: num(r.created_at),
    editedAt: optNum(r.edited_at),
    deletedAt: optNum(r.deleted_at),
    mentions: r.mentions ? (JSON.parse(r.mentions) as MessageMentions) : null,
    threadId: optStr(r.thread_id),
    replyCount: num(r.reply_count ?? 0),
    lastReplyAt: optNum(r.last_reply_at),
    ...(r.attachments ? { attachments: JSON.parse(r.attachments) as AttachmentRef[] } : {}),
  };
}

export function toSticky(r: StickyMessageTable): StickyMessage {
  return {
    conversationId: str(r.conversation_id),
    messageId: str(r.message_id),
    creatorId: str(r.creator_id),
    createdAt: num(r.created_at),
    expiresAt: optNum(r.expires_at),
    notify: num(r.notify) === 1,
  };
}

/** A conversation row of kind `support` (the caller selected it as one). */
export function toSupportChat(r: ConversationTable): SupportChat {
  return {
    ...toConversation(r),
    kind: 'support',
    state: r.state as SupportChat['state'],
    departmentId: str(r.department_id),
    visitorId: str(r.visitor_id),
    ownerId: optStr(r.owner_id),
    attenderId: optStr(r.attender_id),
    question: r.question ?? '',
    referenceId: str(r.reference_id),
    uvid: r.uvid ?? '',
    channel: (r.channel ?? 'website') as SupportChat['channel'],
    attendedAt: optNum(r.attended_at),
    endedAt: optNum(r.ended_at),
    missedAt: optNum(r.missed_at),
    deletedAt: optNum(r.deleted_at),
    purgeAt: optNum(r.purge_at),
    deletedBy: optStr(r.deleted_by),
  };
}

export function toDepartment(r: DepartmentTable): Department {
  return { id: str(r.id), orgId: str(r.org_id), name: r.name, createdAt: num(r.created_at) };
}

export function toAuditEvent(r: AuditEventTable): AuditEvent {
  let details: Record<string, unknown> = {};
  try {
    details = JSON.parse(r.details) as Record<string, unknown>;
  } catch {
    details = {};
  }
  return {
    id: str(r.id),
    orgId: str(r.org_id),
    actorId: optStr(r.actor_id),
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    details,
    createdAt: num(r.created_at),
  };
}
