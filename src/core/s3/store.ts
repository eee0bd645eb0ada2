/**
 * ObjectStore over any S3-compatible endpoint (Cloudflare R2, MinIO, AWS S3...). All knowledge of
 * S3 lives in this folder; the store itself maps each operation onto it.
 */
import { randomUUID } from "node:crypto";
import { Readable } from "node:stream";
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { guessContentType } from "../content-type.js";
import { alreadyExists, cancelledError, q, StorageError, throwIfAborted } from "../errors.js";
import { validateKey } from "../keys.js";
import { partSizeFor } from "../multipart.js";
import {
  type ByteRange,
  type CopyOptions,
  type CopyResult,
  type CopySource,
  checkDeleteBatch,
  checkListLimit,
  checkStartAfter,
  type DeleteManyResult,
  type DeleteOptions,
  type DeleteResult,
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
  type StoreLocation,
  type TransferOptions,
} from "../store.js";
import { exactBytes } from "../store-ext.js";
import { S3Bucket } from "./bucket.js";
import { endpointDomainOf, s3Capabilities } from "./capabilities.js";
import {
  abortable,
  agentsOf,
  createS3Client,
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_MULTIPART_THRESHOLD,
  DEFAULT_SOCKET_TIMEOUT_MS,
  logRetries,
  replayableBodies,
  type S3StoreConfig,
  type StoreLog,
} from "./client.js";
import { type CopyRequest, copyInParts, copyWhole, MULTIPART_COPY_PART_SIZE, MULTIPART_COPY_THRESHOLD } from "./copy.js";
import { DirectObjects } from "./direct.js";
import { attemptsOf, fromS3Error, isS3NotFound, isS3PreconditionFailed, s3ErrorInfo } from "./errors.js";
import { normalizeEtag } from "./etag.js";
import { PendingAborts, putMultipart } from "./multipart.js";
import { firstPartSize } from "./parts.js";
import { type PutRequest, putBytes, putFile } from "./put.js";
import { resumingBody } from "./resuming-body.js";

const CURSOR_TAG = "s3";
/** Files up to this size are uploaded from memory (read whole, then sent as bytes). */
const SMALL_FILE_BYTES = 64 * 1024;

export class S3Store implements ObjectStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  readonly client: S3Client;
  /** Where retries and clean-ups are reported; may be set after construction. */
  log: StoreLog | undefined;
  private readonly bucket: S3Bucket;
  private readonly ownsClient: boolean;
  private readonly multipartThreshold: number;
  private readonly multipartCopyThreshold: number;
  private readonly queueSize: number;
  private readonly pendingAborts: PendingAborts;

  constructor(config: S3StoreConfig) {
    this.name = config.bucket;
    this.log = config.log;
    this.client = config.client ?? createS3Client(config, (message) => this.log?.("debug", `AWS SDK: ${message}`));
    this.ownsClient = config.client === undefined;
    this.multipartThreshold = config.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
    this.multipartCopyThreshold = config.multipartCopyThreshold ?? MULTIPART_COPY_THRESHOLD;
    this.capabilities = s3Capabilities(config, copyDomainOf(config, this.client));
    this.queueSize = config.multipartQueueSize ?? 4;
    const log: StoreLog = (level, message, data) => this.log?.(level, message, data);
    this.bucket = new S3Bucket(this.client, config.bucket, originOf(config.endpoint), log, this.directPath(config, log));
    this.pendingAborts = new PendingAborts(this.bucket);
    logRetries(this.client, config.bucket, log);
    replayableBodies(this.client);
  }

  /**
   * The direct path for object HEAD, GET and PUT (direct.ts): on a client built here for an
   * explicit endpoint, unless the config asks for the SDK throughout.
   */
  private directPath(config: S3StoreConfig, log: StoreLog): DirectObjects | undefined {
    const agents = agentsOf(this.client);
    if (config.requests === "sdk" || config.endpoint === undefined || agents === undefined) return undefined;
    return new DirectObjects({
      bucket: config.bucket,
      endpoint: config.endpoint,
      region: config.region ?? "auto",
      client: this.client,
      agent: config.endpoint.startsWith("https:") ? agents.https : agents.http,
      connectionTimeoutMs: config.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
      socketTimeoutMs: config.socketTimeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS,
      log,
    });
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    validateKey(key);
    try {
      const out = await this.bucket.headObject(key);
      this.bucket.known = true;
      const info: ObjectInfo = {
        key,
        size: out.ContentLength ?? 0,
        lastModified: out.LastModified ?? new Date(0),
        etag: normalizeEtag(out.ETag),
      };
      if (out.ContentType) info.contentType = out.ContentType;
      withMetadata(info, out.Metadata);
      return info;
    } catch (err) {
      if (!isS3NotFound(err)) throw this.bucket.fail(err, "HEAD", key);
    }
    await this.bucket.checkExists();
    return undefined;
  }

  async get(key: string, options: TransferOptions & { range?: ByteRange } = {}): Promise<GetResult> {
    validateKey(key);
    const range = options.range;
    let header: string | undefined;
    if (range) header = `bytes=${range.offset}-${range.length !== undefined ? range.offset + range.length - 1 : ""}`;
    try {
      const out = await this.bucket.getObject(key, { range: header, signal: options.signal });
      this.bucket.known = true;
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
      withMetadata(info, out.Metadata);
      const first = out.Body ?? Readable.from([]);
      const end = start + length;
      const body = out.ETag ? resumingBody(this.bucket, first, { key, etag: out.ETag, start, end, signal: options.signal }) : first;
      return { body, info, range: { start, end } };
    } catch (err) {
      if (options.signal?.aborted) throw cancelledError(err);
      throw this.bucket.fail(err, "GET", key);
    }
  }

  async put(key: string, body: PutBody, options: PutOptions): Promise<PutResult> {
    validateKey(key);
    throwIfAborted(options.signal);
    await this.pendingAborts.abortAll();
    const create = options.mode === "create";
    // The conditional write below is what makes a race safe; this check stays (here, or in the
    // caller's listing) so that a server which ignores If-None-Match still cannot turn a
    // no-overwrite upload into a replacement.
    const existed = options.existing !== undefined ? options.existing !== null : (await this.head(key)) !== undefined;
    if (existed && create) throw alreadyExists(key);
    const contentType = options.contentType ?? guessContentType(key);
    const condition = create ? { IfNoneMatch: "*" } : {};
    const metadata = options.metadata && Object.keys(options.metadata).length > 0 ? { Metadata: options.metadata } : {};
    const put: PutRequest = { key, options, replaced: existed, head: (k) => this.head(k) };
    const size = body.kind === "bytes" ? body.data.byteLength : body.kind === "file" ? body.file.size : body.size;
    try {
      // Above the threshold, not at it: a file of exactly one part streams in a single PUT.
      if (body.kind !== "bytes" && size > this.multipartThreshold) {
        return await putMultipart(this.bucket, this.pendingAborts, {
          ...put,
          body,
          contentType,
          metadata,
          condition,
          partSize: partSizeFor(size, this.multipartThreshold),
          queueSize: this.queueSize,
        });
      }
      const input = { Bucket: this.bucket.name, Key: key, ContentLength: size, ContentType: contentType, ...metadata, ...condition };
      // A small file is read whole and sent as bytes: one read instead of a stream, a body the
      // request can repeat itself, and a Content-MD5 the server checks.
      if (body.kind === "file" && size <= SMALL_FILE_BYTES) return await putBytes(this.bucket, put, input, await body.file.bytes());
      if (body.kind === "file") return await putFile(this.bucket, put, input, body.file);
      // A stream of at most one part is gathered (bounded by the threshold) and sent as bytes,
      // which the SDK can repeat and the server checks against their Content-MD5.
      const data = body.kind === "bytes" ? body.data : await gather(exactBytes(body.body, body.size, key));
      return await putBytes(this.bucket, put, input, data);
    } catch (err) {
      if (options.signal?.aborted) throw cancelledError(err);
      // The local file changed while it was sent: the request was cut before its last bytes.
      if (body.kind === "file" && body.file.failure) throw body.file.failure;
      throw this.bucket.fail(err, "PUT", key);
    }
  }

  copySource(key: string, argument = "source"): CopySource {
    validateKey(key, argument);
    return { location: this.location, key };
  }

  /** Server-side: CopyObject, or UploadPartCopy above the multipart-copy threshold. */
  async copy(source: CopySource, key: string, options: CopyOptions): Promise<CopyResult> {
    validateKey(key);
    throwIfAborted(options.signal);
    if (source.location.domain !== this.location.domain) {
      throw new StorageError("unsupported", `${q(source.key)} is on another endpoint or account; stream it through get and put instead`, {
        key,
      });
    }
    await this.pendingAborts.abortAll();
    const existed = options.existing !== undefined ? options.existing !== null : (await this.head(key)) !== undefined;
    if (existed && options.mode === "create") throw alreadyExists(key);
    const request: CopyRequest = {
      from: { bucket: source.location.container, key: source.key },
      key,
      options,
      replaced: existed,
      head: (k) => this.head(k),
    };
    try {
      if (options.expect.size > this.multipartCopyThreshold) {
        const partSize = partSizeFor(options.expect.size, Math.min(this.multipartCopyThreshold, MULTIPART_COPY_PART_SIZE));
        return await copyInParts(this.bucket, this.pendingAborts, request, partSize, this.queueSize);
      }
      return await copyWhole(this.bucket, request);
    } catch (err) {
      if (options.signal?.aborted) throw cancelledError(err);
      if (s3ErrorInfo(err).name !== "NoSuchBucket" && isS3NotFound(err)) {
        throw new StorageError("not_found", `source ${q(source.key)} does not exist`, { key: source.key, cause: err });
      }
      throw this.bucket.fail(err, "COPY", key);
    }
  }

  private get location(): StoreLocation {
    return this.capabilities.location as StoreLocation;
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    validateKey(key);
    // DeleteObject answers 204 whether or not the key existed; HEAD tells which. With ifMatch it
    // also keeps another version on a server that ignores If-Match (then only a change between
    // this HEAD and the DELETE goes unseen; where If-Match is honoured, none does).
    const found = await this.head(key);
    if (options.ifMatch !== undefined) {
      if (found === undefined) return { existed: false };
      if (found.etag !== options.ifMatch) return { existed: true, kept: true };
    }
    const input = { Bucket: this.bucket.name, Key: key };
    try {
      try {
        await this.client.send(
          new DeleteObjectCommand({ ...input, ...(options.ifMatch !== undefined ? { IfMatch: `"${options.ifMatch}"` } : {}) }),
        );
      } catch (err) {
        // A server that refuses the header outright: the HEAD above is the check there.
        if (options.ifMatch === undefined || s3ErrorInfo(err).name !== "NotImplemented") throw err;
        await this.client.send(new DeleteObjectCommand(input));
      }
    } catch (err) {
      if (options.ifMatch !== undefined && isS3PreconditionFailed(err)) return { existed: true, kept: true };
      // With If-Match, a key gone since the HEAD is 404 NoSuchKey: nothing was deleted here,
      // unless this is a repeat of a DELETE whose answer was lost (the first attempt deleted it).
      if (options.ifMatch !== undefined && isS3NotFound(err) && s3ErrorInfo(err).name !== "NoSuchBucket") {
        return { existed: attemptsOf(err) > 1 };
      }
      if (s3ErrorInfo(err).name === "NoSuchBucket" || !isS3NotFound(err)) throw this.bucket.fail(err, "DELETE", key);
    }
    return { existed: found !== undefined };
  }

  async deleteMany(keys: readonly string[], options: { signal?: AbortSignal } = {}): Promise<DeleteManyResult> {
    checkDeleteBatch(keys);
    for (const key of keys) validateKey(key);
    throwIfAborted(options.signal);
    if (keys.length === 0) return { deleted: [], failed: [] };
    let errors: { Key?: string; Code?: string; Message?: string }[];
    try {
      // Quiet: the answer lists only the keys that failed.
      const input = { Bucket: this.bucket.name, Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true } };
      const out = await this.client.send(new DeleteObjectsCommand(input), abortable(this.client, input, options.signal));
      this.bucket.known = true;
      errors = out.Errors ?? [];
    } catch (err) {
      if (options.signal?.aborted) throw cancelledError(err);
      throw this.bucket.fail(err, "DELETE");
    }
    const failed: DeleteManyResult["failed"] = [];
    const failedKeys = new Set<string>();
    for (const e of errors) {
      if (e.Key === undefined || e.Code === "NoSuchKey") continue;
      const error = fromS3Error({ name: e.Code, Code: e.Code, message: e.Message }, { op: "DELETE", key: e.Key, bucket: this.bucket.name });
      failed.push({ key: e.Key, code: error.kind, message: error.message });
      failedKeys.add(e.Key);
    }
    return { deleted: keys.filter((k) => !failedKeys.has(k)), failed };
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    const limit = checkListLimit(options.limit);
    const startAfter = checkStartAfter(options);
    const token = decodeCursor(CURSOR_TAG, options);
    try {
      const out = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket.name,
          MaxKeys: limit,
          ...(options.prefix ? { Prefix: options.prefix } : {}),
          ...(options.delimiter ? { Delimiter: options.delimiter } : {}),
          ...(token ? { ContinuationToken: token } : {}),
          ...(startAfter ? { StartAfter: startAfter } : {}),
        }),
      );
      this.bucket.known = true;
      const page: ListPage = {
        objects: (out.Contents ?? []).map((o) => ({
          key: o.Key ?? "",
          size: o.Size ?? 0,
          lastModified: o.LastModified ?? new Date(0),
          etag: normalizeEtag(o.ETag),
        })),
        // A server may roll keys after a StartAfter that names a child prefix back into that prefix.
        prefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix ?? "").filter((p) => p !== "" && p !== startAfter),
      };
      if (out.IsTruncated && out.NextContinuationToken) {
        page.nextCursor = encodeCursor(CURSOR_TAG, options, out.NextContinuationToken);
      }
      return page;
    } catch (err) {
      throw this.bucket.fail(err, "LIST");
    }
  }

  partSize(key: string): Promise<number | undefined> {
    validateKey(key);
    return firstPartSize(this.bucket, key);
  }

  async presign(key: string, method: "GET" | "PUT", expiresIn: number, options: PresignOptions = {}): Promise<string> {
    validateKey(key);
    const { getSignedUrl } = await import("@aws-sdk/s3-request-presigner");
    const command =
      method === "GET"
        ? new GetObjectCommand({ Bucket: this.bucket.name, Key: key })
        : new PutObjectCommand({ Bucket: this.bucket.name, Key: key, ...(options.createOnly ? { IfNoneMatch: "*" } : {}) });
    // If-None-Match stays a signed header (not hoisted into the query), so a PUT without it fails.
    return getSignedUrl(this.client, command, { expiresIn, unhoistableHeaders: new Set(["if-none-match"]) });
  }

  async close(): Promise<void> {
    this.pendingAborts.warnIfAny();
    if (this.ownsClient) this.client.destroy();
  }
}

const clientDomains = new WeakMap<S3Client, string>();

/**
 * Buckets reached through one endpoint with one access key can copy between each other on the
 * server. The domain is a digest (never the key id itself); a caller's own SDK client is a domain
 * of its own, its credentials being unknown here.
 */
function copyDomainOf(config: S3StoreConfig, client: S3Client): string {
  if (config.client !== undefined) {
    let domain = clientDomains.get(client);
    if (domain === undefined) {
      domain = `s3-client:${randomUUID()}`;
      clientDomains.set(client, domain);
    }
    return domain;
  }
  return endpointDomainOf(config);
}

async function gather(chunks: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const all: Uint8Array[] = [];
  for await (const chunk of chunks) all.push(chunk);
  return Buffer.concat(all);
}

/** User metadata as the response tells it (the SDK gives names in lower case), when there is any. */
function withMetadata(info: ObjectInfo, metadata: Record<string, string> | undefined): void {
  if (metadata && Object.keys(metadata).length > 0) info.metadata = { ...metadata };
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
