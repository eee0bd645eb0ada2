/**
 * The storage core's one interface. Two backends implement it (S3 and a local directory) and one
 * contract suite (test/contract) holds them to identical semantics.
 */
import type { Readable } from "node:stream";
import { decodeToken, encodeToken } from "./cursor-token.js";
import { type ErrorCode, StorageError } from "./errors.js";
import type { OpenFile } from "./fs/descriptor.js";

export interface ObjectInfo {
  key: string;
  size: number;
  lastModified: Date;
  /** The entity tag without quotes: the MD5 of the bytes for single-part writes. */
  etag: string;
  contentType?: string;
  /**
   * User metadata (S3's x-amz-meta-*), names in lower case without the prefix. Told by head and
   * get; listings leave it out, as S3's do.
   */
  metadata?: Record<string, string>;
}

export interface ListOptions {
  prefix?: string;
  /** "/" for one level with child prefixes; absent for everything under the prefix. */
  delimiter?: "/";
  /** Page size, 1..1000 (the S3 maximum). */
  limit?: number;
  /** An opaque cursor from a previous page of the same listing. */
  cursor?: string;
  /**
   * Start after this entry (a key, or with a delimiter a child prefix, whose keys are then all
   * skipped), for a caller that stopped part-way through a page. Not together with `cursor`.
   */
  startAfter?: string;
}

export interface ListPage {
  objects: ObjectInfo[];
  prefixes: string[];
  nextCursor?: string;
}

/** "create" writes only when the key is absent (conditional / exclusive); "overwrite" replaces. */
export type PutMode = "create" | "overwrite";

/**
 * What a put writes: bytes in memory, a local file opened and checked by descriptor (read only
 * through it; a file that changes while it is read fails the put and nothing is stored), or bytes
 * read once from a stream (e.g. another store's object): `size` of them, no more, no less.
 */
export type PutBody =
  | { kind: "bytes"; data: Uint8Array }
  | { kind: "file"; file: OpenFile }
  | { kind: "stream"; body: AsyncIterable<Uint8Array>; size: number };

export interface TransferOptions {
  signal?: AbortSignal;
  /** Called with the bytes moved so far for this one object. */
  onBytes?: (bytes: number) => void;
}

export interface PutOptions extends TransferOptions {
  mode: PutMode;
  contentType?: string;
  /** User metadata stored with the object (names in lower case, without x-amz-meta-). */
  metadata?: Record<string, string>;
  /**
   * What the caller just saw at this key (a directory upload lists the whole prefix first): null
   * when it was absent, its info when present. Given, a store that would otherwise look first
   * may skip that look. Never a licence to overwrite: a create still refuses an existing key.
   */
  existing?: ObjectInfo | null;
}

export interface PutResult {
  key: string;
  size: number;
  etag: string;
  /** True when an existing object was replaced (only possible with mode "overwrite"). */
  replaced: boolean;
}

export interface ByteRange {
  offset: number;
  /** Bytes to read from offset; to the end of the object when absent. */
  length?: number;
}

export interface GetResult {
  body: Readable;
  info: ObjectInfo;
  /** The byte range actually returned (inclusive start, exclusive end). */
  range: { start: number; end: number };
}

/**
 * What a store can do, so callers branch on abilities rather than on which backend it is.
 */
export interface StoreCapabilities {
  /** Reaches a server over the network (MCP's openWorldHint). */
  readonly remote: boolean;
  /** Large objects are worth fetching as parallel byte ranges. */
  readonly parallelRanges: boolean;
  /** presign() works. */
  readonly presign: boolean;
  /**
   * The local directory whose files are this store's objects, when there is one: no local path
   * may reach it (writing there would create objects behind every policy check).
   */
  readonly directory?: string;
  /**
   * Where this store's objects live, for copies: stores of one `domain` (one server reached with
   * one set of credentials) copy each other's objects without the bytes passing through this
   * process (copy()); the same domain and container is the same bucket. Absent: never.
   */
  readonly location?: StoreLocation;
}

export interface DeleteOptions {
  /** Delete only if the object is this version (its ETag); S3: DeleteObject with If-Match. */
  ifMatch?: string;
}

export interface DeleteResult {
  existed: boolean;
  /** With ifMatch: the object is another version than the one named, and was left in place. */
  kept?: boolean;
}

/** What one deleteMany did, key by key. */
export interface DeleteManyResult {
  /** Keys now absent: deleted, or already missing (S3's DeleteObjects does not tell which). */
  deleted: string[];
  /** Keys the store could not delete, with the stable code of why. */
  failed: { key: string; code: ErrorCode; message: string }[];
}

/** S3's DeleteObjects takes at most 1000 keys a request; so does every deleteMany here. */
export const MAX_DELETE_BATCH = 1000;

export function checkDeleteBatch(keys: readonly string[]): void {
  if (keys.length > MAX_DELETE_BATCH) {
    throw new StorageError("invalid_argument", `one batch deletes at most ${MAX_DELETE_BATCH} keys; got ${keys.length}`);
  }
}

export interface PresignOptions {
  /** PUT only: the upload must carry If-None-Match: * so it cannot replace an existing object. */
  createOnly?: boolean;
}

export interface ObjectStore {
  /** The name shown in messages and resource URIs (the bucket, or "local"). */
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  list(options?: ListOptions): Promise<ListPage>;
  /** undefined when the key does not exist; other failures throw. */
  head(key: string): Promise<ObjectInfo | undefined>;
  /** A stream of the object (or of a range of it); not_found when missing. */
  get(key: string, options?: TransferOptions & { range?: ByteRange }): Promise<GetResult>;
  put(key: string, body: PutBody, options: PutOptions): Promise<PutResult>;
  /**
   * Deletes the key; resolves to whether it existed. With `ifMatch`, only the version of that ETag
   * goes: another version is left in place (`kept`), and a missing key is `existed: false`.
   */
  delete(key: string, options?: DeleteOptions): Promise<DeleteResult>;
  /**
   * The size of part 1 of a multipart object (every part but the last has it), so its ETag can be
   * recomputed from a local file; undefined when the server does not say. Stores whose objects are
   * never multipart leave it out.
   */
  partSize?(key: string): Promise<number | undefined>;
  /**
   * Deletes up to MAX_DELETE_BATCH keys (S3: one DeleteObjects request), each independently: a key
   * that fails is reported, the others still go. An invalid key refuses the whole batch first.
   */
  deleteMany(keys: readonly string[], options?: { signal?: AbortSignal }): Promise<DeleteManyResult>;
  /** A time-limited URL for one request on `key`; unsupported unless capabilities.presign. */
  presign(key: string, method: "GET" | "PUT", expiresIn: number, options?: PresignOptions): Promise<string>;
  /**
   * The object at `key` as a store of the same location domain may copy it; refused unless `key`
   * is one this store can hold and would let be read (`argument` names it in the refusal).
   */
  copySource(key: string, argument?: string): CopySource;
  /**
   * Copies `source` (from copySource of a store whose location domain is this store's) to `key`,
   * the bytes never passing through this process; `unsupported` for a source of another domain.
   */
  copy(source: CopySource, key: string, options: CopyOptions): Promise<CopyResult>;
  close(): Promise<void>;
}

/** S3 refuses MaxKeys above 1000; so does every ListOptions.limit here. */
export const MAX_LIST_LIMIT = 1000;

export function checkListLimit(limit: number | undefined): number {
  if (limit === undefined) return MAX_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new StorageError("invalid_argument", `limit must be an integer from 1 to ${MAX_LIST_LIMIT}; got ${limit}`);
  }
  return limit;
}

/**
 * Cursors are opaque to callers but bound to the listing they came from, so a cursor from another
 * prefix, another backend or made up by hand is refused instead of silently listing something else.
 */
interface CursorPayload {
  v: 1;
  /** The backend's own tag: a cursor of one backend is not another's. */
  s: string;
  p: string;
  d: string;
  t: string;
}

/** A checked `startAfter`: a non-empty string of at most 1024 bytes, never beside a cursor. */
export function checkStartAfter(options: ListOptions): string | undefined {
  const after = options.startAfter;
  if (after === undefined) return undefined;
  if (options.cursor !== undefined) {
    throw new StorageError("invalid_argument", "startAfter and cursor cannot be combined: a cursor already says where to go on");
  }
  if (typeof after !== "string" || after.length === 0 || Buffer.byteLength(after, "utf8") > 1024 || after.includes("\0")) {
    throw new StorageError("invalid_argument", "startAfter must be a key (1-1024 bytes of UTF-8, no NUL)");
  }
  return after;
}

export function encodeCursor(kind: string, options: ListOptions, token: string): string {
  const payload: CursorPayload = { v: 1, s: kind, p: options.prefix ?? "", d: options.delimiter ?? "", t: token };
  return encodeToken(payload);
}

export function decodeCursor(kind: string, options: ListOptions): string | undefined {
  if (options.cursor === undefined) return undefined;
  const payload = decodeToken<CursorPayload>(
    options.cursor,
    (p) =>
      p.v === 1 &&
      p.s === kind &&
      p.p === (options.prefix ?? "") &&
      p.d === (options.delimiter ?? "") &&
      typeof p.t === "string" &&
      p.t.length > 0,
    "pass the next_cursor returned by the previous call with the same prefix and recursive settings, or omit it to start over",
  );
  return payload.t as string;
}

/** Copying between stores (copy_objects): where objects live, and one object to copy. */
export interface StoreLocation {
  /** Opaque: equal for stores that can copy between each other server-side. Never a secret. */
  readonly domain: string;
  /** The bucket (or directory) within the domain. */
  readonly container: string;
}

export interface CopySource {
  readonly location: StoreLocation;
  readonly key: string;
}

export interface CopyOptions extends Omit<PutOptions, "contentType"> {
  /**
   * The version of the source to copy, as listed: the copy fails (unavailable) rather than copy
   * anything else when the object no longer has this size and ETag.
   */
  expect: { size: number; etag: string };
}

export interface CopyResult extends PutResult {
  /** The ETag of the source version the new object holds, as the store made sure of it. */
  sourceEtag: string;
}

/** Whether two stores hold their objects in one bucket (copies within it may overlap). */
export function sameContainer(a: ObjectStore, b: ObjectStore): boolean {
  if (a === b) return true;
  const x = a.capabilities.location;
  const y = b.capabilities.location;
  return x !== undefined && y !== undefined && x.domain === y.domain && x.container === y.container;
}

/** Whether `destination` can copy objects of `source` server-side. */
export function copiesServerSide(source: ObjectStore, destination: ObjectStore): boolean {
  const from = source.capabilities.location;
  const to = destination.capabilities.location;
  return from !== undefined && to !== undefined && from.domain === to.domain;
}
