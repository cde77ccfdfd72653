import Type from 'typebox';
import { IdString, Nullable, Timestamp } from '../schemas.ts';

/** Schemas of the team-chat routes (routes/team-chat.ts). */

export const Emoji = Type.String({
  minLength: 1,
  maxLength: 64,
  description: 'One emoji (Unicode RGI, e.g. 👍 or 👍🏽) or a :shortcode: (1-32 of a-z 0-9 _ + -)',
});

export const EmojiParams = Type.Object({ id: IdString, messageId: IdString, emoji: Emoji });

export const ReactionSchema = Type.Object({
  emoji: Type.String(),
  count: Type.Integer(),
  actor_ids: Type.Array(IdString, { description: 'Who reacted, first 50 by time' }),
});

export const ReactionsSchema = Type.Object({
  message_id: IdString,
  reactions: Type.Array(ReactionSchema),
});

export const ThreadMeSchema = Type.Object({
  following: Type.Boolean(),
  read_count: Type.Integer({ description: 'Replies you have read' }),
  unread_count: Type.Integer({ description: "Replies you haven't read (0 unless you take part)" }),
});

export const FollowBody = Type.Object({ following: Type.Boolean() }, { additionalProperties: false });

export const ReceiptsSchema = Type.Object({
  enabled: Type.Boolean({
    description: 'false: the org turned receipts off, or the conversation is too large or a channel',
  }),
  reads: Type.Array(Type.Object({ actor_id: IdString, read_message_id: Nullable(IdString) })),
});

export const SeenBySchema = Type.Object({
  message_id: IdString,
  enabled: Type.Boolean(),
  seen_by: Type.Array(IdString),
});

export const PresenceStatusSchema = Type.Enum(['online', 'away', 'offline'], { type: 'string' });

export const PresenceSchema = Type.Object({
  actor_id: IdString,
  status: PresenceStatusSchema,
  last_active_at: Nullable(Timestamp),
});

export const PresenceListSchema = Type.Object({ items: Type.Array(PresenceSchema) });

export const SetPresenceBody = Type.Object(
  { status: Type.Enum(['online', 'away'], { type: 'string' }) },
  { additionalProperties: false },
);

export const PresenceQuery = Type.Object(
  {
    ids: Type.String({
      minLength: 1,
      maxLength: 2100,
      pattern: '^[0-9]{1,19}(,[0-9]{1,19}){0,99}$',
      description: 'Comma-separated actor ids, at most 100',
    }),
  },
  { additionalProperties: false },
);

export const TeamChatSettingsSchema = Type.Object({
  mention_all: Type.Boolean({ description: '@all notifies every member of groups and channels' }),
  read_receipts: Type.Boolean(),
  read_receipts_max_members: Type.Integer({ minimum: 2, maximum: 1000 }),
  digest_after_minutes: Type.Integer({ minimum: 0, maximum: 10_080, description: '0: no digest mail' }),
  public_url: Nullable(
    Type.String({ maxLength: 200, description: "The console's address, for links in mail" }),
  ),
});

export const NotifySettingsSchema = Type.Object({
  digest_minutes: Nullable(
    Type.Integer({ minimum: 0, maximum: 10_080, description: "null: the org's setting; 0: never" }),
  ),
  effective_digest_minutes: Type.Integer(),
});

export const UnsubscribeQuery = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 200 }) },
  { additionalProperties: false },
);

export const UnsubscribedSchema = Type.Object({ unsubscribed: Type.Boolean() });
