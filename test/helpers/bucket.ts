/** The bucket seen with the raw SDK client, bypassing r2-mcp: plant objects, snapshot every key's bytes. */
import { createHash } from "node:crypto";
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import type { S3TestServer } from "./s3-server.js";
import { snapshotTree } from "./tmp.js";

async function sha256(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest("hex");
}

/** Every key of the bucket with the sha256 of its bytes. */
export async function snapshotBucket(s3: S3Client, bucket: string): Promise<Record<string, string>> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const hashes = await Promise.all(
    keys.map(async (Key) => sha256((await s3.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body as AsyncIterable<Uint8Array>)),
  );
  return Object.fromEntries(keys.map((key, i) => [key, hashes[i]!]));
}

/** The local tree and (for S3) the bucket, byte for byte. */
export async function snapshotAll(dir: string, s3?: { client: S3Client; server: S3TestServer }) {
  return {
    tree: await snapshotTree(dir),
    bucket: s3 ? await snapshotBucket(s3.client, s3.server.bucket) : {},
  };
}

/** Objects put straight into the bucket (hostile keys included). */
export async function plantObjects(s3: S3Client, bucket: string, objects: Record<string, string | Buffer>): Promise<void> {
  for (const [Key, Body] of Object.entries(objects)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
}

/**
 * A multipart object written with the raw client in parts of `partSize` bytes: with a part size
 * no tool uses (e.g. 6 MiB), a server that does not tell part sizes (fauxqs) leaves its ETag
 * unverifiable. Returns the ETag.
 */
export async function putInParts(s3: S3Client, bucket: string, key: string, data: Buffer, partSize: number): Promise<string> {
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const Parts: { PartNumber: number; ETag: string | undefined }[] = [];
  for (let start = 0, PartNumber = 1; start < data.length && PartNumber <= 10_000; start += partSize, PartNumber++) {
    const body = data.subarray(start, start + partSize);
    const out = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber, Body: body }));
    Parts.push({ PartNumber, ETag: out.ETag });
  }
  const done = await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts } }));
  return (done.ETag ?? "").replaceAll('"', "");
}
