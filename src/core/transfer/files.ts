/** Moving one file between the local disk and a store. */
import type { Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { alreadyExists, q, StorageError, throwIfAborted } from "../errors.js";
import { checkWritableTarget, commitTemp, createTempBeside, discardTemp } from "../fs/atomic-write.js";
import { fromFsError } from "../fs/errors.js";
import { resolveLocalPath, resolveWriteTarget } from "../fs/roots.js";
import { ensureParentInside } from "../fs/safe-mkdir.js";
import { validateKey } from "../keys.js";
import type { ObjectStore, PutResult } from "../store.js";
import { fetchObjectInto } from "./fetch.js";
import { type PreparedTransfer, ProgressTracker, runPrepared, type TransferProgress } from "./run.js";

export interface TransferOptions {
  overwrite?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
  /** Allowed local roots (real paths); undefined leaves local paths unrestricted. */
  roots?: readonly string[];
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
  return runPrepared(await prepareUploadFile(store, localPath, key, options), options);
}

/**
 * Everything of uploadFile before the first byte: the key and the file checked, and without
 * overwrite an existing object refused (the conditional write still settles a race).
 */
export async function prepareUploadFile(
  store: ObjectStore,
  localPath: string,
  key: string,
  options: TransferOptions & { contentType?: string } = {},
): Promise<PreparedTransfer<PutResult>> {
  validateKey(key);
  const real = await resolveLocalPath(localPath, options.roots, "local_path");
  const stat = await statFileArgument(real, localPath, "local_path");
  const existing = (await store.head(key)) ?? null;
  if (existing && !options.overwrite) throw alreadyExists(key);
  return {
    bytesTotal: stat.size,
    filesTotal: 1,
    async run({ signal, onProgress } = {}) {
      const progress = new ProgressTracker(stat.size, 1, onProgress);
      const result = await store.put(
        key,
        { kind: "file", path: real, size: stat.size },
        {
          mode: options.overwrite ? "overwrite" : "create",
          existing,
          ...(options.contentType ? { contentType: options.contentType } : {}),
          ...(signal ? { signal } : {}),
          onBytes: (bytes) => progress.bytes(key, bytes),
        },
      );
      progress.fileDone(key, result.size);
      return result;
    },
  };
}

/**
 * Streams one object into a temporary file beside `target` and puts it in place in one step, so
 * `target` is either absent or complete. `dir` bounds where parent directories may be created.
 */
export async function downloadTo(
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
  return runPrepared(await prepareDownloadFile(store, key, localPath, options), options);
}

/** Everything of downloadFile before anything is written: the target checked, the object found. */
export async function prepareDownloadFile(
  store: ObjectStore,
  key: string,
  localPath: string,
  options: TransferOptions = {},
): Promise<PreparedTransfer<{ localPath: string; size: number; etag: string }>> {
  validateKey(key);
  const overwrite = options.overwrite ?? false;
  const target = await resolveWriteTarget(localPath, options.roots, "local_path");
  await checkWritableTarget(target, overwrite, "local_path");
  // Asked before any directory is created, so a missing key, bucket or server leaves nothing behind.
  const info = await store.head(key);
  if (!info) throw new StorageError("not_found", `${q(key)} does not exist`, { key });
  return {
    bytesTotal: info.size,
    filesTotal: 1,
    async run({ signal, onProgress } = {}) {
      const progress = new ProgressTracker(info.size, 1, onProgress);
      const out = await downloadTo(store, key, target, path.dirname(target), overwrite, {
        ...(signal ? { signal } : {}),
        knownSize: info.size,
        onBytes: (b) => progress.bytes(key, b),
        onSize: (size) => progress.setBytesTotal(size),
      });
      progress.fileDone(key, out.size);
      return { localPath: target, ...out };
    },
  };
}
