/**
 * The object requests a transfer makes by the thousand (HEAD, GET and PUT of one object), sent
 * without the SDK's middleware stack: signed with the SDK's own SigV4 signer and the client's
 * own credentials, over the client's keep-alive sockets, repeated on the SDK's terms (retryKind,
 * the same backoff and attempt budget), and failing with errors shaped like the SDK's (name,
 * $metadata), so the store maps them as it maps the SDK's.
 *
 * Why: per 4 KiB GET the SDK spends about 450 µs of CPU on the event loop (serialisation schemas,
 * endpoint rules, auth scheme resolution, retry middleware), this path about 100 µs
 * (bench/sdk-overhead.ts); for a directory of small files that is most of the client's time.
 * Used only on stores that built their own client for an explicit endpoint (path-style); a
 * caller's own SDK client, and every other operation, go through the SDK.
 */
import { createHash, createHmac } from "node:crypto";
import http, { type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import https from "node:https";
import type { Readable } from "node:stream";
import type { S3Client } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import type { AwsCredentialIdentity, Provider, SourceData } from "@smithy/types";
import { reportAttempts, type StoreLog } from "./client.js";
import { withAttempts } from "./errors.js";
import { retrying } from "./retry.js";

function bytesOf(data: SourceData): string | Uint8Array {
  if (typeof data === "string") return data;
  return ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data);
}

/** The SHA-256 the signer asks for, from node:crypto (HMAC when given a key). */
class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash("sha256") : createHmac("sha256", bytesOf(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytesOf(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.hash.digest());
  }
}

/** An S3 error answer (or a failure to get one), shaped as the SDK's service errors are. */
export class S3RequestError extends Error {
  readonly Code: string;
  readonly $fault: "client" | "server";
  $metadata: { httpStatusCode?: number; requestId?: string; attempts?: number; totalRetryDelay?: number };
  readonly $response: { statusCode: number; headers: Record<string, string> };
  readonly Endpoint?: string;
  readonly Region?: string;

  constructor(status: number, headers: IncomingHttpHeaders, body: string) {
    const code = xmlText(body, "Code") ?? STATUS_NAMES[status] ?? `Http${status}`;
    super(xmlText(body, "Message") ?? `${code} (HTTP ${status})`);
    this.name = code;
    this.Code = code;
    this.$fault = status >= 500 ? "server" : "client";
    const requestId = headerText(headers["x-amz-request-id"]);
    this.$metadata = { httpStatusCode: status, ...(requestId !== undefined ? { requestId } : {}) };
    const kept: Record<string, string> = {};
    const region = headerText(headers["x-amz-bucket-region"]);
    if (region !== undefined) kept["x-amz-bucket-region"] = region;
    this.$response = { statusCode: status, headers: kept };
    const endpoint = xmlText(body, "Endpoint");
    if (endpoint !== undefined) this.Endpoint = endpoint;
    const bodyRegion = xmlText(body, "Region");
    if (bodyRegion !== undefined) this.Region = bodyRegion;
  }
}

/** The names the SDK gives answers without an error document (HEAD has no body). */
const STATUS_NAMES: Record<number, string> = {
  301: "MovedPermanently",
  304: "NotModified",
  307: "TemporaryRedirect",
  400: "BadRequest",
  403: "Forbidden",
  404: "NotFound",
  412: "PreconditionFailed",
  416: "InvalidRange",
};

function xmlText(body: string, element: string): string | undefined {
  const found = new RegExp(`<${element}>([^<]{0,1024})</${element}>`).exec(body)?.[1];
  return found === undefined ? undefined : found.replace(/&(lt|gt|amp|quot|apos);/g, (_, e: string) => XML_ENTITIES[e] ?? "");
}
const XML_ENTITIES: Record<string, string> = { lt: "<", gt: ">", amp: "&", quot: '"', apos: "'" };

function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

function timeoutError(message: string): Error {
  return Object.assign(new Error(message), { name: "TimeoutError" });
}

function abortError(reason: unknown): Error {
  return Object.assign(new Error("the request was aborted", { cause: reason }), { name: "AbortError", code: "ABORT_ERR" });
}

/** A key as S3 reads it in a path: each segment percent-encoded (RFC 3986 unreserved kept), `/` kept. */
export function encodeKeyPath(key: string): string {
  return key
    .split("/")
    .map((segment) => encodeURIComponent(segment).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join("/");
}

/** What an object answer tells, named as the SDK's outputs name it. */
export interface ObjectAnswer {
  ContentLength?: number;
  ContentRange?: string;
  ContentType?: string;
  ETag?: string;
  LastModified?: Date;
  Metadata?: Record<string, string>;
  /** GET only: the body, to be read or destroyed. */
  Body?: Readable;
  $metadata: { httpStatusCode: number; attempts: number; totalRetryDelay: number };
}

export interface DirectConfig {
  bucket: string;
  endpoint: string;
  region: string;
  /** The client whose credentials and attempt budget are used (its own config, resolved). */
  client: S3Client;
  agent: http.Agent;
  connectionTimeoutMs: number;
  socketTimeoutMs: number;
  /** Told about requests that needed retries, as the SDK client's retry log is. */
  log: StoreLog;
}

export interface PutInput {
  Key: string;
  ContentLength: number;
  ContentType?: string | undefined;
  ContentMD5?: string | undefined;
  IfNoneMatch?: string | undefined;
  Metadata?: Record<string, string> | undefined;
}

interface Request {
  method: "HEAD" | "GET" | "PUT";
  key: string;
  headers: Record<string, string>;
  /** Bytes (sent again on a retry) or a stream (sent once: the caller repeats it). */
  body?: Uint8Array | Readable;
  signal?: AbortSignal | undefined;
}

export class DirectObjects {
  private readonly signer: SignatureV4;
  private readonly transport: typeof http | typeof https;
  private readonly hostname: string;
  private readonly port: number | undefined;
  private readonly host: string;
  private readonly basePath: string;

  constructor(private readonly config: DirectConfig) {
    const url = new URL(config.endpoint);
    this.transport = url.protocol === "https:" ? https : http;
    this.hostname = url.hostname.replace(/^\[(.*)\]$/, "$1");
    this.port = url.port === "" ? undefined : Number(url.port);
    this.host = url.host;
    this.basePath = url.pathname.replace(/\/+$/, "");
    this.signer = new SignatureV4({
      credentials: config.client.config.credentials as Provider<AwsCredentialIdentity>,
      region: config.region,
      service: "s3",
      sha256: Sha256,
      // The path is encoded here once, as S3 wants it signed.
      uriEscapePath: false,
      applyChecksum: false,
    });
  }

  head(key: string, signal?: AbortSignal): Promise<ObjectAnswer> {
    return this.send({ method: "HEAD", key, headers: {}, signal }, "HeadObject");
  }

  get(
    key: string,
    options: { range?: string | undefined; ifMatch?: string | undefined; signal?: AbortSignal | undefined },
  ): Promise<ObjectAnswer> {
    const headers: Record<string, string> = {};
    if (options.range !== undefined) headers.range = options.range;
    if (options.ifMatch !== undefined) headers["if-match"] = options.ifMatch;
    return this.send({ method: "GET", key, headers, signal: options.signal }, "GetObject");
  }

  put(input: PutInput, body: Uint8Array | Readable, signal?: AbortSignal): Promise<ObjectAnswer> {
    const headers: Record<string, string> = { "content-length": String(input.ContentLength) };
    if (input.ContentType !== undefined) headers["content-type"] = input.ContentType;
    if (input.ContentMD5 !== undefined) headers["content-md5"] = input.ContentMD5;
    if (input.IfNoneMatch !== undefined) headers["if-none-match"] = input.IfNoneMatch;
    for (const [name, value] of Object.entries(input.Metadata ?? {})) headers[`x-amz-meta-${name.toLowerCase()}`] = value;
    return this.send({ method: "PUT", key: input.Key, headers, body, signal }, "PutObject");
  }

  /** One request, repeated (when its body allows) as the SDK would; the answer or an SDK-shaped error. */
  private async send(request: Request, operation: string): Promise<ObjectAnswer> {
    const repeatable = request.body === undefined || request.body instanceof Uint8Array;
    const maxAttempts = repeatable ? await this.maxAttempts() : 1;
    let attempts = 0;
    let waited = 0;
    const where = { operation, bucket: this.config.bucket, key: request.key };
    try {
      const answer = await retrying(
        (n) => {
          attempts = n;
          return this.attempt(request, `attempt=${n}; max=${maxAttempts}`);
        },
        {
          maxAttempts,
          signal: request.signal,
          onRetry: ({ waitMs }) => {
            waited += waitMs;
          },
        },
      );
      answer.$metadata.attempts = attempts;
      answer.$metadata.totalRetryDelay = waited;
      reportAttempts(this.config.log, where, answer.$metadata);
      return answer;
    } catch (err) {
      withAttempts(err, attempts, waited);
      reportAttempts(this.config.log, where, { attempts, totalRetryDelay: waited }, { error: err });
      throw err;
    }
  }

  private async maxAttempts(): Promise<number> {
    try {
      return Math.max(1, await this.config.client.config.maxAttempts());
    } catch {
      return 1;
    }
  }

  /** One attempt; `attemptHeader` numbers it as the SDK does (amz-sdk-request), for servers' and proxies' logs. */
  private async attempt(request: Request, attemptHeader: string): Promise<ObjectAnswer> {
    const { signal } = request;
    if (signal?.aborted) throw abortError(signal.reason);
    const path = `${this.basePath}/${this.config.bucket}/${encodeKeyPath(request.key)}`;
    const signed = await this.signer.sign({
      method: request.method,
      protocol: "",
      hostname: this.hostname,
      path,
      query: {},
      headers: { ...request.headers, host: this.host, "x-amz-content-sha256": "UNSIGNED-PAYLOAD", "amz-sdk-request": attemptHeader },
    });
    return new Promise<ObjectAnswer>((resolve, reject) => {
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        cleanup();
        req.destroy(err);
        reject(err);
      };
      const onAbort = () => fail(abortError(signal?.reason));
      const cleanup = () => signal?.removeEventListener("abort", onAbort);
      const req = this.transport.request({
        agent: this.config.agent,
        method: request.method,
        hostname: this.hostname,
        ...(this.port !== undefined ? { port: this.port } : {}),
        path,
        headers: signed.headers,
      });
      signal?.addEventListener("abort", onAbort, { once: true });
      req.once("socket", (socket) => {
        if (!socket.connecting) return;
        const timer = setTimeout(
          () => fail(timeoutError(`no connection to the endpoint within ${this.config.connectionTimeoutMs} ms`)),
          this.config.connectionTimeoutMs,
        );
        socket.once("connect", () => clearTimeout(timer));
        req.once("close", () => clearTimeout(timer));
      });
      req.setTimeout(this.config.socketTimeoutMs, () => {
        const err = timeoutError(`the connection was idle for ${this.config.socketTimeoutMs} ms`);
        // Once a GET's body is the caller's, the timeout ends it with this error.
        if (settled) req.destroy(err);
        else fail(err);
      });
      // Kept for the life of the request: a socket can fail it more than once (a reset, then the hang-up).
      req.on("error", (err) => fail(err));
      req.once("response", (res) => {
        if (settled) {
          res.destroy();
          return;
        }
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) {
          settled = true;
          const answer = answerOf(res, status);
          if (request.method === "GET") {
            answer.Body = res;
            // From here the body is the caller's: an abort ends it, and it ends the request.
            const onBodyAbort = () => res.destroy(abortError(signal?.reason));
            signal?.removeEventListener("abort", onAbort);
            if (signal) {
              signal.addEventListener("abort", onBodyAbort, { once: true });
              res.once("close", () => signal.removeEventListener("abort", onBodyAbort));
            }
          } else {
            cleanup();
            res.resume();
          }
          resolve(answer);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          // An error document is small; a proxy's page may not be: only its start is kept.
          if (size < 64 * 1024) chunks.push(chunk);
          size += chunk.length;
        });
        res.on("error", (err) => fail(err));
        res.once("end", () => {
          if (settled) return;
          settled = true;
          cleanup();
          reject(new S3RequestError(status, res.headers, Buffer.concat(chunks).toString("utf8")));
        });
      });
      const body = request.body;
      if (body === undefined) req.end();
      else if (body instanceof Uint8Array) req.end(body);
      else {
        body.on("error", (err) => fail(err));
        body.pipe(req);
      }
    });
  }
}

function answerOf(res: IncomingMessage, status: number): ObjectAnswer {
  const h = res.headers;
  const answer: ObjectAnswer = { $metadata: { httpStatusCode: status, attempts: 1, totalRetryDelay: 0 } };
  const length = h["content-length"];
  if (length !== undefined) answer.ContentLength = Number(length);
  if (h["content-range"] !== undefined) answer.ContentRange = h["content-range"];
  if (h["content-type"] !== undefined) answer.ContentType = h["content-type"];
  if (h.etag !== undefined) answer.ETag = h.etag;
  if (h["last-modified"] !== undefined) {
    const date = new Date(h["last-modified"]);
    if (!Number.isNaN(date.getTime())) answer.LastModified = date;
  }
  const metadata: Record<string, string> = {};
  let any = false;
  for (const name in h) {
    if (!name.startsWith("x-amz-meta-")) continue;
    const value = headerText(h[name]);
    if (value === undefined) continue;
    metadata[name.slice("x-amz-meta-".length)] = value;
    any = true;
  }
  if (any) answer.Metadata = metadata;
  return answer;
}
