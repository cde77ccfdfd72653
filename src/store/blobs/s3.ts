import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { BLOB_KEY, type BlobStore } from './types.ts';

export interface S3Location {
  bucket: string;
  /** Key prefix inside the bucket ('' or ending in '/'). */
  prefix: string;
  endpoint: string | undefined;
  region: string;
  forcePathStyle: boolean;
  credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
}

/**
 * `s3://bucket[/prefix]?endpoint=http://host:port&region=…&path_style=true&access_key_id=…&secret_access_key=…`.
 * Without an endpoint it is AWS S3; without keys, the SDK's credential chain (environment,
 * profile, instance role). path_style defaults to true when an endpoint is given (most
 * S3-compatible servers want it).
 */
export function parseS3Url(url: string): S3Location {
  const u = new URL(url);
  const q = u.searchParams;
  const endpoint = q.get('endpoint') ?? undefined;
  const key = q.get('access_key_id');
  const secret = q.get('secret_access_key');
  const prefix = decodeURIComponent(u.pathname.replace(/^\/+/, ''));
  return {
    bucket: decodeURIComponent(u.hostname),
    prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    endpoint,
    region: q.get('region') ?? 'us-east-1',
    forcePathStyle: (q.get('path_style') ?? (endpoint ? 'true' : 'false')) === 'true',
    credentials: key && secret ? { accessKeyId: key, secretAccessKey: secret } : undefined,
  };
}

/** Blobs as objects of an S3-compatible bucket, through the AWS SDK v3. */
export function createS3BlobStore(loc: S3Location): BlobStore {
  const client = new S3Client({
    region: loc.region,
    forcePathStyle: loc.forcePathStyle,
    ...(loc.endpoint ? { endpoint: loc.endpoint } : {}),
    ...(loc.credentials ? { credentials: loc.credentials } : {}),
  });
  const objectKey = (key: string) => {
    if (!BLOB_KEY.test(key)) throw new Error(`invalid blob key ${JSON.stringify(key)}`);
    return `${loc.prefix}${key}`;
  };
  return {
    kind: 's3',
    async put(key, bytes, contentType) {
      await client.send(
        new PutObjectCommand({
          Bucket: loc.bucket,
          Key: objectKey(key),
          Body: bytes,
          ContentType: contentType,
          ContentLength: bytes.byteLength,
        }),
      );
    },
    async get(key) {
      try {
        const r = await client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: objectKey(key) }));
        return r.Body ? await r.Body.transformToByteArray() : new Uint8Array();
      } catch (err) {
        if (err instanceof NoSuchKey || (err as { name?: string }).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
    async delete(key) {
      await client.send(new DeleteObjectCommand({ Bucket: loc.bucket, Key: objectKey(key) }));
    },
    async list() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const r = await client.send(
          new ListObjectsV2Command({ Bucket: loc.bucket, Prefix: loc.prefix, ContinuationToken: token }),
        );
        for (const o of r.Contents ?? []) if (o.Key) keys.push(o.Key.slice(loc.prefix.length));
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token);
      return keys;
    },
    close() {
      client.destroy();
    },
  };
}
