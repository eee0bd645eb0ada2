/** Moving one file between the local disk and a store. */
import fs from "node:fs/promises";
import path from "node:path";
import { alreadyExists, q, StorageError, throwIfAborted } from "../errors.js";
import { PLAIN_MD5 } from "../etag.js";
import { checkWritableTarget, commitTemp, createTemp, discardTemp, type TempFile, tempNameFor, writeToTemp } from "../fs/atomic-write.js";
import { type CheckedDir, type Confinement, CREATE_FLAGS, OpenFile } from "../fs/descriptor.js";
import { OpenFolders } from "../fs/folders.js";
import { type Roots, resolveLocalPath, resolveWriteTarget } from "../fs/roots.js";
import { writeSmallFile } from "../fs/small-files.js";
import { setFileTimes, stampFileTimes, stampSeconds } from "../fs/times.js";
import { validateKey } from "../keys.js";
import type { ObjectInfo, ObjectStore, PutResult } from "../store.js";
import { type Fetched, type FetchedBytes, fetchObjectInto, fetchSmallObject, SMALL_OBJECT_BYTES } from "./fetch.js";
import { type PreparedTransfer, ProgressTracker, runPrepared, type TransferProgress } from "./run.js";
import { downloadedTime, fileTimeMetadata, listedVersion } from "./times.js";

export interface TransferOptions {
  overwrite?: boolean;
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
  /** Allowed local roots (real paths); undefined leaves local paths unrestricted. */
  roots?: Roots;
  /**
   * With overwrite, called once the existing destinations the call would replace are known and
   * before anything is written (not called when nothing would be replaced, nor for a dry run). It
   * may throw to stop the call (the server asks the person here: --confirm).
   */
  beforeReplace?: (replaced: Replaced) => Promise<void>;
}

/** What an overwrite would replace: destinations (keys, or local paths) and the bytes there now. */
export interface Replaced {
  destinations: string[];
  bytes: number;
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
  const confinement = { roots: options.roots, argument: "local_path", shown: localPath };
  // Checked now by descriptor (inside the roots, a regular file, not on /proc or /sys) so that a
  // bad path is the call's own error, before any job exists.
  const size = await OpenFile.with(real, confinement, async (file) => file.size);
  const existing = (await store.head(key)) ?? null;
  if (existing && !options.overwrite) throw alreadyExists(key);
  if (existing && options.beforeReplace) await options.beforeReplace({ destinations: [key], bytes: existing.size });
  return {
    bytesTotal: size,
    filesTotal: 1,
    async run({ signal, onProgress } = {}) {
      // Opened again, checked by descriptor, and read only through it: a swap after the check
      // above cannot make the upload read another file.
      return OpenFile.with(real, confinement, async (file) => {
        const progress = new ProgressTracker(file.size, 1, onProgress);
        const result = await store.put(
          key,
          { kind: "file", file },
          {
            mode: options.overwrite ? "overwrite" : "create",
            existing,
            metadata: fileTimeMetadata(file),
            ...(options.contentType ? { contentType: options.contentType } : {}),
            ...(signal ? { signal } : {}),
            onBytes: (bytes) => progress.bytes(key, bytes),
          },
        );
        progress.fileDone(key, result.size);
        return result;
      });
    },
  };
}

export interface DownloadToOptions {
  signal?: AbortSignal;
  knownSize: number;
  onBytes: (bytes: number) => void;
  onSize?: (size: number) => void;
  roots?: Roots | undefined;
  /** The argument messages name, e.g. "local_path". */
  argument?: string;
  /** The folders this call writes into, held open across its files (one download opens its own). */
  folders?: OpenFolders;
  /**
   * The object as a listing told it: its Last-Modified may be more precise than the GET's (see
   * downloadedTime).
   */
  listed?: ObjectInfo | undefined;
  /**
   * The caller's plan found nothing at the target: it is not looked at again before the bytes are
   * fetched, and the exclusive link that puts the file in place finds out if something has
   * appeared since (then refused, or with overwrite replaced if it is a regular file or symlink).
   */
  expectAbsent?: boolean;
}

/** A file written from an object; `unverified` says why its bytes could not be checked, when they could not. */
export interface Downloaded {
  size: number;
  etag: string;
  unverified?: string;
}

/**
 * Streams one object into a temporary file beside `target` (a real path inside the roots) and
 * puts it in place in one step, so `target` is either absent or complete. The folder is opened by
 * descriptor (missing folders created one at a time, never through a symlink; held open across
 * the files of one call by `options.folders`), the temporary file
 * is created and put in place through that descriptor, and the folder is checked again after.
 * The file's times are set through its descriptor before it is put in place: the object's
 * `mtime` metadata, else its Last-Modified.
 */
export async function downloadTo(
  store: ObjectStore,
  key: string,
  target: string,
  overwrite: boolean,
  options: DownloadToOptions,
): Promise<Downloaded> {
  const argument = options.argument ?? "local path";
  const c: Confinement = { roots: options.roots, argument, shown: target };
  const into = (folders: OpenFolders) =>
    folders.with(path.dirname(target), c, (parent) => downloadInto(store, key, folders, parent, target, overwrite, argument, options));
  if (options.folders) return into(options.folders);
  // One file: flushed to disk before it is put in place.
  const folders = new OpenFolders();
  try {
    return await into(folders);
  } finally {
    await folders.close();
  }
}

/** downloadTo once the target's folder is open and checked. */
async function downloadInto(
  store: ObjectStore,
  key: string,
  folders: OpenFolders,
  parent: CheckedDir,
  target: string,
  overwrite: boolean,
  argument: string,
  options: DownloadToOptions,
): Promise<Downloaded> {
  const name = path.basename(target);
  if (!options.expectAbsent) await checkWritableTarget(parent.entry(name), overwrite, argument, target);
  throwIfAborted(options.signal);
  // A small file of a directory download (flushed at its end) that is placed by a link: fetched
  // into memory, then written and placed by one message to the files thread (small-files.ts).
  let small: FetchedBytes | undefined;
  if (folders.flushAtEnd && (!overwrite || options.expectAbsent) && options.knownSize <= SMALL_OBJECT_BYTES) {
    small = await fetchSmallObject(store, key, options);
    if (small !== undefined && (await placeSmall(small, parent, name, options.listed))) {
      folders.wrote(target, small.size);
      return { size: small.size, etag: small.etag };
    }
  }
  const tmp = await createTemp(parent, name);
  let out: Fetched;
  try {
    const fetched = small === undefined ? await fetchObjectInto(store, key, tmp, options) : await writeFetched(tmp, small);
    const time = downloadedTime(fetched.info, options.listed);
    // Without an MD5 ETag (multipart) no tool can compare hashes: only an exact time says "same".
    if (time !== undefined) {
      if (PLAIN_MD5.test(fetched.etag)) await stampFileTimes(tmp.handle, time, tmp.path);
      else await setFileTimes(tmp.handle, time, tmp.path, { exact: true });
    }
    out = { size: fetched.size, etag: fetched.etag, ...(fetched.unverified ? { unverified: fetched.unverified } : {}) };
  } catch (err) {
    await discardTemp(tmp);
    throw err;
  }
  await commitTemp(tmp, parent, name, {
    overwrite,
    sync: !folders.flushAtEnd,
    argument,
    shown: target,
    ...(options.expectAbsent ? { expectAbsent: true } : {}),
  });
  folders.wrote(target, out.size);
  return out;
}

/** Bytes already fetched (fetchSmallObject), written into the temporary file the usual way. */
async function writeFetched(tmp: TempFile, small: FetchedBytes): Promise<FetchedBytes> {
  await writeToTemp(tmp, [small.bytes]);
  return small;
}

/**
 * Writes and places a small fetched file by one message to the files thread, then checks the
 * folder again as placeTemp does (taking back only this file if the folder moved): the thread's
 * own look right after the link, or else verify(). False when it was not placed (nothing left
 * behind): the caller writes it the usual way, which reports or handles whatever stopped it. The
 * first files of a process go that way until it has learnt how its libuv sets times (stampSeconds).
 */
async function placeSmall(small: FetchedBytes, dir: CheckedDir, name: string, listed: ObjectInfo | undefined): Promise<boolean> {
  const time = downloadedTime(small.info, listed);
  const seconds = time === undefined ? undefined : stampSeconds(time);
  if (time !== undefined && seconds === undefined) return false;
  const tmpName = tempNameFor(name);
  const placed = await writeSmallFile({
    tmp: dir.entry(tmpName),
    target: dir.entry(name),
    bytes: small.bytes,
    flags: CREATE_FLAGS,
    mode: 0o644,
    seconds,
    folderLink: dir.procLink,
  });
  if (placed === undefined) return false;
  if (placed.tmpLeft) await fs.unlink(dir.entry(tmpName)).catch(() => undefined);
  // The writer looked where the folder was once the file was in place: where it was opened, the
  // check placeTemp makes is done; otherwise (or not looked) the folder is checked here.
  if (placed.folderAt === dir.path) return true;
  try {
    await dir.verify();
  } catch (err) {
    const now = await fs.lstat(dir.entry(name)).catch(() => undefined);
    if (now !== undefined && now.dev === placed.dev && now.ino === placed.ino) await fs.unlink(dir.entry(name)).catch(() => undefined);
    throw err;
  }
  return true;
}

export async function downloadFile(
  store: ObjectStore,
  key: string,
  localPath: string,
  options: TransferOptions = {},
): Promise<Downloaded & { localPath: string }> {
  return runPrepared(await prepareDownloadFile(store, key, localPath, options), options);
}

/** Everything of downloadFile before anything is written: the target checked, the object found. */
export async function prepareDownloadFile(
  store: ObjectStore,
  key: string,
  localPath: string,
  options: TransferOptions = {},
): Promise<PreparedTransfer<Downloaded & { localPath: string }>> {
  validateKey(key);
  const overwrite = options.overwrite ?? false;
  const target = await resolveWriteTarget(localPath, options.roots, "local_path");
  await checkWritableTarget(target, overwrite, "local_path", localPath);
  // Asked before any directory is created, so a missing key, bucket or server leaves nothing behind.
  const info = await store.head(key);
  if (!info) throw new StorageError("not_found", `${q(key)} does not exist`, { key });
  if (overwrite && options.beforeReplace) {
    // Asked here, before any job exists or anything is written (the server asks the person: --confirm).
    const existing = await fs.lstat(target).catch(() => undefined);
    if (existing?.isFile()) await options.beforeReplace({ destinations: [target], bytes: existing.size });
  }
  const listed = await listedVersion(store, info);
  return {
    bytesTotal: info.size,
    filesTotal: 1,
    async run({ signal, onProgress } = {}) {
      const progress = new ProgressTracker(info.size, 1, onProgress);
      const out = await downloadTo(store, key, target, overwrite, {
        ...(signal ? { signal } : {}),
        knownSize: info.size,
        onBytes: (b) => progress.bytes(key, b),
        onSize: (size) => progress.setBytesTotal(size),
        roots: options.roots,
        argument: "local_path",
        listed,
      });
      progress.fileDone(key, out.size);
      return { localPath: target, ...out };
    },
  };
}
