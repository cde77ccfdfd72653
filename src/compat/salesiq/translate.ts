import { ValidationError } from '../../domain/errors.ts';
import { normalizeId } from '../../domain/ids.ts';
import { VisitorChannel as Channels, type VisitorChannel } from '../../domain/model.ts';

/** The live-chat vendor's request values -> service input (pure). */

/**
 * Delete Chat's `ids`: JSON numbers (large ones reach us as their exact decimal text, see
 * http/content.ts) or strings, each a conversation id; anything else is a 400 naming the item.
 */
export function toConversationIds(ids: readonly (string | number)[]): string[] {
  return ids.map((v, i) => {
    const id = normalizeId(v);
    if (!id)
      throw ValidationError.field(
        `body.ids.${i}`,
        'must be a chat id (a number of up to 19 digits)',
        'invalid_id',
      );
    return id;
  });
}

/** The `X-SIQ-Channel` header: one of the vendor's channels, or absent. */
export function toChannel(header: string | string[] | undefined): VisitorChannel | undefined {
  if (header === undefined) return undefined;
  const value = Array.isArray(header) ? header.join(',') : header;
  const channel = value.trim().toLowerCase();
  if (!(Channels as readonly string[]).includes(channel)) {
    throw ValidationError.field(
      'header.X-SIQ-Channel',
      `must be one of ${Channels.join(', ')}`,
      'invalid_channel',
    );
  }
  return channel as VisitorChannel;
}

/** Delete Chat's body and header -> the recycle-bin service's input (`invalid_id`, `invalid_channel` 400). */
export function toDeleteInput(
  body: { ids: readonly (string | number)[] },
  channelHeader: string | string[] | undefined,
): { ids: string[]; channel: VisitorChannel | undefined } {
  return { ids: toConversationIds(body.ids), channel: toChannel(channelHeader) };
}
