/**
 * Where attachment bytes live. Keys are made by Parley only (`<org>/<attachment>` and
 * `<org>/<attachment>.preview`: digits, a slash and a suffix), never from a client's input.
 */
export interface BlobStore {
  /** `file` (under the data directory) or `s3`. */
  readonly kind: 'file' | 's3';
  put(key: string, bytes: Uint8Array, contentType: string): Promise<void>;
  /** The bytes, or undefined when there is no such key. */
  get(key: string): Promise<Uint8Array | undefined>;
  /** Removes the key; no error when it is already gone. */
  delete(key: string): Promise<void>;
  /** Every key (tests and the erasure suite). */
  list(): Promise<string[]>;
  close(): void;
}

/** A key Parley makes: digits, `/`, digits, an optional `.preview`. Anything else is refused. */
export const BLOB_KEY = /^[0-9]{1,19}\/[0-9]{1,19}(\.preview)?$/;
