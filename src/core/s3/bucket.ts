/**
 * One bucket through one SDK client: what the S3 store and its helpers share. It names the bucket
 * and endpoint in errors, reports to the store's log, and remembers whether the bucket exists.
 */
import type { Readable } from "node:stream";
import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { StorageError } from "../errors.js";
import { abortable, maxAttemptsOf, type StoreLog } from "./client.js";
import type { DirectObjects, ObjectAnswer, PutInput } from "./direct.js";
import { bucketNotFound, fromS3Error, isS3NotFound, retryKind, type S3ErrorContext, s3ErrorInfo } from "./errors.js";

export class S3Bucket {
  /** Set once the bucket is known to exist, so a 404 on HEAD means the key is missing. */
  known = false;
  private check: Promise<void> | undefined;

  constructor(
    readonly client: S3Client,
    readonly name: string,
    /** Shown in messages about reaching the server: the origin only, never user:password@. */
    readonly endpoint: string | undefined,
    /** Passes on to the store's log as it is at the time (it may be set after construction). */
    readonly log: StoreLog,
    /** HEAD, GET and PUT of one object without the SDK's middleware (direct.ts), where the store allows it. */
    private readonly direct?: DirectObjects,
  ) {}

  /** HeadObject: through the direct path when there is one, else the SDK. */
  headObject(key: string): Promise<Omit<ObjectAnswer, "$metadata">> {
    if (this.direct) return this.direct.head(key);
    return this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: key }));
  }

  /** GetObject of `key` (a range, a version by ETag): its answer, whose Body is the caller's to read or destroy. */
  async getObject(
    key: string,
    options: { range?: string | undefined; ifMatch?: string | undefined; signal?: AbortSignal | undefined },
  ): Promise<Omit<ObjectAnswer, "$metadata">> {
    if (this.direct) return this.direct.get(key, options);
    const input = {
      Bucket: this.name,
      Key: key,
      ...(options.range !== undefined ? { Range: options.range } : {}),
      ...(options.ifMatch !== undefined ? { IfMatch: options.ifMatch } : {}),
    };
    const out = await this.client.send(new GetObjectCommand(input), abortable(this.client, input, options.signal));
    return { ...out, Body: out.Body as Readable | undefined };
  }

  /**
   * PutObject of bytes (repeated on throttling and transient failures) or of a stream (sent once:
   * the caller repeats it with a fresh stream).
   */
  putObject(input: PutInput, body: Uint8Array | Readable, signal: AbortSignal | undefined): Promise<{ ETag?: string | undefined }> {
    if (this.direct) return this.direct.put(input, body, signal);
    const putInput = { ...input, Bucket: this.name, Body: body };
    return this.client.send(new PutObjectCommand(putInput), abortable(this.client, putInput, signal));
  }

  context(op: string, key?: string): S3ErrorContext {
    const context: S3ErrorContext = { op, bucket: this.name };
    if (key !== undefined) context.key = key;
    if (this.endpoint !== undefined) context.endpoint = this.endpoint;
    return context;
  }

  fail(err: unknown, op: string, key?: string): StorageError {
    return fromS3Error(err, this.context(op, key));
  }

  maxAttempts(): Promise<number> {
    return maxAttemptsOf(this.client);
  }

  /**
   * A HEAD answers 404 without a body both for a missing key and for a missing bucket. One
   * HeadBucket tells them apart; once the bucket is known to exist it is not asked again.
   */
  async checkExists(): Promise<void> {
    if (this.known) return;
    this.check ??= this.client.send(new HeadBucketCommand({ Bucket: this.name })).then(
      () => {
        this.known = true;
      },
      (err: unknown) => {
        this.check = undefined;
        if (isS3NotFound(err) || s3ErrorInfo(err).name === "NoSuchBucket") throw bucketNotFound(this.context("HEAD"), err);
        // Anything else cannot tell (a token without bucket-level permission answers 403 for good:
        // stop asking; a transient failure: ask next time). The key's own 404 stands.
        if (retryKind(err) === undefined) this.known = true;
      },
    );
    await this.check;
  }
}
