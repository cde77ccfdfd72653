import Type from 'typebox';
import { IdInput, IdString, MAX_EPOCH_MS, Timestamp } from '../schemas.ts';
import { MessageSchema } from './messages.ts';

/** A conversation's pinned message (presented by http/present/pins.ts). */

export const PinSchema = Type.Object({
  conversation_id: IdString,
  message: MessageSchema,
  sender_name: Type.String(),
  creator: Type.Object({ id: IdString, name: Type.String() }),
  created_at: Timestamp,
  expiry_time: Type.Integer({ description: 'Epoch ms when the pin ends, or -1 for never' }),
  notify: Type.Boolean(),
});

/* The request body of routes/pins.ts. */

export const PinBody = Type.Object(
  {
    message_id: IdInput,
    expiry_time: Type.Optional(
      Type.Integer({
        minimum: -1,
        maximum: MAX_EPOCH_MS,
        description: 'Epoch ms when the pin ends; -1 (default) for never',
      }),
    ),
    notify: Type.Optional(Type.Boolean({ description: 'Notify the members about the pin' })),
  },
  { additionalProperties: false },
);
