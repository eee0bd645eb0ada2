/**
 * Moving files between the local disk and a store: single files, and directory transfers planned
 * in full (every destination checked, every key vetted) before the first byte is written.
 */
import { getMaxListeners, setMaxListeners } from "node:events";
import type { Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import pMap from "p-map";
import { cancelledError, q, StorageError, throwIfAborted } from "./errors.js";
import { sameBytes } from "./etag.js";
import { checkWritableTarget, commitTemp, createTempBeside, discardTemp } from "./fs/atomic-write.js";
import { fromFsError } from "./fs/errors.js";
import { resolveLocalPath, resolveWriteTarget } from "./fs/roots.js";
import { assertNoSymlinkBelow, ensureParentInside } from "./fs/safe-mkdir.js";
import { walkDirectory } from "./fs/walk.js";
import { directoryPrefix, joinKey, keyToLocalPath, validateKey } from "./keys.js";
import type { ObjectInfo, ObjectStore, PutResult } from "./store.js";
import { fetchObjectInto } from "./transfer/fetch.js";

export interface TransferProgress {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
}

export interface TransferOptions {
  overwrite?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
  /** Allowed local roots (real paths); undefined leaves local paths unrestricted. */
  roots?: readonly string[];
}

export interface DirectoryTransferOptions extends TransferOptions {
  maxWorkers?: number;
  dryRun?: boolean;
}

export interface DirectoryTransferResult {
  /** Objects or files written by this call. */
  transferred: number;
  bytes: number;
  /** Keys (upload) or local paths (download) written, in order of completion. */
  items: string[];
  /** Destinations that already held identical bytes and were left as they were. */
  skipped: string[];
  /** Destinations that exist with other content (only reported by a dry run; a real run fails). */
  conflicts: string[];
  /** What a dry run would write. */
  planned: number;
  plannedBytes: number;
  dryRun: boolean;
}

export const DEFAULT_MAX_WORKERS = 8;
export const MAX_WORKERS = 64;

export function checkMaxWorkers(value: number | undefined): number {
  const workers = value ?? DEFAULT_MAX_WORKERS;
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new StorageError("invalid_argument", `max_workers must be an integer from 1 to ${MAX_WORKERS}; got ${value}`);
  }
  return workers;
}

/** Every object under a prefix, following pages to the end. */
export async function listAll(store: ObjectStore, prefix: string, signal?: AbortSignal): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  let cursor: string | undefined;
  do {
    throwIfAborted(signal);
    const page = await store.list({ prefix, limit: 1000, ...(cursor ? { cursor } : {}) });
    out.push(...page.objects);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

function listing(items: string[], max = 20): string {
  const shown = items.slice(0, max).map(q).join(", ");
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}

class ProgressTracker {
  private readonly done = new Map<string, number>();
  private bytesDone = 0;
  private filesDone = 0;
  constructor(
    private bytesTotal: number,
    private readonly filesTotal: number,
    private readonly onProgress?: (progress: TransferProgress) => void,
  ) {}
  /** For a single download, whose size is known only once the GET has answered. */
  setBytesTotal(bytesTotal: number): void {
    this.bytesTotal = bytesTotal;
  }
  bytes(item: string, bytes: number): void {
    this.bytesDone += bytes - (this.done.get(item) ?? 0);
    this.done.set(item, bytes);
    this.emit();
  }
  fileDone(item: string, size: number): void {
    this.bytes(item, size);
    this.filesDone++;
    this.emit();
  }
  private emit(): void {
    this.onProgress?.({
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
    });
  }
}

async function statFileArgument(real: string, shown: string, argument: string) {
  let stat: Stats;
  try {
    stat = await fs.stat(real);
  } catch (err) {
    throw fromFsError(err, shown, argument);
  }
  if (stat.isDirectory()) {
    throw new StorageError("invalid_argument", `${argument} ${q(shown)} is a directory; use upload_directory for directories`, {
      path: shown,
    });
  }
  if (!stat.isFile()) throw new StorageError("invalid_argument", `${argument} ${q(shown)} is not a regular file`, { path: shown });
  return stat;
}

export async function uploadFile(
  store: ObjectStore,
  localPath: string,
  key: string,
  options: TransferOptions & { contentType?: string } = {},
): Promise<PutResult> {
  validateKey(key);
  const real = await resolveLocalPath(localPath, options.roots, "local_path");
  const stat = await statFileArgument(real, localPath, "local_path");
  const progress = new ProgressTracker(stat.size, 1, options.onProgress);
  const result = await store.put(
    key,
    { kind: "file", path: real, size: stat.size },
    {
      mode: options.overwrite ? "overwrite" : "create",
      ...(options.contentType ? { contentType: options.contentType } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onBytes: (bytes) => progress.bytes(key, bytes),
    },
  );
  progress.fileDone(key, result.size);
  return result;
}

/**
 * Streams one object into a temporary file beside `target` and puts it in place in one step, so
 * `target` is either absent or complete. `dir` bounds where parent directories may be created.
 */
async function downloadTo(
  store: ObjectStore,
  key: string,
  target: string,
  dir: string,
  overwrite: boolean,
  options: { signal?: AbortSignal; knownSize: number; onBytes: (bytes: number) => void; onSize?: (size: number) => void },
): Promise<{ size: number; etag: string }> {
  await ensureParentInside(dir, target);
  await checkWritableTarget(target, overwrite);
  throwIfAborted(options.signal);
  const tmp = await createTempBeside(target);
  let out: { size: number; etag: string };
  try {
    out = await fetchObjectInto(store, key, tmp, options);
  } catch (err) {
    await discardTemp(tmp);
    throw err;
  }
  await commitTemp(tmp, target, overwrite);
  return out;
}

export async function downloadFile(
  store: ObjectStore,
  key: string,
  localPath: string,
  options: TransferOptions = {},
): Promise<{ localPath: string; size: number; etag: string }> {
  validateKey(key);
  const target = await resolveWriteTarget(localPath, options.roots, "local_path");
  await checkWritableTarget(target, options.overwrite ?? false, "local_path");
  // Asked before any directory is created, so a missing key, bucket or server leaves nothing behind.
  const info = await store.head(key);
  if (!info) throw new StorageError("not_found", `${q(key)} does not exist`, { key });
  const progress = new ProgressTracker(info.size, 1, options.onProgress);
  const out = await downloadTo(store, key, target, path.dirname(target), options.overwrite ?? false, {
    ...(options.signal ? { signal: options.signal } : {}),
    knownSize: info.size,
    onBytes: (b) => progress.bytes(key, b),
    onSize: (size) => progress.setBytesTotal(size),
  });
  progress.fileDone(key, out.size);
  return { localPath: target, ...out };
}

function conflictError(conflicts: string[], what: string): StorageError {
  return new StorageError(
    "already_exists",
    `${conflicts.length} ${what} already exist with other content: ${listing(conflicts)}; nothing was written. Pass overwrite: true to replace them`,
    { details: { conflicts } },
  );
}

/**
 * Runs the planned copies with bounded concurrency. After the first failure no new copy starts,
 * but the ones in flight run to their end (each is atomic: a whole object or file, or nothing), so
 * the error can say exactly which completed, which failed and which never started; repeating the
 * call then skips the completed ones as identical and finishes the job.
 */
async function runPlan<T>(
  items: T[],
  name: (item: T) => string,
  copy: (item: T) => Promise<number>,
  workers: number,
  signal: AbortSignal | undefined,
): Promise<{ items: string[]; bytes: number }> {
  const done: string[] = [];
  const failed: { item: string; error: StorageError }[] = [];
  const notStarted: string[] = [];
  let bytes = 0;
  // Every copy in flight (and each of its ranges and retries) listens to the one signal: raise
  // Node's leak warning threshold to what this pool can legitimately add.
  if (signal) setMaxListeners(Math.max(getMaxListeners(signal), workers * 32), signal);
  await pMap(
    items,
    async (item) => {
      if (failed.length > 0 || signal?.aborted) {
        notStarted.push(name(item));
        return;
      }
      try {
        // Not `bytes += await copy(item)`: that reads `bytes` before awaiting and loses the
        // bytes of every copy that finished in between.
        const copied = await copy(item);
        bytes += copied;
        done.push(name(item));
      } catch (err) {
        const error = signal?.aborted ? cancelledError(err) : err instanceof StorageError ? err : fromFsError(err, name(item));
        failed.push({ item: name(item), error });
      }
    },
    { concurrency: workers },
  );
  const first = failed[0]?.error;
  if (first === undefined && !signal?.aborted) return { items: done, bytes };
  const base = signal?.aborted || first === undefined ? cancelledError(first ?? signal?.reason) : first;
  const shown = failed
    .slice(0, 10)
    .map((f) => `${q(f.item)} (${f.error.kind})`)
    .join(", ");
  const failedText = failed.length > 0 ? `; failed: ${shown}${failed.length > 10 ? ` and ${failed.length - 10} more` : ""}` : "";
  throw new StorageError(
    base.kind,
    `${base.message} (${done.length} of ${items.length} completed${failedText}; ${notStarted.length} not started; repeat the call to finish: completed files are skipped as identical)`,
    {
      ...(base.key !== undefined ? { key: base.key } : {}),
      ...(base.path !== undefined ? { path: base.path } : {}),
      cause: base.cause ?? base,
      details: {
        ...base.details,
        completed: done,
        bytes,
        failed: failed.map((f) => f.item),
        failures: failed.map((f) => ({ item: f.item, code: f.error.kind, message: f.error.message })),
        notStarted,
      },
    },
  );
}

export async function uploadDirectory(
  store: ObjectStore,
  localDir: string,
  prefix: string,
  options: DirectoryTransferOptions = {},
): Promise<DirectoryTransferResult> {
  const workers = checkMaxWorkers(options.maxWorkers);
  const overwrite = options.overwrite ?? false;
  const dir = await resolveLocalPath(localDir, options.roots, "local_dir");
  const stat = await fs.stat(dir).catch((err: unknown) => {
    throw fromFsError(err, localDir, "local_dir");
  });
  if (!stat.isDirectory()) {
    throw new StorageError("not_a_directory", `local_dir ${q(localDir)} is not a directory; use upload_file for one file`, {
      path: localDir,
    });
  }
  const walked = await walkDirectory(dir, options.roots);
  if (walked.outside.length > 0) {
    throw new StorageError(
      "outside_roots",
      `local_dir holds symlinks that lead outside the allowed roots: ${listing(walked.outside)}; nothing was uploaded. Remove them or upload their targets separately`,
      { path: localDir, details: { outside: walked.outside } },
    );
  }
  const files = walked.files.map((f) => ({ ...f, key: joinKey(prefix, f.relative) }));
  const invalid: string[] = [];
  for (const f of files) {
    try {
      validateKey(f.key);
    } catch {
      invalid.push(f.relative);
    }
  }
  if (invalid.length > 0) {
    throw new StorageError(
      "invalid_argument",
      `these files would make keys over 1024 bytes or not valid UTF-8: ${listing(invalid)}; nothing was uploaded`,
      {
        details: { invalid },
      },
    );
  }

  const skipped: string[] = [];
  const conflicts: string[] = [];
  let todo = files;
  // One listing answers "does it exist?" for every key (instead of a HEAD per object), and is the
  // existence check a server ignoring If-None-Match still needs.
  const existing = new Map<string, ObjectInfo>();
  if (files.length > 0) {
    for (const o of await listAll(store, directoryPrefix(prefix), options.signal)) existing.set(o.key, o);
  }
  if (!overwrite) {
    todo = [];
    for (const f of files) {
      const object = existing.get(f.key);
      if (!object) todo.push(f);
      else if (await sameBytes(f.path, f.size, object, options.signal)) skipped.push(f.key);
      else conflicts.push(f.key);
    }
  }
  const plannedBytes = todo.reduce((n, f) => n + f.size, 0);
  const base = { skipped, conflicts, planned: todo.length, plannedBytes };
  if (options.dryRun) return { transferred: 0, bytes: 0, items: [], ...base, dryRun: true };
  if (conflicts.length > 0) throw conflictError(conflicts, "destination keys");

  const progress = new ProgressTracker(plannedBytes, todo.length, options.onProgress);
  const mode = overwrite ? "overwrite" : "create";
  const run = await runPlan(
    todo,
    (f) => f.key,
    async (f) => {
      const out = await store.put(
        f.key,
        { kind: "file", path: f.path, size: f.size },
        {
          mode,
          existing: existing.get(f.key) ?? null,
          ...(options.signal ? { signal: options.signal } : {}),
          onBytes: (b) => progress.bytes(f.key, b),
        },
      );
      progress.fileDone(f.key, out.size);
      return out.size;
    },
    workers,
    options.signal,
  );
  return { transferred: run.items.length, bytes: run.bytes, items: run.items, ...base, dryRun: false };
}

export async function downloadDirectory(
  store: ObjectStore,
  prefix: string,
  localDir: string,
  options: DirectoryTransferOptions = {},
): Promise<DirectoryTransferResult> {
  const workers = checkMaxWorkers(options.maxWorkers);
  const overwrite = options.overwrite ?? false;
  const dir = await resolveLocalPath(localDir, options.roots, "local_dir");
  const dirStat = await fs.lstat(dir).catch(() => undefined);
  if (dirStat && !dirStat.isDirectory()) {
    throw new StorageError("not_a_directory", `local_dir ${q(localDir)} exists and is not a directory`, { path: localDir });
  }
  const objects = await listAll(store, directoryPrefix(prefix), options.signal);
  const unsafe: string[] = [];
  const planned: { key: string; path: string; relative: string; object: ObjectInfo }[] = [];
  for (const object of objects) {
    // Zero-byte "folder/" markers made by consoles and other tools carry no data.
    if (object.key.endsWith("/") && object.size === 0) continue;
    const mapped = keyToLocalPath(object.key, prefix, dir);
    if (mapped.ok) planned.push({ key: object.key, path: mapped.path, relative: mapped.relative, object });
    else unsafe.push(`${object.key} (${mapped.reason})`);
  }
  // "a" and "a/b" cannot both be files; neither can two keys that differ only where the
  // filesystem folds them. Both would overwrite or fail halfway, so they are refused up front.
  const files = new Set(planned.map((p) => p.relative));
  for (const p of planned) {
    const parts = p.relative.split("/");
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join("/");
      if (files.has(parent)) unsafe.push(`${p.key} (its parent ${q(parent)} is also an object)`);
    }
  }
  if (unsafe.length > 0) {
    throw new StorageError(
      "invalid_argument",
      `the bucket holds keys under ${q(directoryPrefix(prefix))} that cannot be written safely inside local_dir: ${listing(unsafe)}; nothing was downloaded. Download the other keys one by one with download_file`,
      { details: { unsafe } },
    );
  }

  // A symlink planted anywhere below local_dir is found before anything is written (and before
  // the conflict check could read through it), so the call stays all-or-nothing.
  const redirected: string[] = [];
  for (const p of planned) {
    try {
      await assertNoSymlinkBelow(dir, path.dirname(p.path), p.path);
    } catch (err) {
      if (!(err instanceof StorageError)) throw err;
      redirected.push(p.path);
    }
  }
  if (redirected.length > 0) {
    throw new StorageError(
      "outside_roots",
      `symlinks (or files where folders should be) inside local_dir would redirect these downloads: ${listing(redirected)}; nothing was downloaded. Remove them or choose another local_dir`,
      { path: localDir, details: { redirected } },
    );
  }

  const skipped: string[] = [];
  const conflicts: string[] = [];
  const todo: typeof planned = [];
  for (const p of planned) {
    const stat = await fs.lstat(p.path).catch(() => undefined);
    if (!stat) todo.push(p);
    else if (stat.isFile() && (await sameBytes(p.path, stat.size, p.object, options.signal))) skipped.push(p.path);
    else if (overwrite && stat.isFile()) todo.push(p);
    else conflicts.push(p.path);
  }
  const plannedBytes = todo.reduce((n, p) => n + p.object.size, 0);
  const base = { skipped, conflicts, planned: todo.length, plannedBytes };
  if (options.dryRun) return { transferred: 0, bytes: 0, items: [], ...base, dryRun: true };
  if (conflicts.length > 0) throw conflictError(conflicts, "local files");

  await fs.mkdir(dir, { recursive: true }).catch((err: unknown) => {
    throw fromFsError(err, localDir, "local_dir");
  });
  const progress = new ProgressTracker(plannedBytes, todo.length, options.onProgress);
  const run = await runPlan(
    todo,
    (p) => p.path,
    async (p) => {
      const out = await downloadTo(store, p.key, p.path, dir, overwrite, {
        ...(options.signal ? { signal: options.signal } : {}),
        knownSize: p.object.size,
        onBytes: (b) => progress.bytes(p.key, b),
      });
      progress.fileDone(p.key, out.size);
      return out.size;
    },
    workers,
    options.signal,
  );
  return { transferred: run.items.length, bytes: run.bytes, items: run.items, ...base, dryRun: false };
}
