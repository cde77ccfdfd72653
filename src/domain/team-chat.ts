import type { ConversationKind, Message, MessageMentions } from './model.ts';

/**
 * Team chat rules (issue 18), pure: mention syntax, emoji validation, the org's team-chat
 * settings, and the message fields they add.
 */

/**
 * Mentions in a message's text: `<@ID>` names a user by id (the id the API returns; users
 * have no unique handle, names may repeat), `@all` every member of a group or channel (when
 * the org allows it). Only ids of the conversation's current members count.
 */
const USER_MENTION = /<@([1-9][0-9]{0,18})>/g;
const ALL_MENTION = /(^|[^\p{L}\p{N}_<])@all(?![\p{L}\p{N}_])/u;
/** At most this many distinct users are resolved per message (the rest are plain text). */
export const MAX_MENTIONS = 50;

export interface ParsedMentions {
  ids: string[];
  all: boolean;
}

/** The mentions written in `text` (not yet checked against the members). */
export function parseMentions(text: string | null): ParsedMentions {
  if (!text?.includes('@')) return { ids: [], all: false };
  const ids = new Set<string>();
  for (const m of text.matchAll(USER_MENTION)) {
    if (ids.size >= MAX_MENTIONS) break;
    ids.add(m[1]!);
  }
  return { ids: [...ids], all: ALL_MENTION.test(text) };
}

/** Whether a conversation kind allows `@all` at all (groups and channels). */
export function allowsMentionAll(kind: ConversationKind): boolean {
  return kind === 'group' || kind === 'channel';
}

/**
 * A reaction: one RGI emoji (what Unicode recommends for general interchange: a single
 * pictograph, a flag, a keycap, a ZWJ sequence, with skin tones) or a `:shortcode:` of 1-32
 * lowercase letters, digits, `_`, `+`, `-` (custom emoji, as Slack and Mattermost name them).
 */
const RGI_EMOJI = /^\p{RGI_Emoji}$/v;
const SHORTCODE = /^:[a-z0-9_+-]{1,32}:$/;
export const MAX_EMOJI_LENGTH = 64;

export function isValidReaction(emoji: string): boolean {
  if (emoji.length === 0 || emoji.length > MAX_EMOJI_LENGTH) return false;
  return SHORTCODE.test(emoji) || RGI_EMOJI.test(emoji);
}

/** The org's team-chat settings (org settings JSON, key `team_chat`). */
export interface TeamChatSettings {
  /** Whether `@all` notifies in groups and channels. */
  mentionAll: boolean;
  /** Whether members see who has read ("seen by"). */
  readReceipts: boolean;
  /** Receipts only in conversations with at most this many members (direct chats always qualify). */
  readReceiptsMaxMembers: number;
  /** Minutes offline before a digest mail of unread direct messages and mentions; 0: off. */
  digestAfterMinutes: number;
  /** The console's address, for the links in digest mail; null: http://HOST:PORT of the node. */
  publicUrl: string | null;
}

export const TEAM_CHAT_SETTINGS_KEY = 'team_chat';
export const READ_RECEIPTS_MAX_RANGE = { min: 2, max: 1000 };
export const DIGEST_MINUTES_RANGE = { min: 0, max: 10_080 };

export const DEFAULT_TEAM_CHAT_SETTINGS: TeamChatSettings = {
  mentionAll: true,
  readReceipts: true,
  readReceiptsMaxMembers: 20,
  digestAfterMinutes: 30,
  publicUrl: null,
};

/** An http(s) URL of at most 200 characters without credentials, query or fragment. */
export function isValidPublicUrl(v: string): boolean {
  if (v.length > 200) return false;
  try {
    const u = new URL(v);
    return (
      (u.protocol === 'http:' || u.protocol === 'https:') &&
      !u.username &&
      !u.password &&
      !u.search &&
      !u.hash
    );
  } catch {
    return false;
  }
}

const inRange = (v: unknown, r: { min: number; max: number }): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= r.min && v <= r.max;

/** Reads the settings from an org's settings JSON; missing or unusable values take the defaults. */
export function teamChatSettingsFrom(settings: Record<string, unknown>): TeamChatSettings {
  const raw = settings[TEAM_CHAT_SETTINGS_KEY];
  const o = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const d = DEFAULT_TEAM_CHAT_SETTINGS;
  return {
    mentionAll: typeof o.mention_all === 'boolean' ? o.mention_all : d.mentionAll,
    readReceipts: typeof o.read_receipts === 'boolean' ? o.read_receipts : d.readReceipts,
    readReceiptsMaxMembers: inRange(o.read_receipts_max_members, READ_RECEIPTS_MAX_RANGE)
      ? o.read_receipts_max_members
      : d.readReceiptsMaxMembers,
    digestAfterMinutes: inRange(o.digest_after_minutes, DIGEST_MINUTES_RANGE)
      ? o.digest_after_minutes
      : d.digestAfterMinutes,
    publicUrl:
      typeof o.public_url === 'string' && isValidPublicUrl(o.public_url) ? o.public_url : d.publicUrl,
  };
}

export function teamChatSettingsJson(s: TeamChatSettings) {
  return {
    mention_all: s.mentionAll,
    read_receipts: s.readReceipts,
    read_receipts_max_members: s.readReceiptsMaxMembers,
    digest_after_minutes: s.digestAfterMinutes,
    public_url: s.publicUrl,
  };
}

/** Whether read receipts show in a conversation of this kind and size. */
export function receiptsApply(s: TeamChatSettings, kind: ConversationKind, memberCount: number): boolean {
  if (!s.readReceipts) return false;
  if (kind === 'direct') return true;
  return kind === 'group' && memberCount <= s.readReceiptsMaxMembers;
}

/** The message fields team chat adds (see presenters.ts presentMessage). */
export function presentTeamChatFields(m: Message) {
  const mentions: MessageMentions = m.mentions ?? { ids: [], all: false };
  return {
    mentions: m.deletedAt === null ? mentions.ids : [],
    mentions_all: m.deletedAt === null ? mentions.all : false,
    thread_id: m.threadId ?? null,
    reply_count: m.replyCount ?? 0,
    last_reply_at:
      m.lastReplyAt === null || m.lastReplyAt === undefined ? null : new Date(m.lastReplyAt).toISOString(),
    ...(m.reactions
      ? { reactions: m.reactions.map((r) => ({ emoji: r.emoji, count: r.count, actor_ids: r.actorIds })) }
      : {}),
  };
}
