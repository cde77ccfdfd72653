import type { Static } from 'typebox';
import type { Actor, SupportChat } from '../../domain/model.ts';
import type { BulkOutcome } from '../../services/recycle-bin.ts';
import type { SupportChatView } from '../../services/support.ts';
import { codeForReason } from './errors.ts';
import type { ConversationObject as ConversationObjectSchema } from './schemas.ts';

type ConversationObject = Static<typeof ConversationObjectSchema>;

/**
 * Domain -> the live-chat vendor's shapes (pure). Ids are decimal strings, times epoch-ms
 * strings, as on the vendor's pages. Fields Parley has no value for are left out.
 */

/** What a visitor's chat can do in Parley: the vendor page's list (Parley does not restrict by channel). */
export const SUPPORTED_OPERATIONS = [
  'bot_chat',
  'file_share',
  'audio_call',
  'video_call',
  'screen_share',
  'remote_share',
  'edit_message',
  'delete_message',
  'reply_message',
  'block_ip',
  'article_share',
] as const;

export interface ChatStatus {
  status_code: number;
  state: number;
  label: string;
}

/**
 * The vendor's chat_status: its pages show connected as {0, 2, "Connected"} and an attended chat
 * that ended as {2, 4, "Attended Online"}; the other states follow the same scheme
 * (status_code 0 open / 2 closed; state 1 waiting, 2 connected, 3 missed, 4 ended).
 */
export function chatStatus(chat: Pick<SupportChat, 'state' | 'attendedAt'>): ChatStatus {
  switch (chat.state) {
    case 'waiting':
      return { status_code: 0, state: 1, label: 'Waiting' };
    case 'connected':
      return { status_code: 0, state: 2, label: 'Connected' };
    case 'missed':
      return { status_code: 2, state: 3, label: 'Missed' };
    case 'ended':
      return chat.attendedAt === null
        ? { status_code: 2, state: 4, label: 'Ended' }
        : { status_code: 2, state: 4, label: 'Attended Online' };
  }
}

const ms = (t: number) => String(t);

/** An operator (owner, attender, participant). Parley has no avatars: image_key is `0_<id>` as in the vendor's sample. */
export function presentOperator(a: Actor) {
  return { image_key: `0_${a.id}`, email: a.email ?? '', name: a.name, is_bot: a.kind === 'bot', id: a.id };
}

/** `contact` for a visitor the app knows (it has the app's own user id), `lead` otherwise. */
export function visitorType(v: Actor): 'contact' | 'lead' {
  return v.externalId !== null ? 'contact' : 'lead';
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** The vendor's visitor object; fields Parley has no value for are left out. */
export function presentVisitor(v: Actor, chat: SupportChat): NonNullable<ConversationObject['visitor']> {
  return {
    name: v.name,
    id: v.id,
    country_code: opt(v.country),
    supported_operations: [...SUPPORTED_OPERATIONS],
    ip: opt(v.ip),
    phone: opt(v.phone),
    email: opt(v.email),
    type: visitorType(v),
    channel_name: chat.channel,
    user_id: opt(v.externalId),
  };
}

/**
 * The vendor's conversation object. `chat_id` is `LD_<id>_<start time in seconds>`; `app_id` is
 * the org's id (Parley's one "brand" per org); `notes` is false (Parley has no chat notes);
 * `unread_chats` says whether the caller has unread messages in the chat. Fields in the
 * vendor's order (the response schema fixes it).
 */
export function presentConversation(v: SupportChatView, appId: string): ConversationObject {
  const c = v.chat;
  const status = chatStatus(c);
  return {
    reference_id: c.referenceId,
    owner: v.owner ? presentOperator(v.owner) : undefined,
    chat_id: `LD_${c.id}_${Math.floor(c.createdAt / 1000)}`,
    attender: v.attender ? presentOperator(v.attender) : undefined,
    type: 'chat',
    participants: v.participants.map(presentOperator),
    unread_chats: (v.unreadCount ?? 0) > 0,
    chat_status: status,
    uvid: c.uvid,
    question: c.question,
    notes: false,
    attended_time: c.attendedAt === null ? undefined : ms(c.attendedAt),
    end_time: c.endedAt === null ? undefined : ms(c.endedAt),
    missed_time: c.missedAt === null ? undefined : ms(c.missedAt),
    start_time: ms(c.createdAt),
    id: c.id,
    last_modified_time: ms(c.updatedAt),
    status: status.label,
    app_id: appId,
    department: v.department ? { name: v.department.name, id: v.department.id } : undefined,
    visitor: v.visitor ? presentVisitor(v.visitor, c) : undefined,
  };
}

/** The vendor's success envelope. */
export function envelope<O extends string, D>(
  url: string,
  object: O,
  data: D,
): { url: string; object: O; data: D } {
  return { url, object, data };
}

/**
 * The answer to Delete Chat, which the page leaves open: the ids moved to the recycle bin, and
 * each refused id with a vendor code, Parley's reason and a message.
 */
export function presentDeleteResult(outcomes: readonly BulkOutcome[]) {
  return {
    deleted: outcomes.filter((o) => o.ok).map((o) => o.id),
    failed: outcomes.flatMap((o) =>
      o.ok ? [] : [{ id: o.id, code: codeForReason(o.code), reason: o.code, message: o.message }],
    ),
  };
}
