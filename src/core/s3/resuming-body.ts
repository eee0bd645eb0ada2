/**
 * The SDK retries a GET only until its response starts; a connection cut or stalled in the
 * middle of the body would fail the whole read. This body picks up where the bytes stopped with
 * a ranged GET of the same version (If-Match on the ETag), within the same attempt budget.
 */
import { Readable } from "node:stream";
import { cancelledError, q, StorageError } from "../errors.js";
import type { S3Bucket } from "./bucket.js";
import { failureName, isS3PreconditionFailed } from "./errors.js";
import { retryingStream } from "./retry.js";

/** What was asked for: the object's version (ETag) and the byte range [start, end) of `first`. */
export interface ResumableRead {
  key: string;
  etag: string;
  start: number;
  end: number;
  signal?: AbortSignal | undefined;
}

export function resumingBody(bucket: S3Bucket, first: Readable, read: ResumableRead): Readable {
  const { key, end, signal } = read;
  async function* chunks(): AsyncGenerator<Buffer> {
    let body = first;
    let position = read.start;
    try {
      const maxAttempts = await bucket.maxAttempts();
      yield* retryingStream(
        async function* (attempt) {
          // A failed resume is a StorageError, which is never repeated: the object changed, or the
          // SDK already spent its own attempts on that GET.
          if (attempt > 1) body = await resume(bucket, read, position);
          try {
            for await (const chunk of body) {
              position += (chunk as Buffer).length;
              yield chunk as Buffer;
            }
            if (position >= end) return;
            throw Object.assign(new Error(`the body of ${q(key)} ended at byte ${position} of ${end}`), {
              code: "ERR_STREAM_PREMATURE_CLOSE",
            });
          } catch (err) {
            body.destroy();
            throw err;
          }
        },
        {
          maxAttempts,
          signal,
          onRetry: ({ error, attempt, waitMs }) =>
            bucket.log("info", `reading ${q(key)} stopped at byte ${position} (${failureName(error)}); resuming in ${waitMs} ms`, {
              operation: "GetObject",
              bucket: bucket.name,
              key,
              attempt,
            }),
        },
      );
    } finally {
      body.destroy();
    }
  }
  return Readable.from(chunks(), { objectMode: false });
}

/** The rest of the range from `position`, of the same version, or an error saying to repeat the call. */
async function resume(bucket: S3Bucket, { key, etag, end, signal }: ResumableRead, position: number): Promise<Readable> {
  const changed = (cause?: unknown) =>
    new StorageError("unavailable", `${q(key)} changed while it was being read; repeat the call`, { key, cause });
  let out: Awaited<ReturnType<S3Bucket["getObject"]>>;
  try {
    out = await bucket.getObject(key, { range: `bytes=${position}-${end - 1}`, ifMatch: etag, signal });
  } catch (err) {
    if (signal?.aborted) throw cancelledError(err);
    if (isS3PreconditionFailed(err)) throw changed(err);
    throw bucket.fail(err, "GET", key);
  }
  const body = out.Body ?? Readable.from([]);
  // Servers that ignore If-Match still tell the version by its ETag.
  if (out.ETag !== etag) {
    body.destroy();
    throw changed();
  }
  // A server that ignores Range would send the object from its start: those bytes cannot follow.
  if (!out.ContentRange?.startsWith(`bytes ${position}-`)) {
    body.destroy();
    throw new StorageError("unavailable", `the server did not resume ${q(key)} at byte ${position}; repeat the call`, { key });
  }
  return body;
}
