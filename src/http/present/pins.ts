import { iso, presentMessage } from '../../domain/presenters.ts';
import type { PinView } from '../../services/pins.ts';

/** A pinned message as the native API shows it (http/schemas/pins.ts). */

export function presentPin(v: PinView) {
  return {
    conversation_id: v.pin.conversationId,
    message: presentMessage(v.message),
    sender_name: v.senderName,
    creator: { id: v.pin.creatorId, name: v.creatorName },
    created_at: iso(v.pin.createdAt),
    expiry_time: v.pin.expiresAt ?? -1,
    notify: v.pin.notify,
  };
}
