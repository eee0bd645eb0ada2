/**
 * Single PUTs: of bytes, which the SDK repeats itself, and of a file streamed from disk, which it
 * cannot rewind, so `retrying` repeats it. And the check that tells a write whose answer was lost
 * from another writer's, for these and for multipart uploads.
 */
import { createHash } from "node:crypto";
import { Transform } from "node:stream";
import { q } from "../errors.js";
import { sameBytes } from "../etag.js";
import type { OpenFile } from "../fs/descriptor.js";
import type { ObjectInfo, PutOptions, PutResult } from "../store.js";
import type { S3Bucket } from "./bucket.js";
import type { PutInput } from "./direct.js";
import { attemptsOf, failureName, isS3PreconditionFailed, withAttempts } from "./errors.js";
import { normalizeEtag } from "./etag.js";
import { retrying } from "./retry.js";

export interface PutRequest {
  key: string;
  options: PutOptions;
  /** Whether the write replaces an object (reported as `replaced`). */
  replaced: boolean;
  /** The store's head(), to see whether a write whose answer was lost landed. */
  head: (key: string) => Promise<ObjectInfo | undefined>;
}

/** Everything of the PutObject request but its body: key, length, type, metadata, the create condition. */
export type { PutInput } from "./direct.js";

export async function putBytes(bucket: S3Bucket, put: PutRequest, input: PutInput, bytes: Uint8Array): Promise<PutResult> {
  const { key, options } = put;
  const size = bytes.byteLength;
  const data = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const md5 = createHash("md5").update(data).digest();
  let out: { ETag?: string | undefined };
  try {
    // A buffer: the SDK itself repeats this request on throttling and transient failures.
    out = await bucket.putObject({ ...input, ContentMD5: md5.toString("base64") }, data, options.signal);
  } catch (err) {
    const own = await ownEarlierWrite(bucket, put, err, attemptsOf(err), (info) => info.size === size && info.etag === md5.toString("hex"));
    if (!own) throw err;
    out = { ETag: own.etag };
  }
  bucket.known = true;
  options.onBytes?.(size);
  return { key, size, etag: normalizeEtag(out.ETag), replaced: put.replaced };
}

/** Counts bytes as they pass, for progress. */
function byteCounter(onBytes: ((bytes: number) => void) | undefined): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      onBytes?.(seen);
      done(null, chunk);
    },
  });
}

/**
 * A single PUT of a file, streamed from its descriptor. The SDK does not repeat a request whose body is a
 * stream (it cannot rewind it), so `retrying` does: a fresh stream per attempt, for throttling and
 * transient failures only, with the SDK's backoff and attempt budget.
 */
export async function putFile(bucket: S3Bucket, put: PutRequest, input: PutInput, file: OpenFile): Promise<PutResult> {
  const { key, options } = put;
  const maxAttempts = await bucket.maxAttempts();
  return retrying(
    async (attempt) => {
      const source = file.stream();
      const counted = source.pipe(byteCounter(options.onBytes));
      // A body that fails (the file changed while read) must end the request at once: a piped body
      // that stops short of its Content-Length would otherwise leave the request waiting for bytes
      // that never come until the socket times out. The failure itself is on file.failure.
      const bodyFailed = new AbortController();
      source.once("error", (err) => {
        counted.destroy(err);
        bodyFailed.abort(err);
      });
      counted.on("error", () => undefined);
      const abortSignal = options.signal ? AbortSignal.any([options.signal, bodyFailed.signal]) : bodyFailed.signal;
      try {
        const out = await bucket.putObject(input, counted, abortSignal);
        bucket.known = true;
        if (attempt > 1) {
          bucket.log("info", `PutObject succeeded after ${attempt} attempts`, {
            operation: "PutObject",
            bucket: bucket.name,
            key,
            attempts: attempt,
          });
        }
        return { key, size: file.size, etag: normalizeEtag(out.ETag), replaced: put.replaced };
      } catch (err) {
        source.destroy();
        counted.destroy();
        if (options.signal?.aborted) throw err;
        // The file changed while it was read: not the server's fault, and repeating sends a mix.
        if (file.failure) throw file.failure;
        const own = await ownEarlierWrite(bucket, put, err, attempt, (info) => sameBytes(file, file.size, info, options.signal));
        if (own) return { key, size: file.size, etag: own.etag, replaced: false };
        // Should this be the last attempt, the error tells how many were made.
        throw withAttempts(err, attempt);
      }
    },
    {
      maxAttempts,
      signal: options.signal,
      onRetry: ({ error, attempt, waitMs }) =>
        bucket.log("info", `PutObject of ${q(key)} failed (${failureName(error)}); retrying in ${waitMs} ms`, {
          operation: "PutObject",
          bucket: bucket.name,
          key,
          attempt,
          max_attempts: maxAttempts,
        }),
    },
  );
}

/**
 * A conditional create answered 412 on a repeat may have been created by an earlier attempt of
 * this same call whose answer was lost on the way back. When the object now holds exactly the
 * bytes sent (size and ETag), that write was ours: success, not already_exists. (Were it another
 * writer's identical bytes, nothing was overwritten either way.)
 */
async function ownEarlierWrite(
  bucket: S3Bucket,
  put: PutRequest,
  err: unknown,
  attempts: number,
  holdsSentBytes: (info: ObjectInfo) => boolean | Promise<boolean>,
): Promise<ObjectInfo | undefined> {
  if (attempts < 2 || !isS3PreconditionFailed(err)) return undefined;
  return holdingSentBytes(bucket, put, attempts, holdsSentBytes);
}

/** The object, when it holds the bytes this call sent (logged: an earlier attempt wrote it). */
export async function holdingSentBytes(
  bucket: S3Bucket,
  put: PutRequest,
  attempts: number,
  holdsSentBytes: (info: ObjectInfo) => boolean | Promise<boolean>,
): Promise<ObjectInfo | undefined> {
  const info = await put.head(put.key);
  if (!info || !(await holdsSentBytes(info))) return undefined;
  bucket.log("info", `${q(put.key)} was written by an earlier attempt whose answer was lost`, {
    bucket: bucket.name,
    key: put.key,
    attempts,
  });
  return info;
}
