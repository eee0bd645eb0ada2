/**
 * ObjectStore over any S3-compatible endpoint (Cloudflare R2, MinIO, AWS S3...). All knowledge of
 * S3 lives in this folder.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Readable, Transform } from "node:stream";
import { setTimeout as delay } from "node:timers/promises";
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { guessContentType } from "../content-type.js";
import { alreadyExists, cancelledError, q, StorageError, throwIfAborted } from "../errors.js";
import { sameBytes } from "../etag.js";
import { validateKey } from "../keys.js";
import { partSizeFor } from "../multipart.js";
import {
  type ByteRange,
  checkListLimit,
  decodeCursor,
  encodeCursor,
  type GetResult,
  type ListOptions,
  type ListPage,
  type ObjectInfo,
  type ObjectStore,
  type PresignOptions,
  type PutBody,
  type PutOptions,
  type PutResult,
  type StoreCapabilities,
  type TransferOptions,
} from "../store.js";
import { createS3Client, DEFAULT_MULTIPART_THRESHOLD, logRetries, maxAttemptsOf, type S3StoreConfig, type StoreLog } from "./client.js";
import {
  attemptsOf,
  bucketNotFound,
  failureName,
  fromS3Error,
  isS3NotFound,
  isS3PreconditionFailed,
  retryKind,
  type S3ErrorContext,
  s3ErrorInfo,
  withAttempts,
} from "./errors.js";

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

// Backoff for the retries the SDK cannot make itself, as its standard strategy computes it:
// full jitter over an exponential ceiling, a longer base when the server asks to slow down.
const RETRY_BASE_MS = { transient: 50, throttling: 1_000 } as const;
const RETRY_MAX_DELAY_MS = 20_000;

function backoffMs(retry: number, kind: "transient" | "throttling"): number {
  return Math.floor(Math.random() * Math.min(RETRY_BASE_MS[kind] * 2 ** (retry - 1), RETRY_MAX_DELAY_MS));
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    throw cancelledError(err);
  }
}

/** Strips the quotes S3 puts around ETags so every backend reports the same string. */
export function normalizeEtag(etag: string | undefined): string {
  return (etag ?? "").replace(/^W\//, "").replace(/^"|"$/g, "");
}

const CURSOR_TAG = "s3";

export class S3Store implements ObjectStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities = { remote: true, parallelRanges: true, presign: true };
  readonly client: S3Client;
  /** Where retries and clean-ups are reported; may be set after construction. */
  log: StoreLog | undefined;
  private readonly bucket: string;
  private readonly endpoint: string | undefined;
  private readonly ownsClient: boolean;
  private readonly multipartThreshold: number;
  private readonly queueSize: number;
  /** Set once the bucket is known to exist, so a 404 on HEAD means the key is missing. */
  private bucketKnown = false;
  private bucketCheck: Promise<void> | undefined;
  /** Multipart uploads whose abort failed (server unreachable): retried before the next upload. */
  private readonly pendingAborts = new Map<string, string>();
  private pendingAbortRun: Promise<void> | undefined;

  constructor(config: S3StoreConfig) {
    this.bucket = config.bucket;
    this.name = config.bucket;
    this.log = config.log;
    this.endpoint = originOf(config.endpoint);
    this.client = config.client ?? createS3Client(config, (message) => this.log?.("debug", `AWS SDK: ${message}`));
    this.ownsClient = config.client === undefined;
    this.multipartThreshold = config.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
    this.queueSize = config.multipartQueueSize ?? 4;
    logRetries(this.client, this.bucket, (level, message, data) => this.log?.(level, message, data));
  }

  private fail(err: unknown, op: string, key?: string): StorageError {
    return fromS3Error(err, this.context(op, key));
  }

  private context(op: string, key?: string): S3ErrorContext {
    const context: S3ErrorContext = { op, bucket: this.bucket };
    if (key !== undefined) context.key = key;
    if (this.endpoint !== undefined) context.endpoint = this.endpoint;
    return context;
  }

  /**
   * A HEAD answers 404 without a body both for a missing key and for a missing bucket. One
   * HeadBucket tells them apart; once the bucket is known to exist it is not asked again.
   */
  private async checkBucketExists(): Promise<void> {
    if (this.bucketKnown) return;
    this.bucketCheck ??= this.client.send(new HeadBucketCommand({ Bucket: this.bucket })).then(
      () => {
        this.bucketKnown = true;
      },
      (err: unknown) => {
        this.bucketCheck = undefined;
        if (isS3NotFound(err) || s3ErrorInfo(err).name === "NoSuchBucket") throw bucketNotFound(this.context("HEAD"), err);
        // Anything else cannot tell (a token without bucket-level permission answers 403 for good:
        // stop asking; a transient failure: ask next time). The key's own 404 stands.
        if (retryKind(err) === undefined) this.bucketKnown = true;
      },
    );
    await this.bucketCheck;
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    validateKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      this.bucketKnown = true;
      const info: ObjectInfo = {
        key,
        size: out.ContentLength ?? 0,
        lastModified: out.LastModified ?? new Date(0),
        etag: normalizeEtag(out.ETag),
      };
      if (out.ContentType) info.contentType = out.ContentType;
      return info;
    } catch (err) {
      if (!isS3NotFound(err)) throw this.fail(err, "HEAD", key);
    }
    await this.checkBucketExists();
    return undefined;
  }

  async get(key: string, options: TransferOptions & { range?: ByteRange } = {}): Promise<GetResult> {
    validateKey(key);
    const range = options.range;
    let header: string | undefined;
    if (range) header = `bytes=${range.offset}-${range.length !== undefined ? range.offset + range.length - 1 : ""}`;
    try {
      const out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, ...(header ? { Range: header } : {}) }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      this.bucketKnown = true;
      const length = out.ContentLength ?? 0;
      // "bytes 0-9/100": the total size is after the slash; without a range the length is the size.
      const total = out.ContentRange ? Number(out.ContentRange.split("/")[1]) : length;
      const start = out.ContentRange ? Number(/bytes (\d+)-/.exec(out.ContentRange)?.[1] ?? 0) : 0;
      const info: ObjectInfo = {
        key,
        size: Number.isFinite(total) ? total : length,
        lastModified: out.LastModified ?? new Date(0),
        etag: normalizeEtag(out.ETag),
      };
      if (out.ContentType) info.contentType = out.ContentType;
      const first = (out.Body as Readable | undefined) ?? Readable.from([]);
      const body = out.ETag ? this.resumingBody(key, first, start, start + length, out.ETag, options.signal) : first;
      return { body, info, range: { start, end: start + length } };
    } catch (err) {
      if (options.signal?.aborted) throw cancelledError(err);
      throw this.fail(err, "GET", key);
    }
  }

  /**
   * The SDK retries a GET only until its response starts; a connection cut or stalled in the
   * middle of the body would fail the whole read. This body picks up where the bytes stopped with
   * a ranged GET of the same version (If-Match on the ETag), within the same attempt budget.
   */
  private resumingBody(key: string, first: Readable, start: number, end: number, etag: string, signal?: AbortSignal): Readable {
    const store = this;
    async function* chunks(): AsyncGenerator<Buffer> {
      let body = first;
      let position = start;
      let attempt = 1;
      try {
        for (;;) {
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
            const kind = retryKind(err);
            if (signal?.aborted || kind === undefined || attempt >= (await maxAttemptsOf(store.client))) throw err;
            attempt++;
            const wait = backoffMs(attempt - 1, kind);
            store.log?.("info", `reading ${q(key)} stopped at byte ${position} (${failureName(err)}); resuming in ${wait} ms`, {
              operation: "GetObject",
              bucket: store.bucket,
              key,
              attempt,
            });
            await pause(wait, signal);
            body = await store.resume(key, position, end, etag, signal);
          }
        }
      } finally {
        body.destroy();
      }
    }
    return Readable.from(chunks(), { objectMode: false });
  }

  private async resume(key: string, position: number, end: number, etag: string, signal?: AbortSignal): Promise<Readable> {
    const changed = (cause?: unknown) =>
      new StorageError("unavailable", `${q(key)} changed while it was being read; repeat the call`, { key, cause });
    let out: GetObjectCommandOutput;
    try {
      out = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${position}-${end - 1}`, IfMatch: etag }),
        signal ? { abortSignal: signal } : {},
      );
    } catch (err) {
      if (signal?.aborted) throw cancelledError(err);
      if (isS3PreconditionFailed(err)) throw changed(err);
      throw this.fail(err, "GET", key);
    }
    const body = (out.Body as Readable | undefined) ?? Readable.from([]);
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

  async put(key: string, body: PutBody, options: PutOptions): Promise<PutResult> {
    validateKey(key);
    throwIfAborted(options.signal);
    await this.abortLeftoverUploads();
    const create = options.mode === "create";
    // The conditional write below is what makes a race safe; this check stays (here, or in the
    // caller's listing) so that a server which ignores If-None-Match still cannot turn a
    // no-overwrite upload into a replacement.
    const existed = options.existing !== undefined ? options.existing !== null : (await this.head(key)) !== undefined;
    if (existed && create) throw alreadyExists(key);
    const replaced = existed;
    const contentType = options.contentType ?? guessContentType(key);
    const condition = create ? { IfNoneMatch: "*" } : {};
    try {
      // Above the threshold, not at it: a file of exactly one part streams in a single PUT.
      if (body.kind === "file" && body.size > this.multipartThreshold) {
        return await this.putMultipart(key, body, options, contentType, condition, replaced);
      }
      const size = body.kind === "bytes" ? body.data.byteLength : body.size;
      const input = { Bucket: this.bucket, Key: key, ContentLength: size, ContentType: contentType, ...condition };
      if (body.kind === "file") return await this.putFileBody(key, body, input, options, replaced);
      const data = Buffer.from(body.data.buffer, body.data.byteOffset, body.data.byteLength);
      const md5 = createHash("md5").update(data).digest();
      let out: { ETag?: string | undefined };
      try {
        // A buffer: the SDK itself repeats this request on throttling and transient failures.
        out = await this.client.send(
          new PutObjectCommand({ ...input, Body: data, ContentMD5: md5.toString("base64") }),
          options.signal ? { abortSignal: options.signal } : {},
        );
      } catch (err) {
        const own = await this.ownEarlierWrite(
          key,
          err,
          attemptsOf(err),
          (info) => info.size === size && info.etag === md5.toString("hex"),
        );
        if (!own) throw err;
        out = { ETag: own.etag };
      }
      this.bucketKnown = true;
      options.onBytes?.(size);
      return { key, size, etag: normalizeEtag(out.ETag), replaced };
    } catch (err) {
      if (options.signal?.aborted) throw cancelledError(err);
      throw this.fail(err, "PUT", key);
    }
  }

  /**
   * A conditional create answered 412 on a repeat may have been created by an earlier attempt of
   * this same call whose answer was lost on the way back. When the object now holds exactly the
   * bytes sent (size and ETag), that write was ours: success, not already_exists. (Were it another
   * writer's identical bytes, nothing was overwritten either way.)
   */
  private async ownEarlierWrite(
    key: string,
    err: unknown,
    attempts: number,
    holdsSentBytes: (info: ObjectInfo) => boolean | Promise<boolean>,
  ): Promise<ObjectInfo | undefined> {
    if (attempts < 2 || !isS3PreconditionFailed(err)) return undefined;
    return this.holdingSentBytes(key, attempts, holdsSentBytes);
  }

  private async holdingSentBytes(
    key: string,
    attempts: number,
    holdsSentBytes: (info: ObjectInfo) => boolean | Promise<boolean>,
  ): Promise<ObjectInfo | undefined> {
    const info = await this.head(key);
    if (!info || !(await holdsSentBytes(info))) return undefined;
    this.log?.("info", `${q(key)} was written by an earlier attempt whose answer was lost`, {
      bucket: this.bucket,
      key,
      attempts,
    });
    return info;
  }

  /**
   * A single PUT of a file, streamed from disk. The SDK does not repeat a request whose body is a
   * stream (it cannot rewind it), so this loop does: a fresh stream per attempt, for throttling
   * and transient failures only, with the SDK's backoff and attempt budget.
   */
  private async putFileBody(
    key: string,
    file: { path: string; size: number },
    input: Omit<PutObjectCommandInput, "Body">,
    options: PutOptions,
    replaced: boolean,
  ): Promise<PutResult> {
    const maxAttempts = await maxAttemptsOf(this.client);
    for (let attempt = 1; ; attempt++) {
      const source = createReadStream(file.path);
      const counted = source.pipe(byteCounter(options.onBytes));
      source.once("error", (err) => counted.destroy(err));
      try {
        const out = await this.client.send(
          new PutObjectCommand({ ...input, Body: counted }),
          options.signal ? { abortSignal: options.signal } : {},
        );
        this.bucketKnown = true;
        if (attempt > 1) {
          this.log?.("info", `PutObject succeeded after ${attempt} attempts`, {
            operation: "PutObject",
            bucket: this.bucket,
            key,
            attempts: attempt,
          });
        }
        return { key, size: file.size, etag: normalizeEtag(out.ETag), replaced };
      } catch (err) {
        source.destroy();
        counted.destroy();
        if (options.signal?.aborted) throw err;
        const own = await this.ownEarlierWrite(key, err, attempt, (info) => sameBytes(file.path, file.size, info, options.signal));
        if (own) return { key, size: file.size, etag: own.etag, replaced: false };
        const kind = retryKind(err);
        if (kind === undefined || attempt >= maxAttempts) throw withAttempts(err, attempt);
        const wait = backoffMs(attempt, kind);
        this.log?.("info", `PutObject of ${q(key)} failed (${failureName(err)}); retrying in ${wait} ms`, {
          operation: "PutObject",
          bucket: this.bucket,
          key,
          attempt: attempt + 1,
          max_attempts: maxAttempts,
        });
        await pause(wait, options.signal);
      }
    }
  }

  /** lib-storage uploads parts in parallel (buffers, which the SDK retries) and aborts the upload on failure. */
  private async putMultipart(
    key: string,
    body: { path: string; size: number },
    options: PutOptions,
    contentType: string,
    condition: { IfNoneMatch?: string },
    replaced: boolean,
  ): Promise<PutResult> {
    const upload = new Upload({
      client: this.client,
      queueSize: this.queueSize,
      partSize: partSizeFor(body.size, this.multipartThreshold),
      leavePartsOnError: false,
      params: {
        Bucket: this.bucket,
        Key: key,
        Body: createReadStream(body.path),
        ContentLength: body.size,
        ContentType: contentType,
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
      this.bucketKnown = true;
      return { key, size: body.size, etag: normalizeEtag(out.ETag), replaced };
    } catch (err) {
      // CompleteMultipartUpload repeated after its answer was lost: the first one completed, so the
      // repeat finds the key taken (412) or the upload gone (NoSuchUpload).
      const completedEarlier =
        (condition.IfNoneMatch !== undefined && isS3PreconditionFailed(err)) || s3ErrorInfo(err).name === "NoSuchUpload";
      if (!options.signal?.aborted && completedEarlier && attemptsOf(err) > 1) {
        const own = await this.holdingSentBytes(key, attemptsOf(err), (info) => sameBytes(body.path, body.size, info, options.signal));
        if (own) return { key, size: body.size, etag: own.etag, replaced: condition.IfNoneMatch === undefined && replaced };
      }
      // Also when cancelled: the call returns only once no unfinished upload is left behind.
      if (upload.uploadId !== undefined) await this.confirmAborted(key, upload.uploadId, err);
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
  private async confirmAborted(key: string, uploadId: string, cause: unknown): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
      return;
    } catch (err) {
      if (isS3NotFound(err)) return;
    }
    this.pendingAborts.set(uploadId, key);
    const base = this.fail(cause, "PUT", key);
    throw new StorageError(
      base.kind,
      `${base.message}. Its unfinished multipart upload could not be aborted either; it is aborted before this connection's next upload (R2 also removes unfinished uploads after 7 days)`,
      { key, cause, details: { uploadId } },
    );
  }

  /** Aborts multipart uploads a failure left behind while the server was unreachable. */
  private abortLeftoverUploads(): Promise<void> {
    if (this.pendingAborts.size === 0) return Promise.resolve();
    this.pendingAbortRun ??= (async () => {
      for (const [uploadId, key] of [...this.pendingAborts]) {
        try {
          await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
        } catch (err) {
          if (!isS3NotFound(err)) continue; // still unreachable: try again next time
        }
        this.pendingAborts.delete(uploadId);
        this.log?.("info", `aborted the unfinished multipart upload of ${q(key)} left by an earlier failure`, { bucket: this.bucket, key });
      }
    })().finally(() => {
      this.pendingAbortRun = undefined;
    });
    return this.pendingAbortRun;
  }

  async delete(key: string): Promise<{ existed: boolean }> {
    validateKey(key);
    // DeleteObject answers 204 whether or not the key existed; HEAD tells which.
    const existed = (await this.head(key)) !== undefined;
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (s3ErrorInfo(err).name === "NoSuchBucket" || !isS3NotFound(err)) throw this.fail(err, "DELETE", key);
    }
    return { existed };
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    const limit = checkListLimit(options.limit);
    const token = decodeCursor(CURSOR_TAG, options);
    try {
      const out = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          MaxKeys: limit,
          ...(options.prefix ? { Prefix: options.prefix } : {}),
          ...(options.delimiter ? { Delimiter: options.delimiter } : {}),
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      this.bucketKnown = true;
      const page: ListPage = {
        objects: (out.Contents ?? []).map((o) => ({
          key: o.Key ?? "",
          size: o.Size ?? 0,
          lastModified: o.LastModified ?? new Date(0),
          etag: normalizeEtag(o.ETag),
        })),
        prefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix ?? "").filter((p) => p !== ""),
      };
      if (out.IsTruncated && out.NextContinuationToken) {
        page.nextCursor = encodeCursor(CURSOR_TAG, options, out.NextContinuationToken);
      }
      return page;
    } catch (err) {
      throw this.fail(err, "LIST");
    }
  }

  async presign(key: string, method: "GET" | "PUT", expiresIn: number, options: PresignOptions = {}): Promise<string> {
    validateKey(key);
    const { getSignedUrl } = await import("@aws-sdk/s3-request-presigner");
    const command =
      method === "GET"
        ? new GetObjectCommand({ Bucket: this.bucket, Key: key })
        : new PutObjectCommand({ Bucket: this.bucket, Key: key, ...(options.createOnly ? { IfNoneMatch: "*" } : {}) });
    // If-None-Match stays a signed header (not hoisted into the query), so a PUT without it fails.
    return getSignedUrl(this.client, command, { expiresIn, unhoistableHeaders: new Set(["if-none-match"]) });
  }

  async close(): Promise<void> {
    if (this.pendingAborts.size > 0) {
      this.log?.("warning", "unfinished multipart uploads could not be aborted (the server was unreachable)", {
        bucket: this.bucket,
        uploads: [...this.pendingAborts].map(([uploadId, key]) => ({ key, upload_id: uploadId })),
      });
    }
    if (this.ownsClient) this.client.destroy();
  }
}

/** The endpoint as shown in messages: scheme, host and port only (never user:password@). */
function originOf(endpoint: string | undefined): string | undefined {
  if (endpoint === undefined) return undefined;
  try {
    return new URL(endpoint).origin;
  } catch {
    return undefined;
  }
}
