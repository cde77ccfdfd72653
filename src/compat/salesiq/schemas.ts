import Type from 'typebox';
import { VisitorChannel } from '../../domain/model.ts';
import { MAX_BULK_IDS } from '../../services/recycle-bin.ts';

/** TypeBox schemas of the live-chat vendor's requests and responses (seeds 000 and 001). */

export const ScreenNameParams = Type.Object({
  screen_name: Type.String({
    minLength: 1,
    maxLength: 100,
    description: "The portal's screen name: the org's slug",
  }),
});

export const ConversationParams = Type.Object({
  screen_name: ScreenNameParams.properties.screen_name,
  conversation_id: Type.String({
    pattern: '^[0-9]{1,19}$',
    format: 'parley-id',
    description: 'The conversation id',
  }),
});

export const ChannelHeaders = Type.Object({
  'x-siq-channel': Type.Optional(
    Type.String({
      description: `The channel the chats came from (${VisitorChannel.join(', ')}); only chats from it are deleted`,
    }),
  ),
});

export const DeleteBody = Type.Object(
  {
    ids: Type.Array(
      Type.Union([Type.String({ minLength: 1, maxLength: 19 }), Type.Integer({ minimum: 1 })]),
      {
        minItems: 1,
        maxItems: MAX_BULK_IDS,
        description: 'Chat ids, as JSON numbers (large ones keep every digit) or strings',
      },
    ),
  },
  { additionalProperties: false },
);

const Operator = Type.Object({
  image_key: Type.String(),
  email: Type.String(),
  name: Type.String(),
  is_bot: Type.Boolean(),
  id: Type.String(),
});

const EpochMs = Type.String({ pattern: '^[0-9]+$', description: 'Epoch milliseconds' });

export const ConversationObject = Type.Object({
  reference_id: Type.String(),
  owner: Type.Optional(Operator),
  chat_id: Type.String(),
  attender: Type.Optional(Operator),
  type: Type.String(),
  participants: Type.Array(Operator),
  unread_chats: Type.Boolean(),
  chat_status: Type.Object({ status_code: Type.Integer(), state: Type.Integer(), label: Type.String() }),
  uvid: Type.String(),
  question: Type.String(),
  notes: Type.Boolean(),
  attended_time: Type.Optional(EpochMs),
  end_time: Type.Optional(EpochMs),
  missed_time: Type.Optional(EpochMs),
  start_time: EpochMs,
  id: Type.String(),
  last_modified_time: EpochMs,
  status: Type.String(),
  app_id: Type.String(),
  department: Type.Optional(Type.Object({ name: Type.String(), id: Type.String() })),
  visitor: Type.Optional(
    Type.Object({
      name: Type.String(),
      id: Type.String(),
      country_code: Type.Optional(Type.String()),
      supported_operations: Type.Array(Type.String()),
      ip: Type.Optional(Type.String()),
      phone: Type.Optional(Type.String()),
      email: Type.Optional(Type.String()),
      type: Type.String(),
      channel_name: Type.String(),
      user_id: Type.Optional(Type.String()),
    }),
  ),
});

export const PickupResponse = Type.Object({
  url: Type.String(),
  object: Type.Literal('conversations'),
  data: ConversationObject,
});

export const DeleteResponse = Type.Object({
  url: Type.String(),
  object: Type.Literal('conversations'),
  data: Type.Object({
    deleted: Type.Array(Type.String(), { description: 'Ids moved to the recycle bin' }),
    failed: Type.Array(
      Type.Object({ id: Type.String(), code: Type.Integer(), reason: Type.String(), message: Type.String() }),
      { description: 'Ids refused, each with a vendor code and Parley reason' },
    ),
  }),
});

export const ErrorResponse = Type.Object(
  {
    url: Type.String(),
    object: Type.Literal('error'),
    error: Type.Object(
      { code: Type.Integer(), message: Type.String(), reason: Type.String() },
      { additionalProperties: true },
    ),
  },
  { description: "The vendor's error body" },
);
