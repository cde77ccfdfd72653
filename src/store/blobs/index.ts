import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFileBlobStore } from './files.ts';
import { createS3BlobStore, parseS3Url } from './s3.ts';
import type { BlobStore } from './types.ts';

export { BLOB_KEY, type BlobStore } from './types.ts';

/**
 * The store named by STORAGE_URL: `file:///abs/dir` (or unset: `attachments/` beside the
 * SQLite file, `./data/attachments` by default), or `s3://bucket?endpoint=…&region=…`
 * (credentials from the AWS SDK's usual chain, or `access_key_id`/`secret_access_key` in the
 * URL for local servers).
 */
export function createBlobStore(storageUrl: string | undefined, sqlitePath: string): BlobStore {
  if (storageUrl?.startsWith('s3://')) return createS3BlobStore(parseS3Url(storageUrl));
  if (storageUrl?.startsWith('file:')) return createFileBlobStore(fileURLToPath(storageUrl));
  const base = sqlitePath === '' || sqlitePath === ':memory:' ? './data/parley.db' : sqlitePath;
  return createFileBlobStore(join(dirname(resolve(base)), 'attachments'));
}
