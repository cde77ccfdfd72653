import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { BLOB_KEY, type BlobStore } from './types.ts';

/**
 * Blobs as files under `root` (the embedded default: no service needed). A write goes to a
 * temporary name first and is renamed into place, so a crash never leaves half a file under a
 * real key. Keys are checked against BLOB_KEY, so no key can leave `root`.
 */
export function createFileBlobStore(root: string): BlobStore {
  const path = (key: string) => {
    if (!BLOB_KEY.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    return join(root, key);
  };
  return {
    kind: 'file',
    async put(key, bytes) {
      const p = path(key);
      await mkdir(dirname(p), { recursive: true });
      const tmp = `${p}.${process.pid}.${Date.now()}.tmp`;
      await writeFile(tmp, bytes, { mode: 0o600 });
      await rename(tmp, p);
    },
    async get(key) {
      try {
        return await readFile(path(key));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    async delete(key) {
      await rm(path(key), { force: true });
    },
    async list() {
      try {
        const entries = await readdir(root, { recursive: true, withFileTypes: true });
        return entries
          .filter((e) => e.isFile())
          .map((e) => relative(root, join(e.parentPath, e.name)).split('\\').join('/'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    },
    close() {},
  };
}
