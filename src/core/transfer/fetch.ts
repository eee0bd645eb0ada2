/**
 * Fetching one object into a temporary file: one streamed GET for small objects, byte ranges in
 * parallel (positional writes) for large ones on S3. The caller renames the finished file into
 * place, so no reader ever sees a partial file. Every download is checked against the object's
 * ETag: the MD5 of the bytes for single-part objects, the MD5 of the parts' MD5s for multipart
 * ones (ranges then follow the part size). A mismatch fails the download; an object whose ETag
 * cannot be recomputed (unknown part size, an ETag that is not an MD5) is reported as unverified.
 * Objects from 1 MiB are hashed by a worker thread (hash-pool.ts) reading back what was written,
 * so the MD5 runs on the other core instead of holding up the event loop that moves the bytes.
 */
import { createHash, type Hash } from "node:crypto";
import { getMaxListeners, setMaxListeners } from "node:events";
import { fdatasync } from "node:fs";
import pMap from "p-map";
import { cancelledError, q, StorageError, throwIfAborted } from "../errors.js";
import { candidatePartSizes, compareBytes, multipartEtagOf, multipartParts, PLAIN_MD5 } from "../etag.js";
import { type TempFile, writeToTemp } from "../fs/atomic-write.js";
import { hashFileRanges } from "../fs/hash-pool.js";
import { DEFAULT_PART_SIZE } from "../multipart.js";
import type { GetResult, ObjectInfo, ObjectStore } from "../store.js";

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
  /** The object's ETag as the listing or HEAD told it: it decides the ranges of a multipart object. */
  knownEtag?: string;
}

/** What was fetched; `unverified` says why the bytes could not be checked, when they could not. */
export interface Fetched {
  size: number;
  etag: string;
  unverified?: string;
}

/** What was fetched, and the object as the GET told it (its Last-Modified and metadata). */
export interface FetchedObject extends Fetched {
  info: ObjectInfo;
}

/** How the bytes were cut while hashing: one MD5 of everything, or one per part of `partSize`. */
interface Hashing {
  /** undefined: the whole object is one MD5 (single-part ETag). */
  partSize: number | undefined;
  /** The server said so (not a guess): a mismatch is corruption, not an unknown layout. */
  told: boolean;
}

function interrupted(key: string, err: unknown, signal: AbortSignal | undefined, got: number, size: number): StorageError {
  if (signal?.aborted) return cancelledError(err);
  if (err instanceof StorageError) return err;
  return new StorageError("unavailable", `reading ${q(key)} stopped after ${got} of ${size} bytes; repeat the call`, { key, cause: err });
}

export async function fetchObjectInto(store: ObjectStore, key: string, tmp: TempFile, options: FetchOptions): Promise<FetchedObject> {
  const defaultPart = options.partSize ?? DEFAULT_PART_SIZE;
  const threshold = options.rangeThreshold ?? 2 * defaultPart;
  if (store.capabilities.parallelRanges && options.knownSize > threshold) {
    options.onSize?.(options.knownSize);
    const etag = options.knownEtag ?? (await store.head(key))?.etag ?? "";
    const hashing = await layoutFor(store, key, options.knownSize, etag, defaultPart);
    const fetched = await fetchRanges(
      store,
      key,
      tmp,
      options.knownSize,
      hashing.partSize ?? defaultPart,
      hashing.partSize !== undefined,
      options,
    );
    const etagNow = fetched.etag;
    if (hashing.partSize !== undefined && etagNow === etag) {
      const verified = await verify(store, key, tmp, fetched.size, etagNow, multipartEtagOf(fetched.digests), hashing, options.signal);
      return { ...verified, info: fetched.info };
    }
    // A single-part object (or one that changed since it was listed): MD5 of what is on disk.
    const md5 = PLAIN_MD5.test(etagNow) ? await md5OfFile(key, tmp, fetched.size) : "";
    throwIfAborted(options.signal);
    const verified = await verify(store, key, tmp, fetched.size, etagNow, md5, { partSize: undefined, told: false }, options.signal);
    return { ...verified, info: fetched.info };
  }
  return fetchWhole(store, key, tmp, options);
}

/**
 * How a download of this object is hashed: one MD5 for a single-part ETag; for a multipart one,
 * its part size as the server tells it, or else the likeliest part size for its part count.
 */
async function layoutFor(store: ObjectStore, key: string, size: number, etag: string, fallback: number): Promise<Hashing> {
  const parts = multipartParts(etag);
  if (parts === undefined) return { partSize: undefined, told: false };
  const told = store.partSize ? await store.partSize(key) : undefined;
  if (told !== undefined && Math.ceil(size / told) === parts) return { partSize: told, told: true };
  return { partSize: candidatePartSizes(size, parts)[0] ?? fallback, told: false };
}

/**
 * Compares what was computed while writing with the ETag. A multipart guess that missed is tried
 * again with the part size the server tells (if it does) or the other likely sizes, from the file.
 */
async function verify(
  store: ObjectStore,
  key: string,
  tmp: TempFile,
  size: number,
  etag: string,
  computed: string,
  hashing: Hashing,
  signal: AbortSignal | undefined,
): Promise<Fetched> {
  const expected = etag.toLowerCase();
  if (computed !== "" && computed === expected) return { size, etag };
  const corrupted = () => corruptedError(key, computed, etag);
  if (PLAIN_MD5.test(expected)) throw corrupted();
  const parts = multipartParts(expected);
  if (parts === undefined) {
    return { size, etag, unverified: `its ETag ${q(etag)} is not an MD5, so the bytes could not be checked` };
  }
  if (hashing.told) throw corrupted();
  // The guess missed: the part size the server tells (then a mismatch is corruption), else the
  // other usual sizes, recomputed from the file.
  const compared = await compareBytes(
    tmp.path,
    size,
    { size, etag },
    {
      ...(signal ? { signal } : {}),
      ...(store.partSize ? { partSize: () => store.partSize?.(key) ?? Promise.resolve(undefined) } : {}),
    },
  );
  if (compared.same) return { size, etag };
  if (compared.reason === "content_differs") throw corrupted();
  return {
    size,
    etag,
    unverified: `it is a multipart object (${parts} parts) and the server does not tell its part size; none of the usual part sizes reproduced its ETag, so the bytes could not be checked`,
  };
}

/** One GET, streamed and hashed as it is written (per part for a multipart ETag). */
async function fetchWhole(store: ObjectStore, key: string, tmp: TempFile, options: FetchOptions): Promise<FetchedObject> {
  const { signal } = options;
  throwIfAborted(signal);
  const got = await store.get(key, signal ? { signal } : {});
  options.onSize?.(got.info.size);
  const etag = got.info.etag;
  const parts = multipartParts(etag);
  const partSize = parts === undefined ? undefined : candidatePartSizes(got.info.size, parts)[0];
  // Nothing to compare with: an ETag that is neither an MD5 nor a multipart one of a known layout.
  const hashed = PLAIN_MD5.test(etag) || partSize !== undefined;
  const digester = hashed ? newDigester(tmp, got.info.size, partSize) : undefined;
  let written = 0;
  try {
    written = await writeToTemp(tmp, got.body, {
      ...(signal ? { signal } : {}),
      onChunk: (chunk, total) => {
        digester?.chunk(chunk);
        options.onBytes?.(total);
      },
      onWritten: (position, length) => digester?.written(position, length),
    });
  } catch (err) {
    got.body.destroy();
    await digester?.digests().catch(() => undefined);
    throw interrupted(key, err, signal, written, got.info.size);
  }
  const digests = await digester?.digests().catch((err: unknown) => {
    throw hashFailed(key, tmp, err);
  });
  if (written !== got.info.size) {
    throw new StorageError("unavailable", `${q(key)} arrived short (${written} of ${got.info.size} bytes); repeat the call`, { key });
  }
  const computed = digests === undefined ? "" : parts === undefined ? hex(digests) : multipartEtagOf(digests);
  return { ...(await verify(store, key, tmp, written, etag, computed, { partSize, told: false }, signal)), info: got.info };
}

/** Objects up to this size may be fetched into memory and written in one step (fetchSmallObject). */
export const SMALL_OBJECT_BYTES = 64 * 1024;

/** A small object fetched whole into memory, its bytes checked against its MD5 ETag. */
export interface FetchedBytes extends FetchedObject {
  bytes: Buffer;
}

/**
 * One GET of a small single-part object into memory, hashed as it arrives and checked against
 * its MD5 ETag. Undefined (the body dropped) when the object is not that: larger than
 * SMALL_OBJECT_BYTES, or without an MD5 ETag (multipart, or changed since it was listed); the
 * caller then downloads it the usual way.
 */
export async function fetchSmallObject(store: ObjectStore, key: string, options: FetchOptions): Promise<FetchedBytes | undefined> {
  const { signal } = options;
  throwIfAborted(signal);
  const got = await store.get(key, signal ? { signal } : {});
  const { size, etag } = got.info;
  if (size > SMALL_OBJECT_BYTES || !PLAIN_MD5.test(etag)) {
    got.body.destroy();
    return undefined;
  }
  options.onSize?.(size);
  const hash = createHash("md5");
  const chunks: Uint8Array[] = [];
  let received = 0;
  try {
    for await (const chunk of got.body as AsyncIterable<Uint8Array>) {
      if (signal?.aborted) throw cancelledError(signal.reason);
      received += chunk.length;
      // More than the object's size: told below, without holding an endless body in memory.
      if (received > size) break;
      chunks.push(chunk);
      hash.update(chunk);
      options.onBytes?.(received);
    }
  } catch (err) {
    got.body.destroy();
    throw interrupted(key, err, signal, received, size);
  }
  got.body.destroy();
  if (received !== size) {
    throw new StorageError(
      "unavailable",
      `${q(key)} arrived ${received < size ? "short" : "long"} (${received} of ${size} bytes); repeat the call`,
      {
        key,
      },
    );
  }
  const computed = hash.digest("hex");
  if (computed !== etag.toLowerCase()) throw corruptedError(key, computed, etag);
  return { size, etag, info: got.info, bytes: Buffer.concat(chunks, received) };
}

const corruptedError = (key: string, computed: string, etag: string) =>
  new StorageError("unavailable", `${q(key)} arrived corrupted (computed ${computed}, ETag ${etag}); repeat the call`, { key });

/** Objects from this size are hashed by a worker thread; smaller ones inline (a message costs more). */
const WORKER_HASH_FROM = 1024 * 1024;

/**
 * Hashes a download as it is written: inline from the chunks for small objects, by a worker
 * thread reading back the written ranges for larger ones. `digests` must be awaited on every path
 * (it tells when the worker is done with the file); one MD5, or one per `partSize` bytes.
 */
interface Digester {
  chunk(chunk: Uint8Array): void;
  written(position: number, length: number): void;
  digests(): Promise<Buffer[]>;
}

function newDigester(tmp: TempFile, size: number, partSize: number | undefined): Digester {
  if (size >= WORKER_HASH_FROM) {
    try {
      const ranges = hashFileRanges(tmp.handle.fd, partSize);
      return { chunk: () => undefined, written: (position, length) => ranges.add(position, length), digests: () => ranges.digests() };
    } catch {
      // No worker thread could be started (a resource limit): hash inline, as for small objects.
    }
  }
  const hasher = new PartHasher(partSize);
  return { chunk: (chunk) => hasher.update(chunk), written: () => undefined, digests: async () => hasher.digests() };
}

/** The MD5 of the first `size` bytes of a temporary file, read back by a worker thread. */
async function md5OfFile(key: string, tmp: TempFile, size: number): Promise<string> {
  const ranges = hashFileRanges(tmp.handle.fd);
  ranges.add(0, size);
  return hex(await ranges.digests().catch((err: unknown) => Promise.reject(hashFailed(key, tmp, err))));
}

const hex = (digests: Buffer[]) => digests[0]?.toString("hex") ?? "";

function hashFailed(key: string, tmp: TempFile, err: unknown): StorageError {
  return new StorageError(
    "unavailable",
    `${q(key)} could not be checked: reading back ${q(tmp.path)} failed (${String((err as Error).message)}); repeat the call`,
    {
      key,
      cause: err,
    },
  );
}

/** MD5 of a stream, or of each `partSize` slice of it. */
class PartHasher {
  private hash: Hash = createHash("md5");
  private inPart = 0;
  private readonly done: Buffer[] = [];
  constructor(private readonly partSize: number | undefined) {}
  update(chunk: Uint8Array): void {
    const size = this.partSize;
    if (size === undefined) {
      this.hash.update(chunk);
      return;
    }
    let rest = chunk;
    while (rest.length > 0) {
      const take = Math.min(rest.length, size - this.inPart);
      this.hash.update(take === rest.length ? rest : rest.subarray(0, take));
      this.inPart += take;
      rest = rest.subarray(take);
      if (this.inPart === size) {
        this.done.push(this.hash.digest());
        this.hash = createHash("md5");
        this.inPart = 0;
      }
    }
  }
  /** One MD5 of everything, or one per part (the last one possibly short). */
  digests(): Buffer[] {
    if (this.partSize === undefined || this.inPart > 0 || this.done.length === 0) this.done.push(this.hash.digest());
    return this.done;
  }
}

/** From this size a download's pages go to disk while it runs (writeBehind). */
const WRITE_BEHIND_FROM = 64 * 1024 * 1024;
const WRITE_BEHIND_EVERY = 64 * 1024 * 1024;

/**
 * The file is made durable (fsync) once complete, before it is put in place. Nothing would write a
 * large file's pages before that (the kernel waits for 10 % of memory to be dirty), so that one
 * fsync would write the whole file while the caller waits: a datasync every WRITE_BEHIND_EVERY
 * bytes (one at a time, on the thread pool) writes them while the rest downloads. `settle` waits
 * for the one running; their failures are left to the final fsync.
 */
function writeBehind(tmp: TempFile, size: number): { written(bytes: number): void; settle(): Promise<void> } {
  let since = 0;
  let running: Promise<void> | undefined;
  return {
    written(bytes) {
      if (size < WRITE_BEHIND_FROM) return;
      since += bytes;
      if (since < WRITE_BEHIND_EVERY || running !== undefined) return;
      since = 0;
      running = new Promise<void>((resolve) => fdatasync(tmp.handle.fd, () => resolve())).finally(() => {
        running = undefined;
      });
    },
    settle: async () => {
      await running;
    },
  };
}

/** Ranges in flight per object (a download_file, or each large object of a directory). */
const RANGES_IN_FLIGHT = 8;
/**
 * Objects from this size are fetched in long ranges, at most MAX_PARTS_PER_RANGE parts each, two
 * at a time: 2 GETs of 8 parts (64 MiB for 8 MiB parts) carry a large object as fast as 8 GETs of
 * one part, with less memory in flight (the 1 GiB download's peak RSS stays under 150 MB with the
 * hashing worker) and an eighth of the requests.
 */
const LONG_RANGES_FROM = 64 * 1024 * 1024;
const LONG_RANGES_IN_FLIGHT = 2;
const MAX_PARTS_PER_RANGE = 8;

/** Byte ranges in parallel; every range must come from the same version of the object. */
async function fetchRanges(
  store: ObjectStore,
  key: string,
  tmp: TempFile,
  size: number,
  partSize: number,
  hashParts: boolean,
  options: FetchOptions,
): Promise<{ size: number; etag: string; digests: Buffer[]; info: ObjectInfo }> {
  // The first failure stops the other ranges too, instead of letting them run to the end.
  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const long = size >= LONG_RANGES_FROM;
  const concurrency = options.concurrency ?? (long ? LONG_RANGES_IN_FLIGHT : RANGES_IN_FLIGHT);
  // A range is a whole number of parts (each hashed on its own), so fewer, longer GETs carry the
  // object while every part still gets its MD5.
  const partsPerRange = long ? Math.max(1, Math.min(MAX_PARTS_PER_RANGE, Math.floor(size / partSize / concurrency))) : 1;
  const rangeSize = partSize * partsPerRange;
  // Each range in flight, and each attempt of it, listens to this signal.
  setMaxListeners(concurrency * 8, signal);
  if (options.signal) setMaxListeners(Math.max(getMaxListeners(options.signal), concurrency * 8), options.signal);
  const offsets: number[] = [];
  for (let offset = 0; offset < size; offset += rangeSize) offsets.push(offset);
  let etag: string | undefined;
  let info: ObjectInfo | undefined;
  let total = 0;
  const digests: Buffer[] = [];
  // Ranges still running when another failed: waited for before the caller discards the file.
  const running = new Set<Promise<unknown>>();
  const flushing = writeBehind(tmp, size);
  const one = async (offset: number, index: number) => {
    throwIfAborted(signal);
    const length = Math.min(rangeSize, size - offset);
    const got: GetResult = await store.get(key, { range: { offset, length }, signal });
    etag ??= got.info.etag;
    info ??= got.info;
    if (got.info.etag !== etag || got.info.size !== size) {
      got.body.destroy();
      throw new StorageError("unavailable", `${q(key)} changed while it was being downloaded; repeat the call`, { key });
    }
    let written = 0;
    const digester = hashParts ? newDigester(tmp, length, partSize) : undefined;
    try {
      written = await writeToTemp(tmp, got.body, {
        position: offset,
        signal,
        onChunk: (chunk) => {
          digester?.chunk(chunk);
          total += chunk.length;
          options.onBytes?.(total);
        },
        onWritten: (position, bytes) => {
          digester?.written(position, bytes);
          flushing.written(bytes);
        },
      });
    } catch (err) {
      got.body.destroy();
      await digester?.digests().catch(() => undefined);
      throw interrupted(key, err, signal, total, size);
    }
    const partDigests = await digester?.digests().catch((err: unknown) => {
      throw hashFailed(key, tmp, err);
    });
    if (written !== length) {
      throw new StorageError("unavailable", `a range of ${q(key)} arrived short (${written} of ${length} bytes); repeat the call`, {
        key,
      });
    }
    partDigests?.forEach((digest, part) => {
      digests[index * partsPerRange + part] = digest;
    });
  };
  await pMap(
    offsets,
    (offset, index) => {
      const run = one(offset, index);
      const tracked = run.catch(() => undefined).finally(() => running.delete(tracked));
      running.add(tracked);
      return run;
    },
    { concurrency, stopOnError: true, signal },
  ).catch(async (err: unknown) => {
    stop.abort();
    await Promise.all(running);
    await flushing.settle();
    throw interrupted(key, err, options.signal, total, size);
  });
  await flushing.settle();
  return { size, etag: etag ?? "", digests, info: info ?? { key, size, etag: etag ?? "", lastModified: new Date(0) } };
}
