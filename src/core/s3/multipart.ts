/**
 * Files above the multipart threshold. A local file is sent in parts streamed from ranges of its
 * open descriptor, `queueSize` parts in flight, so memory stays flat whatever the file's size;
 * each part is a ReplayableBody, so the SDK repeats a failed part itself, reading its range
 * again. A stream read once (another store's object) goes through lib-storage, which buffers its
 * parts so the SDK can repeat them. Either way a failure or a cancel aborts the upload; an upload
 * whose abort could not reach the server is queued (PendingAborts) and aborted before the next
 * upload.
 */
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type UploadPartCommandInput,
} from "@aws-sdk/client-s3";
import pMap from "p-map";
import { q, StorageError } from "../errors.js";
import { sameBytes } from "../etag.js";
import type { OpenFile } from "../fs/descriptor.js";
import type { PutResult } from "../store.js";
import { exactBytes } from "../store-ext.js";
import type { S3Bucket } from "./bucket.js";
import { abortable, ReplayableBody } from "./client.js";
import { attemptsOf, isS3NotFound, isS3PreconditionFailed, s3ErrorInfo } from "./errors.js";
import { normalizeEtag } from "./etag.js";
import { holdingSentBytes, type PutRequest } from "./put.js";

export interface MultipartPut extends PutRequest {
  /** A local file read by descriptor, or a stream read once (parts are buffered, so the SDK can repeat them). */
  body: { kind: "file"; file: OpenFile } | { kind: "stream"; body: AsyncIterable<Uint8Array>; size: number };
  contentType: string;
  /** User metadata, as PutObject's `Metadata` (empty: none). */
  metadata: { Metadata?: Record<string, string> };
  /** If-None-Match: * for a create (sent with CompleteMultipartUpload, where R2 and S3 check it). */
  condition: { IfNoneMatch?: string };
  partSize: number;
  /** Parts in flight. */
  queueSize: number;
}

export async function putMultipart(bucket: S3Bucket, pending: PendingAborts, put: MultipartPut): Promise<PutResult> {
  const { body } = put;
  if (body.kind === "file") return putFileInParts(bucket, pending, put, body.file);
  return putStreamInParts(bucket, pending, put, body);
}

/**
 * CompleteMultipartUpload repeated after its answer was lost: the first one completed, so the
 * repeat finds the key taken (412) or the upload gone (NoSuchUpload). The object is this call's
 * own when it holds the file's bytes.
 */
async function completedEarlier(bucket: S3Bucket, put: MultipartPut, file: OpenFile, err: unknown): Promise<PutResult | undefined> {
  const { condition, options } = put;
  const lost = (condition.IfNoneMatch !== undefined && isS3PreconditionFailed(err)) || s3ErrorInfo(err).name === "NoSuchUpload";
  if (options.signal?.aborted || !lost || attemptsOf(err) < 2) return undefined;
  const own = await holdingSentBytes(bucket, put, attemptsOf(err), (info) => sameBytes(file, file.size, info, options.signal));
  if (!own) return undefined;
  return { key: put.key, size: file.size, etag: own.etag, replaced: condition.IfNoneMatch === undefined && put.replaced };
}

/** A local file in parts read from its descriptor: at most `queueSize` parts of reads in memory, never whole parts. */
async function putFileInParts(bucket: S3Bucket, pending: PendingAborts, put: MultipartPut, file: OpenFile): Promise<PutResult> {
  const { key, options, condition, partSize } = put;
  const { client } = bucket;
  const size = file.size;
  const createInput = { Bucket: bucket.name, Key: key, ContentType: put.contentType, ...put.metadata };
  const created = await client.send(new CreateMultipartUploadCommand(createInput), abortable(client, createInput, options.signal));
  const uploadId = created.UploadId;
  if (uploadId === undefined)
    throw new StorageError("unavailable", `the server started no multipart upload for ${q(key)}; repeat the call`, { key });
  // Ends the parts still in flight once one fails (or the call is cancelled).
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const inFlight = new Set<Promise<unknown>>();
  const ranges: { part: number; start: number; end: number }[] = [];
  for (let start = 0, part = 1; start < size; start += partSize, part++)
    ranges.push({ part, start, end: Math.min(size, start + partSize) });
  let sent = 0;
  try {
    const parts = await pMap(
      ranges,
      async ({ part, start, end }) => {
        const sending = uploadPart(bucket, { key, uploadId, part, file, start, end, signal });
        inFlight.add(sending);
        const etag = await sending.finally(() => inFlight.delete(sending));
        sent += end - start;
        options.onBytes?.(sent);
        return { PartNumber: part, ETag: etag };
      },
      { concurrency: put.queueSize, stopOnError: true, signal },
    );
    // Every part ended with the file unchanged; this covers a change after the last of them.
    await file.checkUnchanged();
    const completeInput = { Bucket: bucket.name, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts }, ...condition };
    const done = await client.send(new CompleteMultipartUploadCommand(completeInput), abortable(client, completeInput, options.signal));
    bucket.known = true;
    return { key, size, etag: normalizeEtag(done.ETag), replaced: put.replaced };
  } catch (err) {
    stop.abort();
    // The abort must not race parts still on the wire: wait for them to end first.
    await Promise.allSettled([...inFlight]);
    const own = await completedEarlier(bucket, put, file, err);
    if (own) return own;
    // Also when cancelled: the call returns only once no unfinished upload is left behind.
    await confirmAborted(bucket, pending, key, uploadId, err);
    throw file.failure ?? err;
  }
}

/**
 * One part, read from bytes [start, end) of the file. A read that fails (the file changed, or an
 * I/O error) ends the request at once: a body that stops short of its Content-Length would
 * otherwise leave it waiting until the socket times out.
 */
async function uploadPart(
  bucket: S3Bucket,
  part: { key: string; uploadId: string; part: number; file: OpenFile; start: number; end: number; signal: AbortSignal },
): Promise<string> {
  const { file, start, end } = part;
  const readFailed = new AbortController();
  let readError: unknown;
  const body = new ReplayableBody(() => {
    const stream = file.range(start, end);
    stream.once("error", (err) => {
      readError = err;
      readFailed.abort(err);
    });
    return stream;
  });
  const input: UploadPartCommandInput = {
    Bucket: bucket.name,
    Key: part.key,
    UploadId: part.uploadId,
    PartNumber: part.part,
    ContentLength: end - start,
    // The SDK holds this object, not a stream, and so may repeat the part (see ReplayableBody).
    Body: body as unknown as UploadPartCommandInput["Body"],
  };
  try {
    const out = await bucket.client.send(
      new UploadPartCommand(input),
      abortable(bucket.client, input, AbortSignal.any([part.signal, readFailed.signal])),
    );
    if (out.ETag === undefined) {
      throw new StorageError("unavailable", `the server gave no ETag for part ${part.part} of ${q(part.key)}; repeat the call`, {
        key: part.key,
      });
    }
    return out.ETag;
  } catch (err) {
    throw readError ?? err;
  }
}

/** A stream read once: lib-storage buffers each part, so the SDK can repeat it. */
async function putStreamInParts(
  bucket: S3Bucket,
  pending: PendingAborts,
  put: MultipartPut,
  body: { body: AsyncIterable<Uint8Array>; size: number },
): Promise<PutResult> {
  const { key, options, condition } = put;
  const { Upload } = await import("@aws-sdk/lib-storage");
  const upload = new Upload({
    client: bucket.client,
    queueSize: put.queueSize,
    partSize: put.partSize,
    leavePartsOnError: false,
    params: {
      Bucket: bucket.name,
      Key: key,
      Body: Readable.from(exactBytes(body.body, body.size, key)),
      ContentLength: body.size,
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
    return { key, size: body.size, etag: normalizeEtag(out.ETag), replaced: put.replaced };
  } catch (err) {
    // A stream cannot be read again to compare with what landed: its caller checks that.
    if (upload.uploadId !== undefined) await confirmAborted(bucket, pending, key, upload.uploadId, err);
    throw err;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Aborts a failed upload, or makes sure it is aborted (lib-storage has tried already; an abort
 * is idempotent: NoSuchUpload means it is gone). When the server cannot be reached the upload is
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
