/**
 * Server-side copies within one endpoint and credentials: CopyObject up to the multipart-copy
 * threshold (5 GiB, the largest object one CopyObject may copy), UploadPartCopy above it. The
 * source version is pinned with x-amz-copy-source-if-match on every request, and a create carries
 * If-None-Match: * (CopyObject, CompleteMultipartUpload), so a racing writer wins alone.
 */
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  HeadObjectCommand,
  UploadPartCopyCommand,
} from "@aws-sdk/client-s3";
import pMap from "p-map";
import { alreadyExists, changedSince } from "../errors.js";
import { isPlainMd5 } from "../etag.js";
import type { CopyOptions, CopyResult, ObjectInfo } from "../store.js";
import type { S3Bucket } from "./bucket.js";
import { abortable } from "./client.js";
import { attemptsOf, isS3PreconditionFailed } from "./errors.js";
import { normalizeEtag } from "./etag.js";
import { confirmAborted, type PendingAborts } from "./multipart.js";

/** 5 GiB: the largest object a single CopyObject may copy (S3 and R2). */
export const MULTIPART_COPY_THRESHOLD = 5 * 1024 ** 3;
/** Parts of a multipart copy: few requests, well inside the 5 GiB part limit. */
export const MULTIPART_COPY_PART_SIZE = 512 * 1024 ** 2;

export interface CopyRequest {
  /** The source's bucket (on this endpoint, reached with these credentials) and key. */
  from: { bucket: string; key: string };
  key: string;
  options: CopyOptions;
  /** Whether the copy replaces an object (reported as `replaced`). */
  replaced: boolean;
  head: (key: string) => Promise<ObjectInfo | undefined>;
}

/** The x-amz-copy-source header: bucket and URL-encoded key. */
function copySourceOf(from: { bucket: string; key: string }): string {
  return `${from.bucket}/${encodeURIComponent(from.key).replace(/%2F/g, "/")}`;
}

const quoted = (etag: string) => `"${etag}"`;

export async function copyWhole(bucket: S3Bucket, request: CopyRequest): Promise<CopyResult> {
  const { key, options } = request;
  const { expect } = options;
  try {
    const input = {
      Bucket: bucket.name,
      Key: key,
      CopySource: copySourceOf(request.from),
      CopySourceIfMatch: quoted(expect.etag),
      MetadataDirective: "COPY" as const,
      ...(options.mode === "create" ? { IfNoneMatch: "*" } : {}),
    };
    const out = await bucket.client.send(new CopyObjectCommand(input), abortable(bucket.client, input, options.signal));
    bucket.known = true;
    const etag = normalizeEtag(out.CopyObjectResult?.ETag);
    options.onBytes?.(expect.size);
    // A plain MD5 on both sides must agree: a server that ignored the pin copied another version.
    const sourceEtag = isPlainMd5(etag) && isPlainMd5(expect.etag) && etag !== expect.etag ? etag : expect.etag;
    return { key, size: expect.size, etag, replaced: request.replaced, sourceEtag };
  } catch (err) {
    if (isS3PreconditionFailed(err)) return preconditionFailed(request, err);
    throw err;
  }
}

/**
 * Above the threshold: the parts are copied on the server in parallel, each pinned to the source
 * version; a failure aborts the upload, so nothing partial is left.
 */
export async function copyInParts(
  bucket: S3Bucket,
  pending: PendingAborts,
  request: CopyRequest,
  partSize: number,
  queueSize: number,
): Promise<CopyResult> {
  const { key, options } = request;
  const { expect, signal } = options;
  const send = signal ? { abortSignal: signal } : {};
  const sourceHead = await bucket.client.send(
    new HeadObjectCommand({ Bucket: request.from.bucket, Key: request.from.key, IfMatch: quoted(expect.etag) }),
    send,
  );
  if (sourceHead.ContentLength !== expect.size) throw changedSince(request.from.key);
  const created = await bucket.client.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket.name,
      Key: key,
      ...(sourceHead.ContentType ? { ContentType: sourceHead.ContentType } : {}),
      // A multipart copy starts a new object: the source's user metadata is carried over by hand.
      ...(sourceHead.Metadata && Object.keys(sourceHead.Metadata).length > 0 ? { Metadata: sourceHead.Metadata } : {}),
    }),
    send,
  );
  const uploadId = created.UploadId as string;
  const ranges: { part: number; start: number; end: number }[] = [];
  for (let start = 0, part = 1; start < expect.size; start += partSize, part++) {
    ranges.push({ part, start, end: Math.min(expect.size, start + partSize) });
  }
  let copied = 0;
  try {
    const parts = await pMap(
      ranges,
      async ({ part, start, end }) => {
        const out = await bucket.client.send(
          new UploadPartCopyCommand({
            Bucket: bucket.name,
            Key: key,
            UploadId: uploadId,
            PartNumber: part,
            CopySource: copySourceOf(request.from),
            CopySourceRange: `bytes=${start}-${end - 1}`,
            CopySourceIfMatch: quoted(expect.etag),
          }),
          send,
        );
        copied += end - start;
        options.onBytes?.(copied);
        return { PartNumber: part, ETag: out.CopyPartResult?.ETag };
      },
      { concurrency: queueSize, stopOnError: true, ...(signal ? { signal } : {}) },
    );
    const done = await bucket.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket.name,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
        ...(options.mode === "create" ? { IfNoneMatch: "*" } : {}),
      }),
      send,
    );
    bucket.known = true;
    return { key, size: expect.size, etag: normalizeEtag(done.ETag), replaced: request.replaced, sourceEtag: expect.etag };
  } catch (err) {
    await confirmAborted(bucket, pending, key, uploadId, err);
    if (isS3PreconditionFailed(err)) return preconditionFailed(request, err);
    throw err;
  }
}

/**
 * 412 answers two conditions: the destination exists (a create lost a race), or the source is no
 * longer the version listed. A repeat whose first attempt's answer was lost finds its own copy.
 */
async function preconditionFailed(request: CopyRequest, err: unknown): Promise<CopyResult> {
  const { expect, mode } = request.options;
  const existing = mode === "create" ? await request.head(request.key) : undefined;
  if (existing) {
    if (attemptsOf(err) > 1 && existing.size === expect.size && existing.etag === expect.etag) {
      return { key: request.key, size: existing.size, etag: existing.etag, replaced: false, sourceEtag: expect.etag };
    }
    throw alreadyExists(request.key, err);
  }
  throw changedSince(request.from.key, err);
}
