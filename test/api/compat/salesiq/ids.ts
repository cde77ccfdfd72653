import type { AppContext } from '../../../../src/context.ts';

/**
 * Runs `fn` with the app's id generator handing out `ids` first (then ids as usual), so a
 * vendor page's example ids can be replayed literally through the real services and routes.
 */
export async function withIds<T>(ctx: AppContext, ids: readonly string[], fn: () => Promise<T>): Promise<T> {
  const original = ctx.ids;
  const queue = [...ids];
  ctx.ids = { next: () => queue.shift() ?? original.next() };
  try {
    return await fn();
  } finally {
    ctx.ids = original;
  }
}

/** The org of the vendor's examples: screen name `zylker`, with the ids the pages print. */
export const ZYLKER = {
  orgId: '466756000000002043',
  ownerId: '466756000000002099',
  patriciaId: '466756000000002001',
  departmentId: '466756000000002013',
  jamesId: '466756000000969001',
} as const;
