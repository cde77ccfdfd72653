import Type from 'typebox';
import { IdString, Timestamp } from '../schemas.ts';
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
