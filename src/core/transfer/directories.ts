/**
 * Directory transfers, planned in full (every destination checked, every key vetted) before the
 * first byte is written. Each direction reads: resolve and check the local directory, list or
 * walk, vet, plan, answer a dry run or refuse conflicts, run.
 */
import type { Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { q, StorageError, throwIfAborted } from "../errors.js";
import { sameBytes } from "../etag.js";
import { CheckedDir, type Confinement, OpenFile, onBlockDevice, READ_FLAGS } from "../fs/descriptor.js";
import { fromFsError } from "../fs/errors.js";
import { OpenFolders } from "../fs/folders.js";
import { type Roots, resolveLocalPath } from "../fs/roots.js";
import { assertNoSymlinkBelow } from "../fs/safe-mkdir.js";
import { readSmallFile } from "../fs/small-files.js";
import { type WalkSkip, walkDirectory } from "../fs/walk.js";
import { directoryPrefix, joinKey, keyToLocalPath, validateKey } from "../keys.js";
import { compilePathFilter, type PathFilter, type PathFilterOptions } from "../path-filter.js";
import type { ObjectInfo, ObjectStore, PutOptions } from "../store.js";
import { listAll } from "../store-ext.js";
import { downloadTo, type TransferOptions } from "./files.js";
import { conflictError, type DirectoryTransferResult, type Existing, listing, objectSide, planTransfer, transferResult } from "./plan.js";
import { answered, checkMaxWorkers, type PreparedTransfer, ProgressTracker, runPlan, runPrepared } from "./run.js";
import { fileTimeMetadata, mtimeMetadata } from "./times.js";

/** Files up to this size are uploaded from memory, read whole by the files thread (small-files.ts). */
const SMALL_READ_BYTES = 64 * 1024;

export interface DirectoryTransferOptions extends TransferOptions, PathFilterOptions {
  maxWorkers?: number;
  dryRun?: boolean;
}

export async function uploadDirectory(
  store: ObjectStore,
  localDir: string,
  prefix: string,
  options: DirectoryTransferOptions = {},
): Promise<DirectoryTransferResult> {
  return runPrepared(await prepareUploadDirectory(store, localDir, prefix, options), options);
}

/**
 * Everything of uploadDirectory before the first byte: the directory checked, walked and vetted,
 * every destination looked up, a dry run answered and conflicts refused. `options.signal` covers
 * this part; the run takes its own (a background job's).
 */
export async function prepareUploadDirectory(
  store: ObjectStore,
  localDir: string,
  prefix: string,
  options: DirectoryTransferOptions = {},
): Promise<PreparedTransfer<DirectoryTransferResult>> {
  const workers = checkMaxWorkers(options.maxWorkers);
  const overwrite = options.overwrite ?? false;
  const filter = compilePathFilter(options);
  const files = (await localFiles(localDir, options.roots, filter, "uploaded")).map((f) => ({ ...f, key: joinKey(prefix, f.relative) }));
  refuseInvalidKeys(files);
  const reading = (file: string): Confinement => ({ roots: options.roots, argument: "local_dir", shown: file });

  // One listing answers "does it exist?" for every key (instead of a HEAD per object), and is the
  // existence check a server ignoring If-None-Match still needs.
  const existing = new Map<string, ObjectInfo>();
  if (files.length > 0) {
    for (const o of await listAll(store, directoryPrefix(prefix), options.signal)) existing.set(o.key, o);
  }
  const plan = await planTransfer(files, {
    overwrite,
    compareWhenOverwriting: false,
    destination: (f) => f.key,
    size: (f) => f.size,
    lookup: (f): Existing<ObjectInfo> => {
      const object = existing.get(f.key);
      return object ? { state: "file", found: object } : { state: "absent" };
    },
    identical: (f, object) => OpenFile.with(f.path, reading(f.path), (file) => sameBytes(file, file.size, object, options.signal)),
    detail: (f, at) => ({
      destination: f.key,
      from: f.path,
      source: { size: f.size, modified: new Date(f.mtimeMs) },
      ...(at.state === "file" ? { existing: objectSide(at.found) } : {}),
    }),
  });
  if (options.dryRun) return answered(transferResult(plan));
  if (plan.conflicts.length > 0) throw conflictError(plan.conflicts, "destination keys", plan.conflictDetails);
  if (overwrite && options.beforeReplace) {
    const replaced = plan.todo.flatMap((f) => existing.get(f.key) ?? []);
    if (replaced.length > 0) {
      await options.beforeReplace({ destinations: replaced.map((o) => o.key), bytes: replaced.reduce((n, o) => n + o.size, 0) });
    }
  }

  const mode = overwrite ? "overwrite" : "create";
  return {
    bytesTotal: plan.plannedBytes,
    filesTotal: plan.todo.length,
    async run({ signal, onProgress } = {}) {
      const progress = new ProgressTracker(plan.plannedBytes, plan.todo.length, onProgress);
      // Each folder is opened and checked once (inside the roots, where the walk saw it) and held
      // open while its files are read; each file is opened through it and checked by descriptor (a
      // regular file, not on /proc or /sys): what the walk saw may have been swapped since. A
      // folder that cannot be opened so (gone, or swapped for a symlink) leaves each of its files
      // to be opened by path and checked on its own, as a single upload is.
      const folders = new OpenFolders({ reading: true });
      const run = await runPlan(
        plan.todo,
        (f) => f.key,
        async (f) => {
          const c = reading(f.path);
          const putOptions = (metadata: Record<string, string>): PutOptions => ({
            mode,
            existing: existing.get(f.key) ?? null,
            metadata,
            ...(signal ? { signal } : {}),
            onBytes: (b) => progress.bytes(f.key, b),
          });
          const put = (file: OpenFile) => store.put(f.key, { kind: "file", file }, putOptions(fileTimeMetadata(file)));
          const out = await folders.with(
            path.dirname(f.path),
            c,
            async (dir) => {
              const name = path.basename(f.path);
              // A small file is read whole by one message to the files thread (small-files.ts),
              // through the folder's descriptor; only a regular file that did not change while it
              // was read, and (inside roots) on a block device, not /proc or /sys. Else, or on any
              // error, it is opened here, which tells what is wrong.
              if (f.size <= SMALL_READ_BYTES && dir.procLink !== undefined) {
                const read = await readSmallFile(dir.entry(name), READ_FLAGS, SMALL_READ_BYTES);
                if (read !== undefined && (c.roots === undefined || onBlockDevice(read.dev))) {
                  return store.put(f.key, { kind: "bytes", data: read.bytes }, putOptions(mtimeMetadata(read.mtimeNs)));
                }
              }
              return OpenFile.with({ dir, name }, c, put);
            },
            () => OpenFile.with(f.path, c, put),
          );
          progress.fileDone(f.key, out.size);
          return out.size;
        },
        workers,
        signal,
      ).finally(() => folders.close());
      return transferResult(plan, run);
    },
  };
}

/** local_dir to read, resolved within the roots; it must exist and be a directory. */
async function sourceDirectory(localDir: string, roots: readonly string[] | undefined): Promise<string> {
  const dir = await resolveLocalPath(localDir, roots, "local_dir");
  const stat = await fs.stat(dir).catch((err: unknown) => {
    throw fromFsError(err, localDir, "local_dir");
  });
  if (!stat.isDirectory()) {
    throw new StorageError("not_a_directory", `local_dir ${q(localDir)} is not a directory; use upload_file for one file`, {
      path: localDir,
    });
  }
  return dir;
}

/** What include/exclude leave out of a walk. */
function walkSkip(filter: PathFilter | undefined): WalkSkip | undefined {
  return filter && ((relative, folder) => (folder ? filter.skipsFolder(relative) : !filter.keeps(relative)));
}

/**
 * Every file below local_dir (resolved within the roots) that include/exclude keep, with its
 * "/"-separated relative path; refused whole if a symlink leads out of the roots. `verb` says
 * what did not happen ("uploaded", "compared").
 */
export async function localFiles(localDir: string, roots: Roots | undefined, filter: PathFilter | undefined, verb: string) {
  const dir = await sourceDirectory(localDir, roots);
  const walked = await walkDirectory(dir, roots, walkSkip(filter));
  if (walked.outside.length > 0) {
    throw new StorageError(
      "outside_roots",
      `local_dir holds symlinks that lead outside the allowed roots: ${listing(walked.outside)}; nothing was ${verb}. Remove them, exclude them, or handle their targets separately`,
      { path: localDir, details: { outside: walked.outside } },
    );
  }
  return walked.files;
}

/** Refused whole if any file would make an invalid key. */
function refuseInvalidKeys(files: { key: string; relative: string }[]): void {
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
}

export async function downloadDirectory(
  store: ObjectStore,
  prefix: string,
  localDir: string,
  options: DirectoryTransferOptions = {},
): Promise<DirectoryTransferResult> {
  return runPrepared(await prepareDownloadDirectory(store, prefix, localDir, options), options);
}

/** Everything of downloadDirectory before the first file is written (see prepareUploadDirectory). */
export async function prepareDownloadDirectory(
  store: ObjectStore,
  prefix: string,
  localDir: string,
  options: DirectoryTransferOptions = {},
): Promise<PreparedTransfer<DirectoryTransferResult>> {
  const workers = checkMaxWorkers(options.maxWorkers);
  const overwrite = options.overwrite ?? false;
  const filter = compilePathFilter(options);
  const dir = await targetDirectory(localDir, options.roots);
  const listed = await listAll(store, directoryPrefix(prefix), options.signal);
  // A mistyped prefix is not "0 files downloaded" and an empty folder: it is said, and nothing is created.
  if (!listed.some((o) => !isFolderMarker(o))) throw await emptyPrefixError(store, directoryPrefix(prefix), options.signal);
  const objects = keptObjects(listed, prefix, filter);
  const files = objectsToDownload(objects, prefix, dir);
  await refuseRedirected(files, dir, localDir);

  /** The local files that exist, as the plan saw them (what an overwrite would replace). */
  const found = new Map<string, Stats>();
  // One listing per folder instead of a look per file: a name the listing does not hold is
  // absent (a folder that does not exist yet holds none), and only names it holds are looked at.
  const listings = new Map<string, Promise<FolderNames>>();
  const namesIn = (folder: string) => {
    let names = listings.get(folder);
    if (names === undefined) {
      names = folderNames(folder);
      listings.set(folder, names);
    }
    return names;
  };
  const plan = await planTransfer(files, {
    overwrite,
    compareWhenOverwriting: true,
    destination: (p) => p.path,
    size: (p) => p.object.size,
    lookup: async (p): Promise<Existing<Stats>> => {
      if (!(await namesIn(path.dirname(p.path))).mayHold(path.basename(p.path))) return { state: "absent" };
      const stat = await fs.lstat(p.path).catch(() => undefined);
      if (!stat) return { state: "absent" };
      if (stat.isFile()) found.set(p.path, stat);
      return stat.isFile() ? { state: "file", found: stat } : { state: "other" };
    },
    identical: (p) =>
      OpenFile.with(p.path, { roots: options.roots, argument: "local_dir", shown: p.path }, (file) =>
        sameBytes(file, file.size, p.object, options.signal),
      ),
    detail: async (p, at) => {
      // A folder (or link) in the way is described too: its size and time say what it is.
      const stat = at.state === "file" ? at.found : await fs.lstat(p.path).catch(() => undefined);
      return {
        destination: p.path,
        from: p.key,
        source: objectSide(p.object),
        ...(stat ? { existing: { size: stat.size, modified: stat.mtime } } : {}),
      };
    },
  });
  if (options.dryRun) return answered(transferResult(plan));
  if (plan.conflicts.length > 0) throw conflictError(plan.conflicts, "local files", plan.conflictDetails);
  if (overwrite && options.beforeReplace) {
    const replaced = plan.todo.filter((p) => found.has(p.path));
    if (replaced.length > 0) {
      await options.beforeReplace({
        destinations: replaced.map((p) => p.path),
        bytes: replaced.reduce((n, p) => n + (found.get(p.path)?.size ?? 0), 0),
      });
    }
  }

  return {
    bytesTotal: plan.plannedBytes,
    filesTotal: plan.todo.length,
    async run({ signal, onProgress } = {}) {
      // Created one folder at a time through descriptors, never through a symlink swapped in meanwhile.
      await (await CheckedDir.open(dir, { roots: options.roots, argument: "local_dir", shown: localDir }, { create: true })).close();
      // Flushed to disk once at the end, not file by file (fs/flush.ts).
      const folders = new OpenFolders({ flushAtEnd: true });
      const unverified: { path: string; reason: string }[] = [];
      const progress = new ProgressTracker(plan.plannedBytes, plan.todo.length, onProgress);
      const run = await runPlan(
        plan.todo,
        (p) => p.path,
        async (p) => {
          const out = await downloadTo(store, p.key, p.path, overwrite, {
            ...(signal ? { signal } : {}),
            knownSize: p.object.size,
            onBytes: (b) => progress.bytes(p.key, b),
            roots: options.roots,
            argument: "local_dir",
            folders,
            listed: p.object,
            // Looked at by the plan: a file found there is looked at again before it is replaced;
            // where nothing was, the exclusive link finds anything that has appeared since.
            expectAbsent: !found.has(p.path),
          });
          if (out.unverified !== undefined) unverified.push({ path: p.path, reason: out.unverified });
          progress.fileDone(p.key, out.size);
          return out.size;
        },
        workers,
        signal,
      ).catch(async (err: unknown) => {
        // The files that did land are flushed too; the run's own error is the one reported.
        await folders.close().catch(() => undefined);
        throw err;
      });
      await folders.close();
      return { ...transferResult(plan, run), ...(unverified.length > 0 ? { unverified } : {}) };
    },
  };
}

/** What one listing of a folder tells a download's plan: whether a name may be taken there. */
interface FolderNames {
  mayHold(name: string): boolean;
}

const ASCII = /^[\x20-\x7e]*$/;

/**
 * The names in `folder`, for the plan. A name the listing lacks is absent; names are compared
 * without ASCII case, so that a case-insensitive filesystem's "A.txt" still gets a look for
 * "a.txt" (the kernel then answers exactly), and a folder holding any other name (which a
 * filesystem may fold or normalise in ways not copied here) is looked at name by name. A folder
 * that cannot be listed is looked at name by name too; one that does not exist holds nothing.
 * Anything that appears after the listing is found by the exclusive link that puts a file in place.
 */
async function folderNames(folder: string): Promise<FolderNames> {
  let names: string[];
  try {
    names = await fs.readdir(folder);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { mayHold: () => false };
    return { mayHold: () => true };
  }
  if (!names.every((name) => ASCII.test(name))) return { mayHold: () => true };
  const folded = new Set(names.map((name) => name.toLowerCase()));
  return { mayHold: (name) => !ASCII.test(name) || folded.has(name.toLowerCase()) };
}

/** local_dir of a download, resolved within the roots; it may be missing, or be a directory. */
async function targetDirectory(localDir: string, roots: Roots | undefined): Promise<string> {
  const dir = await resolveLocalPath(localDir, roots, "local_dir");
  const stat = await fs.lstat(dir).catch(() => undefined);
  if (stat && !stat.isDirectory()) {
    throw new StorageError("not_a_directory", `local_dir ${q(localDir)} exists and is not a directory`, { path: localDir });
  }
  return dir;
}

/** The objects under `prefix` whose path below it include/exclude keep. */
export function keptObjects(objects: ObjectInfo[], prefix: string, filter: PathFilter | undefined): ObjectInfo[] {
  if (!filter) return objects;
  const start = directoryPrefix(prefix).length;
  return objects.filter((o) => filter.keeps(o.key.slice(start)));
}

/** Zero-byte "folder/" markers made by consoles and other tools carry no data. */
function isFolderMarker(object: ObjectInfo): boolean {
  return object.key.endsWith("/") && object.size === 0;
}

/** not_found for a prefix holding no objects, naming the nearest parent prefix that holds some. */
async function emptyPrefixError(store: ObjectStore, prefix: string, signal: AbortSignal | undefined): Promise<StorageError> {
  const parts = prefix.split("/").filter(Boolean);
  let nearest: string | undefined;
  for (let i = parts.length - 1; i >= 0 && nearest === undefined; i--) {
    throwIfAborted(signal);
    const parent = i === 0 ? "" : `${parts.slice(0, i).join("/")}/`;
    const page = await store.list({ prefix: parent, limit: 1 }).catch(() => undefined);
    if (page && page.objects.length > 0) nearest = parent;
  }
  const hint =
    nearest === undefined
      ? "the bucket holds no objects"
      : `the nearest prefix holding objects is ${q(nearest)} (list_objects with that prefix and recursive: false shows what is there)`;
  return new StorageError("not_found", `no objects under ${q(prefix)}; ${hint}. Nothing was downloaded or created`, {
    details: { prefix, nearest },
  });
}

interface PlannedDownload {
  key: string;
  path: string;
  relative: string;
  object: ObjectInfo;
}

/** Where each listed object goes inside `dir`; refused whole if any key cannot be written safely. */
function objectsToDownload(objects: ObjectInfo[], prefix: string, dir: string): PlannedDownload[] {
  const unsafe: string[] = [];
  const planned: PlannedDownload[] = [];
  for (const object of objects) {
    if (isFolderMarker(object)) continue;
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
  return planned;
}

/**
 * A symlink planted anywhere below local_dir is found before anything is written (and before the
 * conflict check could read through it), so the call stays all-or-nothing.
 */
async function refuseRedirected(planned: PlannedDownload[], dir: string, localDir: string): Promise<void> {
  // Checked once per folder: every file of a folder has the same folders above it.
  const folders = new Map<string, Promise<boolean>>();
  const redirects = (folder: string, target: string) => {
    let check = folders.get(folder);
    if (check === undefined) {
      check = assertNoSymlinkBelow(dir, folder, target).then(
        () => false,
        (err: unknown) => {
          if (err instanceof StorageError) return true;
          throw err;
        },
      );
      folders.set(folder, check);
    }
    return check;
  };
  const redirected: string[] = [];
  for (const p of planned) if (await redirects(path.dirname(p.path), p.path)) redirected.push(p.path);
  if (redirected.length > 0) {
    throw new StorageError(
      "outside_roots",
      `symlinks (or files where folders should be) inside local_dir would redirect these downloads: ${listing(redirected)}; nothing was downloaded. Remove them or choose another local_dir`,
      { path: localDir, details: { redirected } },
    );
  }
}
