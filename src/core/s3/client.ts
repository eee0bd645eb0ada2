/**
 * The SDK client the S3 store talks through: its configuration (timeouts, sockets, retries,
 * checksums, a quiet logger) and the middleware that reports requests which needed retries.
 */
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import type { Readable } from "node:stream";
import { S3Client, type S3ClientConfig } from "@aws-sdk/client-s3";
import { NoOpLogger } from "@smithy/core/client";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { DEFAULT_PART_SIZE } from "../multipart.js";
import { failureName } from "./errors.js";

/** Where the store reports retries and clean-ups (e.g. the MCP server's logger). Never given secrets or headers. */
export type StoreLog = (level: "debug" | "info" | "warning" | "error", message: string, data?: Record<string, unknown>) => void;

export interface S3StoreConfig {
  bucket: string;
  /** Custom endpoint (R2, MinIO...); path-style addressing is used with it. */
  endpoint?: string;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /**
   * Total attempts per request, first try included (default 5): the SDK's standard retry strategy
   * (exponential backoff with full jitter) for throttling and transient failures; the same budget
   * for what the SDK cannot repeat itself (streamed file bodies, a download cut mid-body).
   */
  maxAttempts?: number;
  /** Sockets kept per host: enough for every transfer worker in flight. */
  maxSockets?: number;
  /** A connection not established within this time fails the attempt (default 5 s). */
  connectionTimeoutMs?: number;
  /** A socket idle this long (no bytes either way) fails the attempt, so a hung server cannot hang a call (default 60 s). */
  socketTimeoutMs?: number;
  /** Files at least this large go multipart. */
  multipartThreshold?: number;
  /** Objects above this many bytes are copied server-side in parts (UploadPartCopy); default 5 GiB. */
  multipartCopyThreshold?: number;
  /** Parts uploaded in parallel per multipart upload. */
  multipartQueueSize?: number;
  /**
   * How object HEAD, GET and PUT requests go out: "direct" (the default) signs and sends them
   * without the SDK's middleware stack when the store built its own client for an explicit
   * endpoint (see direct.ts); "sdk" sends every request through the SDK.
   */
  requests?: "direct" | "sdk";
  /** Use this SDK client instead of building one (the library's `s3Client` option). */
  client?: S3Client;
  /** Told about requests that needed retries, and about clean-ups; settable later as `store.log`. */
  log?: StoreLog;
}

/** Files at least this large go multipart (and their parts are at least this large). */
export const DEFAULT_MULTIPART_THRESHOLD = DEFAULT_PART_SIZE;
export const DEFAULT_MAX_ATTEMPTS = 5;
export const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;
export const DEFAULT_SOCKET_TIMEOUT_MS = 60_000;

/**
 * The abort signal of one call travels in its input under this symbol: the SDK copies an input's
 * own properties (symbols included) from step to step but serialises only the operation's members.
 */
const ABORT = Symbol("r2-mcp abort signal");
/** The HTTP request of each attempt → the signal of its call (set just before the handler runs). */
const requestSignals = new WeakMap<object, AbortSignal>();
/** Clients built here: they resolve each command type's middleware once, and route signals. */
const routed = new WeakSet<S3Client>();
/** The keep-alive agents of the clients built here, which direct.ts sends through too. */
const clientAgents = new WeakMap<S3Client, { http: HttpAgent; https: HttpsAgent }>();

/** The sockets of a client built here (undefined for a caller's own client). */
export function agentsOf(client: S3Client): { http: HttpAgent; https: HttpsAgent } | undefined {
  return clientAgents.get(client);
}

/**
 * The SDK resolves its middleware stack for every request unless `cacheMiddleware` is on, and it
 * reuses a resolved stack only for requests sent without options, so an abort signal passed as
 * `send(command, { abortSignal })` would undo the cache. On clients built here the signal rides
 * in the input instead and reaches the HTTP handler of every attempt.
 */
class SignalRoutingHandler extends NodeHttpHandler {
  override handle(request: Parameters<NodeHttpHandler["handle"]>[0], options: Parameters<NodeHttpHandler["handle"]>[1] = {}) {
    const signal = requestSignals.get(request);
    return super.handle(request, signal ? { ...options, abortSignal: signal } : options);
  }
}

/**
 * The options for `client.send(command, options)` that make `signal` abort the request: nothing
 * on clients built here (the signal is put in `input`, the command's input), `{ abortSignal }` on
 * others (a client the library's caller supplied).
 */
export function abortable(client: S3Client, input: object, signal: AbortSignal | undefined): { abortSignal: AbortSignal } | undefined {
  if (signal === undefined) return undefined;
  if (!routed.has(client)) return { abortSignal: signal };
  Object.defineProperty(input, ABORT, { value: signal, enumerable: true, configurable: true });
  return undefined;
}

/**
 * The SDK's logger: only its warnings, as text. A NoOpLogger to the SDK, which then skips building
 * the sensitive-field-filtered copy of every request's input and output it would log (for a HEAD,
 * about a tenth of the SDK's CPU time per request).
 */
class WarningsOnly extends NoOpLogger {
  constructor(private readonly sdkWarnings: ((message: string) => void) | undefined) {
    super();
  }

  override warn(...args: unknown[]): void {
    if (args.every((a) => typeof a === "string")) this.sdkWarnings?.(args.join(" "));
  }
}

export function createS3Client(config: S3StoreConfig, sdkWarnings?: (message: string) => void): S3Client {
  const maxSockets = config.maxSockets ?? 64;
  const agentOptions = { keepAlive: true, maxSockets };
  const agents = { http: new HttpAgent(agentOptions), https: new HttpsAgent(agentOptions) };
  const clientConfig: S3ClientConfig = {
    region: config.region ?? "auto",
    // Custom endpoints (MinIO, local servers) need path-style; R2 accepts it too.
    forcePathStyle: config.endpoint !== undefined,
    // SDK releases from 3.729 add CRC32 checksums to every request by default, which R2 and many
    // S3-compatible servers rejected or stored verbatim (aws-chunked framing). Only send and check
    // checksums where the operation requires them.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    maxAttempts: config.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    retryMode: "standard",
    // Resolve each command type's middleware stack once, not per request (see abortable).
    cacheMiddleware: true,
    // No "Expect: 100-continue" on bodies of 2 MiB and more: it costs a round trip per PUT and
    // part before the body may go, and R2 answers refusals (auth, 412) after the body just as well.
    expectContinueHeader: false,
    requestHandler: new SignalRoutingHandler({
      connectionTimeout: config.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
      socketTimeout: config.socketTimeoutMs ?? DEFAULT_SOCKET_TIMEOUT_MS,
      httpAgent: agents.http,
      httpsAgent: agents.https,
    }),
    // Without a logger the SDK writes its warnings (e.g. about a streamed body it will not retry)
    // to the console. Its per-request records (inputs, outputs, errors) are dropped: failures are
    // reported by the store, and those records are not ours to vet for secrets.
    logger: new WarningsOnly(sdkWarnings),
  };
  if (config.endpoint !== undefined) clientConfig.endpoint = config.endpoint;
  if (config.credentials) clientConfig.credentials = config.credentials;
  const client = new S3Client(clientConfig);
  routed.add(client);
  clientAgents.set(client, agents);
  perAttempt(client, true);
  return client;
}

/**
 * A request body read from a local file, which the SDK may send more than once: each attempt
 * reads a fresh stream from `open`. The SDK never repeats a request whose body is a stream (it
 * cannot rewind it), so the body it holds is this object, not a stream, and the stream is put in
 * just before each attempt goes out (see perAttempt). Only for clients prepared by
 * replayableBodies (every S3 store's).
 */
export class ReplayableBody {
  constructor(readonly open: () => Readable) {}
}

/** Makes `client` (one built here, or the library caller's own) send ReplayableBody bodies. */
export function replayableBodies(client: S3Client): void {
  if (!routed.has(client)) perAttempt(client, false);
}

/**
 * The last step before the HTTP handler, run for every attempt: a ReplayableBody becomes a fresh
 * stream in a copy of the request (the SDK keeps the original for the next attempt), and on
 * clients built here the call's abort signal is routed to the handler (see abortable).
 */
function perAttempt(client: S3Client, routeSignals: boolean): void {
  client.middlewareStack.add(
    (next) => async (args) => {
      let request = args.request as { body?: unknown } | null;
      if (request !== null && typeof request === "object" && request.body instanceof ReplayableBody) {
        const copy = Object.assign(Object.create(Object.getPrototypeOf(request) as object) as object, request, {
          body: request.body.open(),
        });
        request = copy;
        args = { ...args, request: copy };
      }
      const signal = (args.input as { [ABORT]?: AbortSignal })[ABORT];
      if (routeSignals && signal !== undefined && request !== null && typeof request === "object") requestSignals.set(request, signal);
      return next(args);
    },
    { step: "deserialize", priority: "low", name: "r2mcpPerAttempt", override: true },
  );
}

/** The client's attempt budget (maxAttempts), for the retries the SDK cannot make itself. */
export async function maxAttemptsOf(client: S3Client): Promise<number> {
  try {
    return Math.max(1, await client.config.maxAttempts());
  } catch {
    return DEFAULT_MAX_ATTEMPTS;
  }
}

export type AttemptMetadata = { attempts?: number; totalRetryDelay?: number } | undefined;

/**
 * Reports a request that needed more than one attempt (succeeded, or `failed` with an error):
 * operation, bucket, key, attempts, delay. Never headers or bodies. Shared by the SDK's requests
 * (logRetries) and the direct path's (direct.ts), so both read alike in the log.
 */
export function reportAttempts(
  log: StoreLog,
  where: { operation: string; bucket: string; key?: string },
  meta: AttemptMetadata,
  failed?: { error: unknown },
): void {
  const attempts = meta?.attempts ?? 1;
  if (attempts <= 1) return;
  const data = { ...where, attempts, retry_delay_ms: meta?.totalRetryDelay };
  if (failed === undefined) log("info", `${where.operation} succeeded after ${attempts} attempts`, data);
  else log("warning", `${where.operation} failed after ${attempts} attempts (${failureName(failed.error)})`, data);
}

/**
 * Reports every request that needed more than one attempt (the SDK's $metadata.attempts and
 * totalRetryDelay): operation, key, attempts, delay. Never headers or bodies.
 */
export function logRetries(client: S3Client, bucket: string, log: StoreLog): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? "request").replace(/Command$/, "");
      const input = args.input as { Key?: unknown };
      const where = { operation, bucket, ...(typeof input.Key === "string" ? { key: input.Key } : {}) };
      try {
        const result = await next(args);
        reportAttempts(log, where, (result.output as { $metadata?: AttemptMetadata }).$metadata);
        return result;
      } catch (err) {
        reportAttempts(log, where, (err as { $metadata?: AttemptMetadata } | null)?.$metadata, { error: err });
        throw err;
      }
    },
    { step: "initialize", name: "r2mcpRetryLog", override: true },
  );
}
