/**
 * The one error type of the storage core, its stable codes, and the helpers every backend shares.
 * Each backend maps its own failures to StorageError (S3: s3/errors.ts, the filesystem: fs/errors.ts).
 */

export const ERROR_CODES = [
  "invalid_argument",
  "not_found",
  "already_exists",
  "not_a_directory",
  "too_large",
  "outside_roots",
  "outside_allowed_prefix",
  "access_denied",
  "bucket_not_found",
  "throttled",
  "unavailable",
  "cancelled",
  "unsupported",
  "internal",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * Node's idiom for the errors the original Python module raised (FileExistsError → EEXIST,
 * FileNotFoundError → ENOENT, NotADirectoryError → ENOTDIR), so `err.code === "EEXIST"` works as
 * callers of fs expect. Codes with no errno counterpart get an `ERR_R2_*` name.
 */
const NODE_CODES: Record<ErrorCode, string> = {
  invalid_argument: "EINVAL",
  not_found: "ENOENT",
  already_exists: "EEXIST",
  not_a_directory: "ENOTDIR",
  too_large: "EFBIG",
  outside_roots: "EACCES",
  outside_allowed_prefix: "EACCES",
  access_denied: "EACCES",
  bucket_not_found: "ERR_R2_BUCKET_NOT_FOUND",
  throttled: "ERR_R2_THROTTLED",
  unavailable: "ERR_R2_UNAVAILABLE",
  cancelled: "ABORT_ERR",
  unsupported: "ERR_R2_UNSUPPORTED",
  internal: "ERR_R2_INTERNAL",
};

export interface StorageErrorOptions {
  key?: string;
  path?: string;
  cause?: unknown;
  /** Extra machine-readable detail, e.g. the conflicting keys of a directory transfer. */
  details?: Record<string, unknown>;
}

export class StorageError extends Error {
  /** Node-style code: EEXIST, ENOENT, ENOTDIR, EINVAL, EACCES, ABORT_ERR or ERR_R2_*. */
  readonly code: string;
  /** The stable r2-mcp error code (SPEC.md "Errors"). */
  readonly kind: ErrorCode;
  readonly key?: string;
  readonly path?: string;
  readonly details?: Record<string, unknown>;

  constructor(kind: ErrorCode, message: string, options: StorageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = kind === "cancelled" ? "AbortError" : "StorageError";
    this.kind = kind;
    this.code = NODE_CODES[kind];
    if (options.key !== undefined) this.key = options.key;
    if (options.path !== undefined) this.path = options.path;
    if (options.details !== undefined) this.details = options.details;
  }
}

export function isStorageError(err: unknown, kind?: ErrorCode): err is StorageError {
  return err instanceof StorageError && (kind === undefined || err.kind === kind);
}

export function q(value: string): string {
  return JSON.stringify(value);
}

export function alreadyExists(key: string, cause?: unknown): StorageError {
  return new StorageError("already_exists", `${q(key)} exists; pass overwrite: true to replace it`, {
    key,
    cause,
  });
}

/** A copy or move finds its source no longer the version that was listed. */
export function changedSince(key: string, cause?: unknown): StorageError {
  return new StorageError("unavailable", `${q(key)} changed after it was listed; nothing was copied from it. Repeat the call`, {
    key,
    cause,
  });
}

export function cancelledError(cause?: unknown): StorageError {
  return new StorageError("cancelled", "the operation was cancelled; nothing partial was left behind", {
    cause,
  });
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw cancelledError(signal.reason);
}
