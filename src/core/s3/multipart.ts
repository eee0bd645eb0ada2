/**
 * Files above the multipart threshold: lib-storage uploads the parts in parallel (buffers, which
 * the SDK retries) and aborts the upload on failure. An upload whose abort could not reach the
 * server is queued (PendingAborts) and aborted before the next upload.
 */
import { Readable } from "node:stream";
import { AbortMultipartUploadCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { q, StorageError } from "../errors.js";
import { sameBytes } from "../etag.js";
import type { OpenFile } from "../fs/descriptor.js";
import type { PutResult } from "../store.js";
import { exactBytes } from "../store-ext.js";
import type { S3Bucket } from "./bucket.js";
import { attemptsOf, isS3NotFound, isS3PreconditionFailed, s3ErrorInfo } from "./errors.js";
import { normalizeEtag } from "./etag.js";
import { holdingSentBytes, type PutRequest } from "./put.js";

export interface MultipartPut extends PutRequest {
  /** A local file read by descriptor, or a stream read once (parts are buffered, so the SDK can repeat them). */
  body: { kind: "file"; file: OpenFile } | { kind: "stream"; body: AsyncIterable<Uint8Array>; size: number };
  contentType: string;
  /** User metadata, as PutObject's `Metadata` (empty: none). */
  metadata: { Metadata?: Record<string, string> };
  /** If-None-Match: * for a create. */
  condition: { IfNoneMatch?: string };
  partSize: number;
  /** Parts in flight. */
  queueSize: number;
}

export async function putMultipart(bucket: S3Bucket, pending: PendingAborts, put: MultipartPut): Promise<PutResult> {
  const { key, body, options, condition } = put;
  const size = body.kind === "file" ? body.file.size : body.size;
  const upload = new Upload({
    client: bucket.client,
    queueSize: put.queueSize,
    partSize: put.partSize,
    leavePartsOnError: false,
    params: {
      Bucket: bucket.name,
      Key: key,
      Body: body.kind === "file" ? body.file.stream() : Readable.from(exactBytes(body.body, body.size, key)),
      ContentLength: size,
      ContentType: put.contentType,
      ...put.metadata,
      // Spread into CompleteMultipartUpload too, where R2 and S3 check it.
      ...condition,
    },
  });
  upload.on("httpUploadProgress", (p) => {
    if (p.loaded !== undefined) options.onBytes?.(p.loaded);
  });
  const onAbort = () => void upload.abort().catch(() => undefined);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    const out = await upload.done();
    bucket.known = true;
    return { key, size, etag: normalizeEtag(out.ETag), replaced: put.replaced };
  } catch (err) {
    // CompleteMultipartUpload repeated after its answer was lost: the first one completed, so the
    // repeat finds the key taken (412) or the upload gone (NoSuchUpload).
    const completedEarlier =
      (condition.IfNoneMatch !== undefined && isS3PreconditionFailed(err)) || s3ErrorInfo(err).name === "NoSuchUpload";
    // A stream cannot be read again to compare: its caller checks what landed.
    if (!options.signal?.aborted && completedEarlier && attemptsOf(err) > 1 && body.kind === "file") {
      const file = body.file;
      const own = await holdingSentBytes(bucket, put, attemptsOf(err), (info) => sameBytes(file, file.size, info, options.signal));
      if (own) return { key, size, etag: own.etag, replaced: condition.IfNoneMatch === undefined && put.replaced };
    }
    // Also when cancelled: the call returns only once no unfinished upload is left behind.
    if (upload.uploadId !== undefined) await confirmAborted(bucket, pending, key, upload.uploadId, err);
    throw err;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * lib-storage has already tried to abort the failed upload; this makes sure (an abort is
 * idempotent: NoSuchUpload means it is gone). When the server cannot be reached the upload is
 * remembered and aborted before the next upload, and the error says so.
 */
export async function confirmAborted(
  bucket: S3Bucket,
  pending: PendingAborts,
  key: string,
  uploadId: string,
  cause: unknown,
): Promise<void> {
  try {
    await bucket.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.name, Key: key, UploadId: uploadId }));
    return;
  } catch (err) {
    if (isS3NotFound(err)) return;
  }
  pending.add(uploadId, key);
  const base = bucket.fail(cause, "PUT", key);
  throw new StorageError(
    base.kind,
    `${base.message}. Its unfinished multipart upload could not be aborted either; it is aborted before this connection's next upload (R2 also removes unfinished uploads after 7 days)`,
    { key, cause, details: { uploadId } },
  );
}

/** Multipart uploads whose abort failed (server unreachable): retried before the next upload. */
export class PendingAborts {
  /** Upload id → key. */
  private readonly uploads = new Map<string, string>();
  private run: Promise<void> | undefined;

  constructor(private readonly bucket: S3Bucket) {}

  add(uploadId: string, key: string): void {
    this.uploads.set(uploadId, key);
  }

  /** Aborts the uploads a failure left behind; those still unreachable stay for next time. */
  abortAll(): Promise<void> {
    if (this.uploads.size === 0) return Promise.resolve();
    const bucket = this.bucket;
    this.run ??= (async () => {
      for (const [uploadId, key] of [...this.uploads]) {
        try {
          await bucket.client.send(new AbortMultipartUploadCommand({ Bucket: bucket.name, Key: key, UploadId: uploadId }));
        } catch (err) {
          if (!isS3NotFound(err)) continue; // still unreachable: try again next time
        }
        this.uploads.delete(uploadId);
        bucket.log("info", `aborted the unfinished multipart upload of ${q(key)} left by an earlier failure`, { bucket: bucket.name, key });
      }
    })().finally(() => {
      this.run = undefined;
    });
    return this.run;
  }

  /** On close: which uploads stay unfinished. */
  warnIfAny(): void {
    if (this.uploads.size === 0) return;
    this.bucket.log("warning", "unfinished multipart uploads could not be aborted (the server was unreachable)", {
      bucket: this.bucket.name,
      uploads: [...this.uploads].map(([uploadId, key]) => ({ key, upload_id: uploadId })),
    });
  }
}
