/**
 * ObjectStore over any S3-compatible endpoint (Cloudflare R2, MinIO, AWS S3...). All knowledge of
 * S3 lives here and in errors.ts.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { Readable, Transform } from "node:stream";
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { guessContentType } from "./content-type.js";
import { type StorageError, alreadyExists, cancelledError, fromS3Error, isS3NotFound, throwIfAborted } from "./errors.js";
import { validateKey } from "./keys.js";
import { DEFAULT_PART_SIZE, partSizeFor } from "./multipart.js";
import {
  type ByteRange,
  type GetResult,
  type ListOptions,
  type ListPage,
  type ObjectInfo,
  type ObjectStore,
  type PutBody,
  type PutOptions,
  type PutResult,
  type TransferOptions,
  checkListLimit,
  decodeCursor,
  encodeCursor,
  normalizeEtag,
} from "./store.js";

export interface S3StoreConfig {
  bucket: string;
  /** Custom endpoint (R2, MinIO...); path-style addressing is used with it. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Total attempts per request, first try included (SDK standard retry, backoff with jitter). */
  maxAttempts?: number;
  /** Sockets kept per host: enough for every transfer worker in flight. */
  maxSockets?: number;
  connectionTimeoutMs?: number;
  /** A socket idle this long (no bytes either way) fails the attempt, so a hung server cannot hang a call. */
  socketTimeoutMs?: number;
  /** Files at least this large go multipart. */
  multipartThreshold?: number;
  /** Parts uploaded in parallel per multipart upload. */
  multipartQueueSize?: number;
  /** Use this SDK client instead of building one (the library's `s3Client` option). */
  client?: S3Client;
}

/** Files at least this large go multipart (and their parts are at least this large). */
export const DEFAULT_MULTIPART_THRESHOLD = DEFAULT_PART_SIZE;

export function createS3Client(config: S3StoreConfig): S3Client {
  const maxSockets = config.maxSockets ?? 64;
  const agentOptions = { keepAlive: true, maxSockets };
  const clientConfig: S3ClientConfig = {
    region: config.region ?? "auto",
    // Custom endpoints (MinIO, local servers) need path-style; R2 accepts it too.
    forcePathStyle: config.endpoint !== undefined,
    // SDK releases from 3.729 add CRC32 checksums to every request by default, which R2 and many
    // S3-compatible servers rejected or stored verbatim (aws-chunked framing). Only send and check
    // checksums where the operation requires them.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: config.maxAttempts ?? 5,
    retryMode: "standard",
    requestHandler: new NodeHttpHandler({
      connectionTimeout: config.connectionTimeoutMs ?? 5_000,
      socketTimeout: config.socketTimeoutMs ?? 60_000,
      httpAgent: new HttpAgent(agentOptions),
      httpsAgent: new HttpsAgent(agentOptions),
    }),
  };
  if (config.endpoint !== undefined) clientConfig.endpoint = config.endpoint;
  if (config.credentials) clientConfig.credentials = config.credentials;
  return new S3Client(clientConfig);
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

export class S3Store implements ObjectStore {
  readonly kind = "s3" as const;
  readonly name: string;
  readonly client: S3Client;
  private readonly bucket: string;
  private readonly ownsClient: boolean;
  private readonly multipartThreshold: number;
  private readonly queueSize: number;

  constructor(config: S3StoreConfig) {
    this.bucket = config.bucket;
    this.name = config.bucket;
    this.client = config.client ?? createS3Client(config);
    this.ownsClient = config.client === undefined;
    this.multipartThreshold = config.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
    this.queueSize = config.multipartQueueSize ?? 4;
  }

  private fail(err: unknown, op: string, key?: string): StorageError {
    const context: { op: string; bucket: string; key?: string } = { op, bucket: this.bucket };
    if (key !== undefined) context.key = key;
    return fromS3Error(err, context);
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    validateKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      const info: ObjectInfo = {
        key,
        size: out.ContentLength ?? 0,
        lastModified: out.LastModified ?? new Date(0),
        etag: normalizeEtag(out.ETag),
      };
      if (out.ContentType) info.contentType = out.ContentType;
      return info;
    } catch (err) {
      if (isS3NotFound(err)) return undefined;
      throw this.fail(err, "HEAD", key);
    }
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
      const body = (out.Body as Readable | undefined) ?? Readable.from([]);
      return { body, info, range: { start, end: start + length } };
    } catch (err) {
      if (options.signal?.aborted) throw cancelledError(err);
      throw this.fail(err, "GET", key);
    }
  }

  async put(key: string, body: PutBody, options: PutOptions): Promise<PutResult> {
    validateKey(key);
    throwIfAborted(options.signal);
    const create = options.mode === "create";
    // The conditional write below is what makes a race safe; this check stays so that a server
    // which ignores If-None-Match still cannot turn a no-overwrite upload into a replacement.
    const existing = await this.head(key);
    if (existing && create) throw alreadyExists(key);
    const contentType = options.contentType ?? guessContentType(key);
    const condition = create ? { IfNoneMatch: "*" } : {};
    try {
      if (body.kind === "file" && body.size >= this.multipartThreshold) {
        return await this.putMultipart(key, body, options, contentType, condition, existing !== undefined);
      }
      const payload =
        body.kind === "bytes"
          ? Buffer.from(body.data.buffer, body.data.byteOffset, body.data.byteLength)
          : createReadStream(body.path).pipe(byteCounter(options.onBytes));
      const size = body.kind === "bytes" ? body.data.byteLength : body.size;
      const md5 = body.kind === "bytes" ? createHash("md5").update(payload as Buffer).digest("base64") : undefined;
      const out = await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: payload,
          ContentLength: size,
          ContentType: contentType,
          ...(md5 ? { ContentMD5: md5 } : {}),
          ...condition,
        }),
        options.signal ? { abortSignal: options.signal } : {},
      );
      if (body.kind === "bytes") options.onBytes?.(size);
      return { key, size, etag: normalizeEtag(out.ETag), replaced: existing !== undefined };
    } catch (err) {
      if (options.signal?.aborted) throw cancelledError(err);
      throw this.fail(err, "PUT", key);
    }
  }

  /** lib-storage uploads parts in parallel and aborts the multipart upload on failure. */
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
      return { key, size: body.size, etag: normalizeEtag(out.ETag), replaced };
    } finally {
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  async delete(key: string): Promise<{ existed: boolean }> {
    validateKey(key);
    // DeleteObject answers 204 whether or not the key existed; HEAD tells which.
    const existed = (await this.head(key)) !== undefined;
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
    } catch (err) {
      if (!isS3NotFound(err)) throw this.fail(err, "DELETE", key);
    }
    return { existed };
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    const limit = checkListLimit(options.limit);
    const token = decodeCursor(this.kind, options);
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
        page.nextCursor = encodeCursor(this.kind, options, out.NextContinuationToken);
      }
      return page;
    } catch (err) {
      throw this.fail(err, "LIST");
    }
  }

  async presign(key: string, method: "GET" | "PUT", expiresIn: number, options: { ifNoneMatch?: boolean } = {}): Promise<string> {
    validateKey(key);
    const { getSignedUrl } = await import("@aws-sdk/s3-request-presigner");
    const command =
      method === "GET"
        ? new GetObjectCommand({ Bucket: this.bucket, Key: key })
        : new PutObjectCommand({ Bucket: this.bucket, Key: key, ...(options.ifNoneMatch ? { IfNoneMatch: "*" } : {}) });
    // If-None-Match stays a signed header (not hoisted into the query), so a PUT without it fails.
    return getSignedUrl(this.client, command, { expiresIn, unhoistableHeaders: new Set(["if-none-match"]) });
  }

  async close(): Promise<void> {
    if (this.ownsClient) this.client.destroy();
  }
}
