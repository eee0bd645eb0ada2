/**
 * What every store gets once, written over the minimal ObjectStore interface: whole listings,
 * whole reads, existence, and the one check of a byte range.
 */
import { isStorageError, StorageError, throwIfAborted } from "./errors.js";
import { MAX_KEY_BYTES } from "./keys.js";
import { type ByteRange, MAX_LIST_LIMIT, type ObjectInfo, type ObjectStore } from "./store.js";

/** Every object under a prefix, following pages to the end. */
export async function listAll(store: ObjectStore, prefix: string, signal?: AbortSignal): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = [];
  let cursor: string | undefined;
  do {
    throwIfAborted(signal);
    const page = await store.list({ prefix, limit: MAX_LIST_LIMIT, cursor });
    out.push(...page.objects);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

/** One level under a prefix (delimiter "/"), every page: direct objects and child prefixes. */
export async function listLevel(store: ObjectStore, prefix: string): Promise<{ objects: ObjectInfo[]; prefixes: string[] }> {
  const objects: ObjectInfo[] = [];
  const prefixes: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ prefix, delimiter: "/", limit: MAX_LIST_LIMIT, cursor });
    objects.push(...page.objects);
    prefixes.push(...page.prefixes);
    cursor = page.nextCursor;
  } while (cursor);
  return { objects, prefixes };
}

/**
 * How many objects sit under `key` taken as a folder (a trailing "/" added), counting one page of at
 * most 1000: a key that is missing as an object may still be a "folder" an assistant meant. Undefined
 * when `key` cannot be a folder here (too long with the "/").
 */
export async function objectsUnderKey(
  store: ObjectStore,
  key: string,
): Promise<{ prefix: string; objects: number; more: boolean } | undefined> {
  const prefix = key.endsWith("/") ? key : `${key}/`;
  if (Buffer.byteLength(prefix, "utf8") > MAX_KEY_BYTES) return undefined;
  try {
    const page = await store.list({ prefix, limit: MAX_LIST_LIMIT });
    return { prefix, objects: page.objects.length, more: page.nextCursor !== undefined };
  } catch (err) {
    if (isStorageError(err, "invalid_argument")) return undefined;
    throw err;
  }
}

/** The words for such a count: "8 objects", "at least 1000 objects". */
export function countOfObjects(under: { objects: number; more: boolean }): string {
  return `${under.more ? "at least " : ""}${under.objects} object${under.objects === 1 && !under.more ? "" : "s"}`;
}

/** A HEAD: false when the key does not exist; any other failure is thrown. */
export async function exists(store: ObjectStore, key: string): Promise<boolean> {
  return (await store.head(key)) !== undefined;
}

/** The bytes of an object (or of a range of it), and its info. */
export async function readAll(
  store: ObjectStore,
  key: string,
  options: { range?: ByteRange; signal?: AbortSignal } = {},
): Promise<{ bytes: Buffer; info: ObjectInfo; range: { start: number; end: number } }> {
  const got = await store.get(key, options);
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of got.body) chunks.push(chunk as Buffer);
  } finally {
    got.body.destroy();
  }
  return { bytes: Buffer.concat(chunks), info: got.info, range: got.range };
}

/** The one check of a byte range, whoever asks (tools, resources, the library). */
export function checkRange(range: ByteRange, names: { offset: string; length: string } = { offset: "offset", length: "length" }): void {
  if (!Number.isSafeInteger(range.offset) || range.offset < 0) {
    throw new StorageError("invalid_argument", `${names.offset} must be an integer ≥ 0; got ${range.offset}`);
  }
  if (range.length !== undefined && (!Number.isSafeInteger(range.length) || range.length < 1)) {
    throw new StorageError("invalid_argument", `${names.length} must be an integer ≥ 1; got ${range.length}`);
  }
}

/**
 * The chunks of a stream body, refused (unavailable) if it gives more or fewer than the `size`
 * bytes it announced: a store never keeps a short or overlong object from a stream.
 */
export async function* exactBytes(body: AsyncIterable<Uint8Array>, size: number, key: string): AsyncGenerator<Uint8Array> {
  let seen = 0;
  for await (const chunk of body) {
    seen += chunk.length;
    if (seen > size)
      throw new StorageError("unavailable", `the bytes for ${JSON.stringify(key)} ran past their ${size}; repeat the call`, { key });
    yield chunk;
  }
  if (seen !== size) {
    throw new StorageError("unavailable", `the bytes for ${JSON.stringify(key)} stopped at ${seen} of ${size}; repeat the call`, { key });
  }
}
