/**
 * The part size of a multipart object, so its ETag can be recomputed from a local file. S3 answers
 * a HEAD with PartNumber=1 with that part's length and x-amz-mp-parts-count; a server that ignores
 * the parameter (it answers for the whole object, without a parts count) or refuses it tells
 * nothing, and the caller falls back to the usual part sizes.
 */
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import type { S3Bucket } from "./bucket.js";
import { retryKind, s3ErrorInfo } from "./errors.js";

export async function firstPartSize(bucket: S3Bucket, key: string): Promise<number | undefined> {
  try {
    const out = await bucket.client.send(new HeadObjectCommand({ Bucket: bucket.name, Key: key, PartNumber: 1 }));
    if (out.PartsCount === undefined || out.ContentLength === undefined || out.ContentLength < 1) return undefined;
    return out.ContentLength;
  } catch (err) {
    // Throttling, outages and refused credentials are worth reporting; a server that does not
    // know the parameter (400, 404 after a rewrite, 416, 501) simply does not tell.
    if (retryKind(err) !== undefined || s3ErrorInfo(err).status === 403) throw bucket.fail(err, "HEAD", key);
    return undefined;
  }
}
