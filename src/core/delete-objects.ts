/**
 * Deleting many objects: everything under a prefix (as a folder: "exp4" never reaches "exp42/"), or
 * an exact list of keys. What is deleted is what was listed (or found by HEAD) first, in batches of
 * MAX_DELETE_BATCH; an object written under the prefix after that is left alone. More objects than
 * `maxObjects` refuses the whole call before anything is deleted.
 */
import pMap from "p-map";
import { type ErrorCode, q, StorageError, throwIfAborted } from "./errors.js";
import type { GuardedStore } from "./guarded-store.js";
import { directoryPrefix } from "./keys.js";
import { MAX_DELETE_BATCH, MAX_LIST_LIMIT, type ObjectInfo, type ObjectStore } from "./store.js";
import { answered, type PreparedTransfer, type RunOptions, runPrepared, type TransferProgress } from "./transfer/run.js";

export const DEFAULT_DELETE_MAX_OBJECTS = 1000;
export const MAX_DELETE_OBJECTS = 100_000;
/** A key list names at most this many keys (one DeleteObjects request). */
export const MAX_DELETE_KEYS = MAX_DELETE_BATCH;
const HEAD_CONCURRENCY = 16;

/** Exactly one of the two (checked at run time: tools receive both as optional arguments). */
export interface DeleteTarget {
  prefix?: string;
  keys?: readonly string[];
}

export interface DeleteObjectsOptions {
  dryRun?: boolean;
  /** Refuse (too_large) when more objects than this would be deleted; 1..100000, default 1000. */
  maxObjects?: number;
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
  /**
   * Called once what would be deleted is known and before anything is (not for a dry run, nor when
   * nothing would be deleted). It may throw to stop the call (the server asks the person here: --confirm).
   */
  beforeDelete?: (planned: { keys: string[]; bytes: number }) => Promise<void>;
  /** How arguments are named in refusals: snake_case for tools (default), camelCase for the library. */
  names?: { prefix: string; keys: string; maxObjects: string };
}

export interface DeleteObjectsResult {
  /** Objects deleted (with dryRun: that would be deleted). */
  deleted: number;
  /** Their bytes. */
  bytes: number;
  /** Their keys, in listing order (all of them; callers show the first few). */
  keys: string[];
  failed: { key: string; code: ErrorCode; message: string }[];
  /** Keys of a key list that did not exist: nothing to delete. */
  missing: string[];
  dryRun: boolean;
  /** The folder prefix that was listed (prefix target only). */
  prefix?: string;
}

const TOOL_NAMES = { prefix: "prefix", keys: "keys", maxObjects: "max_objects" };

/** Checks the target: exactly one of a non-empty prefix or 1..1000 keys. */
export function checkDeleteTarget(target: DeleteTarget, names = TOOL_NAMES): void {
  const hasPrefix = target.prefix !== undefined;
  const hasKeys = target.keys !== undefined;
  if (hasPrefix === hasKeys) {
    throw new StorageError(
      "invalid_argument",
      `pass exactly one of ${names.prefix} (everything under a folder) or ${names.keys} (exact keys)${hasPrefix ? ", not both" : ""}`,
    );
  }
  if (hasPrefix && target.prefix === "") {
    throw new StorageError(
      "invalid_argument",
      `${names.prefix} must not be empty: deleting a whole bucket is not offered; name a folder such as "experiments/exp42/"`,
    );
  }
  if (target.keys !== undefined && (target.keys.length === 0 || target.keys.length > MAX_DELETE_KEYS)) {
    throw new StorageError(
      "invalid_argument",
      `${names.keys} must list 1 to ${MAX_DELETE_KEYS} keys; got ${target.keys.length}${target.keys.length > MAX_DELETE_KEYS ? `; use ${names.prefix} for a whole folder, or several calls` : ""}`,
    );
  }
}

/**
 * Policy before anything is listed: the folder, or every key, must be allowed here, and writable
 * unless this is a dry run. The guarded store checks each batch again; this refuses up front.
 */
export function checkDeletePolicy(store: GuardedStore, target: DeleteTarget, dryRun: boolean, names = TOOL_NAMES): void {
  checkDeleteTarget(target, names);
  const checked = target.keys ?? [directoryPrefix(target.prefix ?? "")];
  for (const key of checked) {
    if (target.keys) store.checkKey(key, names.keys);
    else store.checkPrefix(key, names.prefix);
    if (!dryRun) store.checkWritable(key, "deleted");
  }
}

export function checkMaxObjects(maxObjects: number, name = "max_objects"): number {
  if (!Number.isInteger(maxObjects) || maxObjects < 1 || maxObjects > MAX_DELETE_OBJECTS) {
    throw new StorageError("invalid_argument", `${name} must be an integer from 1 to ${MAX_DELETE_OBJECTS}; got ${maxObjects}`);
  }
  return maxObjects;
}

/** Lists a folder, counting past maxObjects (up to MAX_DELETE_OBJECTS) only to say how many there are. */
async function listFolder(store: ObjectStore, prefix: string, maxObjects: number, signal?: AbortSignal) {
  const objects: ObjectInfo[] = [];
  let counted = 0;
  let bytes = 0;
  let cursor: string | undefined;
  do {
    throwIfAborted(signal);
    const page = await store.list({ prefix, limit: MAX_LIST_LIMIT, cursor });
    for (const o of page.objects) {
      counted++;
      bytes += o.size;
      if (objects.length < maxObjects) objects.push(o);
    }
    cursor = page.nextCursor;
  } while (cursor && counted <= MAX_DELETE_OBJECTS);
  return { objects, counted, bytes, more: cursor !== undefined };
}

function tooLarge(what: string, counted: number, bytes: number, more: boolean, maxObjects: number, maxName: string): StorageError {
  const advice = more
    ? `the most one call deletes is ${MAX_DELETE_OBJECTS}: delete narrower prefixes`
    : `pass ${maxName}: ${counted} to delete them all, or narrow it`;
  return new StorageError(
    "too_large",
    `${what} holds ${more ? `more than ${MAX_DELETE_OBJECTS}` : counted} objects (${bytes} bytes${more ? " in those counted" : ""}), more than ${maxName} ${maxObjects}; nothing was deleted; ${advice}`,
    more ? {} : { details: { objects: counted } },
  );
}

export async function deleteObjects(
  store: ObjectStore,
  target: DeleteTarget,
  options: DeleteObjectsOptions = {},
): Promise<DeleteObjectsResult> {
  return runPrepared(await prepareDeleteObjects(store, target, options), options);
}

/**
 * Everything of deleteObjects before the first delete: the target checked, the folder listed (or
 * each key looked up), too_large refused and a dry run answered. `options.signal` covers this
 * part; the run takes its own (a background job's).
 */
export async function prepareDeleteObjects(
  store: ObjectStore,
  target: DeleteTarget,
  options: DeleteObjectsOptions = {},
): Promise<PreparedTransfer<DeleteObjectsResult>> {
  const names = options.names ?? TOOL_NAMES;
  checkDeleteTarget(target, names);
  const maxObjects = checkMaxObjects(options.maxObjects ?? DEFAULT_DELETE_MAX_OBJECTS, names.maxObjects);
  const dryRun = options.dryRun ?? false;
  let planned: ObjectInfo[];
  const missing: string[] = [];
  let prefix: string | undefined;
  if (target.prefix !== undefined) {
    prefix = directoryPrefix(target.prefix);
    const listed = await listFolder(store, prefix, maxObjects, options.signal);
    if (listed.counted > maxObjects) {
      throw tooLarge(`${q(prefix)}`, listed.counted, listed.bytes, listed.more, maxObjects, names.maxObjects);
    }
    planned = listed.objects;
  } else {
    const keys = [...new Set(target.keys)];
    // HEAD each: to delete only what exists now, and to say how many bytes go.
    const infos = await pMap(
      keys,
      async (key) => {
        throwIfAborted(options.signal);
        return store.head(key);
      },
      { concurrency: HEAD_CONCURRENCY },
    );
    planned = [];
    infos.forEach((info, i) => {
      if (info) planned.push(info);
      else missing.push(keys[i] as string);
    });
    if (planned.length > maxObjects) {
      const bytes = planned.reduce((sum, o) => sum + o.size, 0);
      throw tooLarge(`${names.keys}`, planned.length, bytes, false, maxObjects, names.maxObjects);
    }
  }
  const plannedBytes = planned.reduce((sum, o) => sum + o.size, 0);
  const result: DeleteObjectsResult = {
    deleted: 0,
    bytes: 0,
    keys: [],
    failed: [],
    missing,
    dryRun,
    ...(prefix !== undefined ? { prefix } : {}),
  };
  if (dryRun) {
    return answered({ ...result, deleted: planned.length, bytes: plannedBytes, keys: planned.map((o) => o.key) });
  }
  if (planned.length > 0 && options.beforeDelete) await options.beforeDelete({ keys: planned.map((o) => o.key), bytes: plannedBytes });
  return {
    bytesTotal: plannedBytes,
    filesTotal: planned.length,
    run: (run = {}) => deletePlanned(store, planned, result, run),
  };
}

/** Deletes what was planned, batch by batch; a failure part-way says what went. */
async function deletePlanned(
  store: ObjectStore,
  planned: ObjectInfo[],
  empty: DeleteObjectsResult,
  options: RunOptions,
): Promise<DeleteObjectsResult> {
  const result: DeleteObjectsResult = { ...empty, keys: [], failed: [] };
  const sizes = new Map(planned.map((o) => [o.key, o.size]));
  const plannedBytes = planned.reduce((sum, o) => sum + o.size, 0);
  const progress = () =>
    options.onProgress?.({
      bytesDone: result.bytes,
      bytesTotal: plannedBytes,
      filesDone: result.deleted + result.failed.length,
      filesTotal: planned.length,
    });
  for (let i = 0; i < planned.length; i += MAX_DELETE_BATCH) {
    if (options.signal?.aborted) {
      throw new StorageError(
        "cancelled",
        `cancelled after deleting ${result.deleted} of ${planned.length} objects; repeat the call to delete the rest`,
        { details: { deleted: result.keys, bytes: result.bytes, failed: result.failed } },
      );
    }
    const batch = planned.slice(i, i + MAX_DELETE_BATCH).map((o) => o.key);
    let done: Awaited<ReturnType<ObjectStore["deleteMany"]>>;
    try {
      done = await store.deleteMany(batch, options.signal ? { signal: options.signal } : {});
    } catch (err) {
      if (err instanceof StorageError) {
        const before = result.deleted ? ` after deleting ${result.deleted} of ${planned.length} objects` : "";
        throw new StorageError(err.kind, `${err.message}${before}`, {
          cause: err,
          ...(err.key !== undefined ? { key: err.key } : {}),
          details: { deleted: result.keys, bytes: result.bytes, failed: result.failed },
        });
      }
      throw err;
    }
    for (const key of done.deleted) {
      result.deleted++;
      result.bytes += sizes.get(key) ?? 0;
      result.keys.push(key);
    }
    result.failed.push(...done.failed);
    progress();
  }
  return result;
}
