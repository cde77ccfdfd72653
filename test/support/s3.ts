import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';

/**
 * An S3-compatible server for the tests: s3rver (npm), on 127.0.0.1, keeping its objects as
 * files in a temporary folder (`dir`, which the erasure suite searches), with one bucket.
 */
export interface TestS3 {
  /** STORAGE_URL for Parley. */
  url: string;
  /** Where s3rver keeps the bucket's objects on disk. */
  dir: string;
  close(): Promise<void>;
}

export async function startS3(bucket = 'parley-test'): Promise<TestS3> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir });
  const { port } = (await server.run()) as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  client.destroy();
  return {
    url: `s3://${bucket}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1&access_key_id=S3RVER&secret_access_key=S3RVER`,
    dir,
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
