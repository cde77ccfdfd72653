/**
 * Time-ordered 64-bit ids written as decimal strings (a Snowflake layout):
 * 41 bits of milliseconds since 2020-01-01, 10 bits of node id, 12 bits of sequence.
 * Ids from one generator are strictly increasing; ids from different nodes never collide
 * as long as each node has its own NODE_ID.
 */
export const ID_EPOCH_MS = 1_577_836_800_000; // 2020-01-01T00:00:00Z
const MAX_ID = (1n << 63n) - 1n;
const ID_PATTERN = /^[0-9]{1,19}$/;

export interface IdGenerator {
  next(): string;
}

export function createIdGenerator(nodeId: number, now: () => number = Date.now): IdGenerator {
  if (!Number.isInteger(nodeId) || nodeId < 0 || nodeId > 1023) {
    throw new RangeError('nodeId must be an integer in 0..1023');
  }
  const node = BigInt(nodeId);
  let lastMs = -1;
  let seq = 0;
  return {
    next() {
      let ms = now() - ID_EPOCH_MS;
      if (ms < lastMs) ms = lastMs; // clock went back: stay monotonic
      if (ms === lastMs) {
        seq = (seq + 1) & 0xfff;
        if (seq === 0) ms = lastMs + 1; // sequence exhausted: borrow the next millisecond
      } else {
        seq = 0;
      }
      lastMs = ms;
      return ((BigInt(ms) << 22n) | (node << 12n) | BigInt(seq)).toString();
    },
  };
}

/** True for a decimal string that can be a Parley id (1..2^63-1). */
export function isId(value: unknown): value is string {
  if (typeof value !== 'string' || !ID_PATTERN.test(value)) return false;
  const n = BigInt(value);
  return n > 0n && n <= MAX_ID;
}

/** The millisecond timestamp an id was made at. */
export function idTime(id: string): number {
  return Number(BigInt(id) >> 22n) + ID_EPOCH_MS;
}

/** Normalizes an id given as a string or a JSON number to its canonical decimal string. */
export function normalizeId(value: string | number): string | undefined {
  const s = typeof value === 'number' ? (Number.isSafeInteger(value) ? String(value) : '') : value.trim();
  if (!isId(s)) return undefined;
  return BigInt(s).toString();
}
