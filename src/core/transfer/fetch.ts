/**
 * Fetching one object into a temporary file: one streamed GET for small objects, byte ranges in
 * parallel (positional writes) for large ones on S3. The caller renames the finished file into
 * place, so no reader ever sees a partial file.
 */
import { createHash } from "node:crypto";
import { getMaxListeners, setMaxListeners } from "node:events";
import pMap from "p-map";
import { cancelledError, q, StorageError, throwIfAborted } from "../errors.js";
import { type TempFile, writeToTemp } from "../fs/atomic-write.js";
import { DEFAULT_PART_SIZE } from "../multipart.js";
import type { GetResult, ObjectStore } from "../store.js";

export interface FetchOptions {
  /** The object's size as its HEAD or a listing told it: it decides between one GET and ranges. */
  knownSize: number;
  signal?: AbortSignal;
  /** Total bytes written so far. */
  onBytes?: (bytes: number) => void;
  onSize?: (size: number) => void;
  /** Objects above this many bytes are fetched in ranges (stores with parallelRanges). */
  rangeThreshold?: number;
  partSize?: number;
  /** Ranges in flight per object. */
  concurrency?: number;
}

const PLAIN_MD5 = /^[0-9a-f]{32}$/i;

function interrupted(key: string, err: unknown, signal: AbortSignal | undefined, got: number, size: number): StorageError {
  if (signal?.aborted) return cancelledError(err);
  if (err instanceof StorageError) return err;
  return new StorageError("unavailable", `reading ${q(key)} stopped after ${got} of ${size} bytes; repeat the call`, { key, cause: err });
}

export async function fetchObjectInto(
  store: ObjectStore,
  key: string,
  tmp: TempFile,
  options: FetchOptions,
): Promise<{ size: number; etag: string }> {
  const partSize = options.partSize ?? DEFAULT_PART_SIZE;
  const threshold = options.rangeThreshold ?? 2 * partSize;
  if (store.capabilities.parallelRanges && options.knownSize > threshold) {
    options.onSize?.(options.knownSize);
    return fetchRanges(store, key, tmp, options.knownSize, partSize, options);
  }
  return fetchWhole(store, key, tmp, options);
}

/** One GET, streamed; the bytes are checked against the ETag when it is a plain MD5. */
async function fetchWhole(store: ObjectStore, key: string, tmp: TempFile, options: FetchOptions) {
  const { signal } = options;
  throwIfAborted(signal);
  const got = await store.get(key, signal ? { signal } : {});
  options.onSize?.(got.info.size);
  const hash = createHash("md5");
  let written = 0;
  try {
    written = await writeToTemp(tmp, got.body, {
      ...(signal ? { signal } : {}),
      onChunk: (chunk, total) => {
        hash.update(chunk);
        options.onBytes?.(total);
      },
    });
  } catch (err) {
    got.body.destroy();
    throw interrupted(key, err, signal, written, got.info.size);
  }
  if (written !== got.info.size) {
    throw new StorageError("unavailable", `${q(key)} arrived short (${written} of ${got.info.size} bytes); repeat the call`, { key });
  }
  const md5 = hash.digest("hex");
  if (PLAIN_MD5.test(got.info.etag) && md5 !== got.info.etag.toLowerCase()) {
    throw new StorageError("unavailable", `${q(key)} arrived corrupted (MD5 ${md5}, ETag ${got.info.etag}); repeat the call`, { key });
  }
  return { size: written, etag: got.info.etag };
}

/** Byte ranges in parallel; every range must come from the same version of the object. */
async function fetchRanges(store: ObjectStore, key: string, tmp: TempFile, size: number, partSize: number, options: FetchOptions) {
  // The first failure stops the other ranges too, instead of letting them run to the end.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const concurrency = options.concurrency ?? 8;
  // Each range in flight, and each attempt of it, listens to this signal.
  setMaxListeners(concurrency * 8, signal);
  if (options.signal) setMaxListeners(Math.max(getMaxListeners(options.signal), concurrency * 8), options.signal);
  const offsets: number[] = [];
  for (let offset = 0; offset < size; offset += partSize) offsets.push(offset);
  let etag: string | undefined;
  let total = 0;
  await pMap(
    offsets,
    async (offset) => {
      throwIfAborted(signal);
      const length = Math.min(partSize, size - offset);
      const got: GetResult = await store.get(key, { range: { offset, length }, signal });
      etag ??= got.info.etag;
      if (got.info.etag !== etag || got.info.size !== size) {
        got.body.destroy();
        throw new StorageError("unavailable", `${q(key)} changed while it was being downloaded; repeat the call`, { key });
      }
      let written = 0;
      try {
        written = await writeToTemp(tmp, got.body, {
          position: offset,
          signal,
          onChunk: (chunk) => {
            total += chunk.length;
            options.onBytes?.(total);
          },
        });
      } catch (err) {
        got.body.destroy();
        throw interrupted(key, err, signal, total, size);
      }
      if (written !== length) {
        throw new StorageError("unavailable", `a range of ${q(key)} arrived short (${written} of ${length} bytes); repeat the call`, {
          key,
        });
      }
    },
    { concurrency, stopOnError: true, signal },
  ).catch((err: unknown) => {
    stop.abort();
    throw interrupted(key, err, options.signal, total, size);
  });
  return { size, etag: etag ?? "" };
}
