/**
 * Comparing a local folder with the objects under a prefix, reading only: which relative paths are
 * identical (same size and bytes, judged by the ETag), different (and why), only local, or only
 * remote. Nothing is written on either side.
 */
import pMap from "p-map";
import { cancelledError, StorageError, throwIfAborted } from "./errors.js";
import { compareBytes, type DifferenceReason } from "./etag.js";
import { OpenFile } from "./fs/descriptor.js";
import { fromFsError } from "./fs/errors.js";
import type { Roots } from "./fs/roots.js";
import { directoryPrefix } from "./keys.js";
import { compilePathFilter, type PathFilterOptions } from "./path-filter.js";
import type { ObjectInfo, ObjectStore } from "./store.js";
import { listAll } from "./store-ext.js";
import { keptObjects, localFiles } from "./transfer/directories.js";
import { ProgressTracker, type TransferProgress } from "./transfer/run.js";

export interface DifferentFile {
  /** Relative to the local folder and to the prefix alike. */
  path: string;
  reason: DifferenceReason;
  /** What was seen, e.g. "local 10 bytes, remote 12 bytes". */
  detail: string;
}

export interface DirectoryComparison {
  /** Relative paths, sorted. */
  identical: string[];
  different: DifferentFile[];
  onlyLocal: string[];
  onlyRemote: string[];
  /** Bytes of the local files compared (after include/exclude). */
  bytesLocal: number;
  /** Bytes of the objects compared (after include/exclude). */
  bytesRemote: number;
}

export interface CompareOptions extends PathFilterOptions {
  /** Allowed local roots (real paths); undefined leaves local paths unrestricted. */
  roots?: Roots;
  signal?: AbortSignal;
  /** Bytes hashed so far, over the bytes of every pair of the same size. */
  onProgress?: (progress: TransferProgress) => void;
  /** Files hashed at once (default 4): hashing is disk and CPU bound, so a few are enough. */
  concurrency?: number;
}

export const DEFAULT_COMPARE_CONCURRENCY = 4;

const byPath = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export async function compareDirectory(
  store: ObjectStore,
  localDir: string,
  prefix: string,
  options: CompareOptions = {},
): Promise<DirectoryComparison> {
  const filter = compilePathFilter(options);
  const files = await localFiles(localDir, options.roots, filter, "compared");
  throwIfAborted(options.signal);
  const start = directoryPrefix(prefix).length;
  const remote = new Map<string, ObjectInfo>();
  for (const o of keptObjects(await listAll(store, directoryPrefix(prefix), options.signal), prefix, filter)) {
    // Zero-byte "folder/" markers made by consoles and other tools are not files.
    if (o.key.endsWith("/") && o.size === 0) continue;
    remote.set(o.key.slice(start), o);
  }

  const result: DirectoryComparison = { identical: [], different: [], onlyLocal: [], onlyRemote: [], bytesLocal: 0, bytesRemote: 0 };
  const pairs: { path: string; file: string; size: number; object: ObjectInfo }[] = [];
  for (const f of files) {
    result.bytesLocal += f.size;
    const object = remote.get(f.relative);
    if (!object) result.onlyLocal.push(f.relative);
    else pairs.push({ path: f.relative, file: f.path, size: f.size, object });
  }
  const local = new Set(files.map((f) => f.relative));
  for (const [relative, o] of remote) {
    result.bytesRemote += o.size;
    if (!local.has(relative)) result.onlyRemote.push(relative);
  }

  const hashed = pairs.filter((p) => p.size === p.object.size);
  const progress = new ProgressTracker(
    hashed.reduce((n, p) => n + p.size, 0),
    hashed.length,
    options.onProgress,
  );
  const { signal, roots } = options;
  const compare = async (p: (typeof pairs)[number]) => {
    try {
      const options = { ...(signal ? { signal } : {}), partSize: async () => store.partSize?.(p.object.key) };
      // Sizes that differ need no read; otherwise the file is opened and checked by descriptor
      // (inside the roots, a regular file) and read only through it.
      if (p.size !== p.object.size) return await compareBytes(p.file, p.size, p.object, options);
      return await OpenFile.with(p.file, { roots: roots, argument: "local_dir", shown: p.file }, (file) =>
        compareBytes(file, file.size, p.object, options),
      );
    } catch (err) {
      if (signal?.aborted) throw cancelledError(err);
      // A file removed or made unreadable since the walk.
      throw err instanceof StorageError ? err : fromFsError(err, p.file);
    }
  };
  await pMap(
    pairs,
    async (p) => {
      const outcome = await compare(p);
      if (p.size === p.object.size) progress.fileDone(p.path, p.size);
      if (outcome.same) result.identical.push(p.path);
      else result.different.push({ path: p.path, reason: outcome.reason, detail: outcome.detail });
    },
    { concurrency: options.concurrency ?? DEFAULT_COMPARE_CONCURRENCY },
  );
  result.identical.sort(byPath);
  result.different.sort((a, b) => byPath(a.path, b.path));
  result.onlyLocal.sort(byPath);
  result.onlyRemote.sort(byPath);
  return result;
}
