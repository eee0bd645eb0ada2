/**
 * S3 SDK errors (service errors, network failures, timeouts, aborts) as StorageErrors, and the
 * classification the retries share: what can succeed on a repeat, and how many attempts were made.
 */
import { alreadyExists, cancelledError, q, StorageError, type StorageErrorOptions } from "../errors.js";

interface SdkLikeError {
  name?: string;
  code?: string;
  Code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  $response?: { statusCode?: number };
}

const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "ECONNABORTED",
  "UND_ERR_SOCKET",
  "ERR_STREAM_PREMATURE_CLOSE",
]);

const THROTTLING_NAMES = new Set([
  "SlowDown",
  "TooManyRequests",
  "TooManyRequestsException",
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
]);

/** The status code and error name of an AWS SDK v3 service error, when it is one. */
export function s3ErrorInfo(err: unknown): { status?: number; name?: string } {
  if (typeof err !== "object" || err === null) return {};
  const e = err as SdkLikeError;
  const status = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  const name = e.Code ?? e.name;
  const info: { status?: number; name?: string } = {};
  if (status !== undefined) info.status = status;
  if (name !== undefined) info.name = name;
  return info;
}

/** HEAD answers carry no body, so a missing key shows up as 404 / NotFound / NoSuchKey. */
export function isS3NotFound(err: unknown): boolean {
  const { status, name } = s3ErrorInfo(err);
  return status === 404 || name === "NotFound" || name === "NoSuchKey";
}

export function isS3PreconditionFailed(err: unknown): boolean {
  const { status, name } = s3ErrorInfo(err);
  // 409 ConditionalRequestConflict: another conditional write to the same key was in flight
  // (AWS documents it for concurrent If-None-Match writes); for a create it means someone else won.
  return status === 412 || name === "PreconditionFailed" || name === "ConditionalRequestConflict";
}

export type RetryKind = "throttling" | "transient";

/**
 * Whether repeating a failed request can succeed, classified as the SDK's standard retry strategy
 * does: throttling (429, SlowDown...), or transient (500/502/503/504, timeouts, resets, refused
 * connections). Everything else (400, 403, 404, 412, 501...) cannot succeed by repeating it.
 */
export function retryKind(err: unknown): RetryKind | undefined {
  if (typeof err !== "object" || err === null || err instanceof StorageError) return undefined;
  const e = err as SdkLikeError & { cause?: unknown };
  if (e.name === "AbortError" || e.code === "ABORT_ERR") return undefined;
  const { status, name } = s3ErrorInfo(err);
  if (status === 429 || (name !== undefined && THROTTLING_NAMES.has(name))) return "throttling";
  if (status === 500 || status === 502 || status === 503 || status === 504) return "transient";
  if (name === "TimeoutError" || name === "RequestTimeout" || name === "RequestTimeoutException") return "transient";
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return "transient";
  return e.cause !== undefined && e.cause !== err ? retryKind(e.cause) : undefined;
}

/** Attempts the SDK made for a request, as its retry middleware records on the error or output. */
export function attemptsOf(err: unknown): number {
  const attempts = (err as { $metadata?: { attempts?: number } } | null)?.$metadata?.attempts;
  return typeof attempts === "number" && attempts > 0 ? attempts : 1;
}

/** Records how many attempts a request got (and how long it waited between them), for the error message. */
export function withAttempts(err: unknown, attempts: number, totalRetryDelay?: number): unknown {
  if (typeof err === "object" && err !== null) {
    const e = err as { $metadata?: Record<string, unknown> };
    e.$metadata = { ...e.$metadata, attempts, ...(totalRetryDelay !== undefined ? { totalRetryDelay } : {}) };
  }
  return err;
}

/** A failure's short name for log lines: Node's code, else the S3 error name. */
export function failureName(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; name?: unknown };
  return typeof e.code === "string" ? e.code : (s3ErrorInfo(err).name ?? (typeof e.name === "string" ? e.name : "error"));
}

export interface S3ErrorContext {
  key?: string;
  bucket?: string;
  /** Shown in messages about reaching the server; never carries credentials (origin only). */
  endpoint?: string;
  op: string;
}

function hint(context: { bucket?: string }): string {
  return context.bucket ? ` bucket ${q(context.bucket)}` : "";
}

function at(context: { endpoint?: string }): string {
  return context.endpoint ? ` at ${context.endpoint}` : "";
}

export function bucketNotFound(context: { bucket?: string; endpoint?: string }, cause?: unknown): StorageError {
  return new StorageError(
    "bucket_not_found",
    `${context.bucket !== undefined ? `bucket ${q(context.bucket)}` : "the bucket"} does not exist${at(context)}; check the bucket name (--bucket / R2_BUCKET) and the endpoint URL (--endpoint / R2_ENDPOINT_URL)`,
    cause === undefined ? {} : { cause },
  );
}

/** Node's own code of a local failure (a socket or file the process could not open), wherever the SDK put it. */
function localCode(err: unknown): string | undefined {
  type Layer = { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown };
  let e = err as Layer | undefined;
  for (let depth = 0; e && typeof e === "object" && depth < 5; depth++) {
    if (typeof e.code === "string" && /^E[A-Z]+$/.test(e.code)) return e.code;
    const named = typeof e.message === "string" ? /\b(EMFILE|ENFILE)\b/.exec(e.message)?.[1] : undefined;
    if (named) return named;
    // Node's AggregateError (a connection tried on several addresses) keeps the causes in `errors`.
    e = (e.cause ?? (Array.isArray(e.errors) ? e.errors[0] : undefined)) as Layer | undefined;
  }
  return undefined;
}

/** Where a redirect points, when the server said (S3's Endpoint element or x-amz-bucket-region header). */
function redirectTarget(err: unknown): string {
  const e = (err ?? {}) as { Endpoint?: unknown; Region?: unknown; $response?: { headers?: Record<string, unknown> } };
  const region = e.Region ?? e.$response?.headers?.["x-amz-bucket-region"];
  const endpoint = e.Endpoint;
  const safe = (v: unknown) => typeof v === "string" && /^[A-Za-z0-9.:_-]{1,255}$/.test(v);
  const parts = [safe(endpoint) ? `endpoint ${endpoint}` : "", safe(region) ? `region ${region}` : ""].filter(Boolean);
  return parts.length > 0 ? `, to ${parts.join(", ")}` : "";
}

/**
 * Maps any error thrown by the AWS SDK (service errors, network failures, timeouts, aborts) to a
 * StorageError. The message never includes request details, so no credential or signature can leak.
 */
export function fromS3Error(err: unknown, context: S3ErrorContext): StorageError {
  if (err instanceof StorageError) return err;
  const opts: StorageErrorOptions = { cause: err };
  if (context.key !== undefined) opts.key = context.key;
  const what = context.key !== undefined ? `${q(context.key)}` : `${context.op}`;
  const e = (typeof err === "object" && err !== null ? err : {}) as SdkLikeError & { code?: string };
  if (e.name === "AbortError" || e.code === "ABORT_ERR") return cancelledError(err);
  const { status, name } = s3ErrorInfo(err);
  const attempts = attemptsOf(err);
  const tries = attempts > 1 ? ` after ${attempts} attempts` : "";
  if (name === "NoSuchBucket") return bucketNotFound(context, err);
  const local = localCode(err);
  if (local === "EMFILE" || local === "ENFILE") {
    return new StorageError(
      "unavailable",
      `too many open files for ${context.op} of ${what} (${local}); lower max_workers, or raise the open-file limit (ulimit -n) of the server, then repeat the call`,
      opts,
    );
  }
  // A multipart upload the server no longer knows (it restarted, or aborted it): not a missing key.
  if (name === "NoSuchUpload") {
    return new StorageError(
      "unavailable",
      `the server lost the multipart upload of ${what} (NoSuchUpload)${tries}; nothing was written, repeat the call`,
      opts,
    );
  }
  if (isS3NotFound(err)) return new StorageError("not_found", `${what} does not exist`, opts);
  if (isS3PreconditionFailed(err) && context.key !== undefined) return alreadyExists(context.key, err);
  if (
    status === 403 ||
    name === "AccessDenied" ||
    name === "InvalidAccessKeyId" ||
    name === "SignatureDoesNotMatch" ||
    name === "InvalidToken" ||
    name === "ExpiredToken"
  ) {
    return new StorageError(
      "access_denied",
      `access denied for ${what} (${name ?? status}); check the access key and secret (R2_ACCESS_KEY_ID / R2_SECRET_ACCESS_KEY) and the token's permissions on the${hint(context)}`,
      opts,
    );
  }
  if (status === 429 || (name !== undefined && THROTTLING_NAMES.has(name))) {
    return new StorageError(
      "throttled",
      `the server is throttling requests (${name ?? status}) and retries ran out${tries}; wait and repeat the call, or lower max_workers`,
      opts,
    );
  }
  if (status === 416 || name === "InvalidRange") {
    return new StorageError("invalid_argument", `the byte range is outside ${what}`, opts);
  }
  if (status === 413 || name === "EntityTooLarge") {
    return new StorageError("too_large", `the server refused ${what} as too large`, opts);
  }
  if (status === 301 || status === 307 || name === "PermanentRedirect" || name === "TemporaryRedirect") {
    return new StorageError(
      "invalid_argument",
      `the endpoint${at(context)} redirected ${context.op} for ${what} (${name ?? status})${redirectTarget(err)}: the bucket${hint(context)} lives at another endpoint or region. Set the bucket's own endpoint URL (--endpoint / R2_ENDPOINT_URL) or region (--region), then repeat the call`,
      opts,
    );
  }
  if (status === 501 || name === "NotImplemented") {
    return new StorageError("unsupported", `the server does not implement ${context.op} (${name ?? status})`, opts);
  }
  // S3's RequestTimeout (an upload went idle and the server hung up) is a 400 that asks for a
  // repeat, not a bad request.
  if ((status === 400 && name !== "RequestTimeout") || name === "InvalidArgument" || name === "KeyTooLongError") {
    return new StorageError("invalid_argument", `the server refused the request for ${what} (${name ?? status})`, opts);
  }
  if (
    (status !== undefined && status >= 500) ||
    (e.code !== undefined && NETWORK_CODES.has(e.code)) ||
    name === "TimeoutError" ||
    name === "RequestTimeout" ||
    (name !== undefined && NETWORK_CODES.has(name))
  ) {
    // Node's own code (ECONNREFUSED...) says more than the SDK's generic TimeoutError name.
    const why = (e.code !== undefined && NETWORK_CODES.has(e.code) ? e.code : undefined) ?? name ?? status;
    return new StorageError(
      "unavailable",
      `the storage endpoint${at(context)} did not answer ${context.op} for ${what}${tries} (${why}); check the endpoint URL (--endpoint / R2_ENDPOINT_URL) and the network, then repeat the call`,
      opts,
    );
  }
  return new StorageError("internal", `${context.op} failed for ${what}: ${name ?? "unknown error"}`, opts);
}
