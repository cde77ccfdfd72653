import type { SelectorFieldNames } from '../../domain/deletion-jobs.ts';
import { ValidationError } from '../../domain/errors.ts';
import { normalizeId } from '../../domain/ids.ts';
import type { CreateJobInput } from '../../services/deletion-jobs.ts';

/** The bot vendor's request -> service input (pure). */

/** The vendor's field names, so errors name what the caller sent. */
export const KORE_FIELDS: SelectorFieldNames = {
  conversationIds: 'body.conversationIds',
  customerId: 'body.cId',
  startDate: 'body.startDate',
  endDate: 'body.endDate',
};

/** `conversationIds` (Parley conversation ids, strings or numbers) or `cId` with its dates. */
export function toJobInput(body: {
  conversationIds?: (string | number)[] | undefined;
  cId?: string | undefined;
  startDate?: string | undefined;
  endDate?: string | undefined;
  dryRun?: boolean | undefined;
}): CreateJobInput {
  return {
    conversationIds: body.conversationIds?.map((v, i) => {
      const id = normalizeId(v);
      if (!id)
        throw ValidationError.field(
          `body.conversationIds.${i}`,
          'must be a conversation id (a number of up to 19 digits)',
          'invalid_id',
        );
      return id;
    }),
    customerId: body.cId,
    startDate: body.startDate,
    endDate: body.endDate,
    dryRun: body.dryRun,
  };
}
