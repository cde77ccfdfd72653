import { mkdir, readdir, readFile, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { BLOB_KEY, type BlobStore } from './types.ts';

/**
 * Blobs as files under `root` (the embedded default: no service needed). A write goes to a
 * temporary name first and is renamed into place, so a crash never leaves half a file under a
 * real key. Keys are checked against BLOB_KEY, so no key can leave `root`. A delete removes the
 * org's folder once it is empty, so a deleted org leaves not even its id behind; a write that
 * finds its folder removed meanwhile makes it again.
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
      const tmp = `${p}.${process.pid}.${Date.now()}.tmp`;
      for (let attempt = 1; ; attempt++) {
        await mkdir(dirname(p), { recursive: true });
        try {
          await writeFile(tmp, bytes, { mode: 0o600 });
          break;
        } catch (err) {
          // The folder was removed by a delete between mkdir and the write: make it again.
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 3) throw err;
        }
      }
      // The folder holds the temporary file now, so no delete can remove it before the rename.
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
      const p = path(key);
      await rm(p, { force: true });
      // The org's folder, when that was its last file (not empty: it stays).
      await rmdir(dirname(p)).catch(() => undefined);
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
