/**
 * R2Client: the original Python module's API in camelCase, over a guarded store. Errors are
 * StorageErrors whose `code` follows Node (EEXIST, ENOENT, ENOTDIR) and whose `kind` is the stable
 * r2-mcp code. Read-only and allowed prefixes are the same GuardedStore the MCP server uses.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { credentialsFromEnv, ENV, regionFromEnv } from "../config/env.js";
import { type CompareOptions, compareDirectory, type DirectoryComparison } from "../core/compare.js";
import { checkDeletePolicy, type DeleteObjectsResult, deleteObjects } from "../core/delete-objects.js";
import { q, StorageError } from "../core/errors.js";
import { findObjects, type ResumePoint } from "../core/find.js";
import { GuardedStore } from "../core/guarded-store.js";
import { directoryPrefix } from "../core/keys.js";
import { LIBRARY_FILTER_NAMES, type ObjectFilter, parseTime } from "../core/object-filter.js";
import type { PathFilterOptions } from "../core/path-filter.js";
import { S3Store } from "../core/s3/store.js";
import { type ByteRange, MAX_LIST_LIMIT, type ObjectInfo, type ObjectStore, type PutResult } from "../core/store.js";
import { readAll } from "../core/store-ext.js";
import { type PrefixSummary, summarizePrefix } from "../core/summary.js";
import {
  type CopyObjectsResult,
  copyObjects,
  type DirectoryTransferResult,
  downloadDirectory,
  downloadFile,
  type TransferProgress,
  uploadDirectory,
  uploadFile,
} from "../core/transfer/index.js";

export interface R2ClientOptions {
  /** Defaults to R2_ACCESS_KEY_ID, then AWS_ACCESS_KEY_ID. */
  accessKeyId?: string;
  /** Defaults to R2_SECRET_ACCESS_KEY, then AWS_SECRET_ACCESS_KEY. */
  secretAccessKey?: string;
  bucketName?: string;
  /** e.g. https://<account>.r2.cloudflarestorage.com */
  endpointUrl?: string;
  /** "auto" (default) takes R2_REGION_NAME / AWS_REGION / AWS_DEFAULT_REGION when set. */
  regionName?: string;
  /** An SDK client to reuse (the Python module's `session`). */
  s3Client?: S3Client;
  /** Any ObjectStore, e.g. a LocalStore: replaces the S3 settings above. */
  store?: ObjectStore;
  /** Refuse every write and delete with access_denied (EACCES). */
  readOnly?: boolean;
  /** Confine every read, write and listing to keys under these prefixes (outside_allowed_prefix). */
  allowPrefixes?: readonly string[];
  /** Total attempts per S3 request (SDK standard retry). */
  maxAttempts?: number;
  env?: NodeJS.ProcessEnv;
}

/** An object as listed: the Python R2Object. */
export type R2Object = Pick<ObjectInfo, "key" | "size" | "lastModified" | "etag">;

export interface ListFilterOptions {
  /** Only keys matching this glob (whole key: `*` one segment, `**` across, `?`, `{a,b}`). */
  glob?: string;
  /** Only objects of at least this many bytes. */
  minSize?: number;
  /** Only objects of at most this many bytes. */
  maxSize?: number;
  /** Only objects last modified at or after this time (a Date, or ISO 8601: UTC unless zoned). */
  modifiedAfter?: Date | string;
  /** Only objects last modified before this time. */
  modifiedBefore?: Date | string;
}

export interface ProgressOptions {
  onProgress?: (progress: TransferProgress) => void;
  signal?: AbortSignal;
}

function openStore(options: R2ClientOptions): ObjectStore {
  if (options.store) return options.store;
  const bucket = options.bucketName ?? "";
  if (!bucket) throw new StorageError("invalid_argument", "bucketName is required (or pass a store)");
  if (options.s3Client) return new S3Store({ bucket, client: options.s3Client });
  const env = options.env ?? process.env;
  const fromEnv = credentialsFromEnv(env);
  const accessKeyId = options.accessKeyId ?? fromEnv.accessKeyId;
  const secretAccessKey = options.secretAccessKey ?? fromEnv.secretAccessKey;
  if (!accessKeyId || !secretAccessKey) {
    const [option, names] = accessKeyId ? ["secretAccessKey", ENV.secretKey] : ["accessKeyId", ENV.accessKey];
    throw new StorageError("access_denied", `missing credentials: pass ${option} or set ${names[0]} (or ${names[1]})`);
  }
  const regionName = options.regionName ?? "auto";
  return new S3Store({
    bucket,
    region: regionName === "auto" ? (regionFromEnv(env) ?? "auto") : regionName,
    credentials: { accessKeyId, secretAccessKey },
    endpoint: options.endpointUrl || undefined,
    maxAttempts: options.maxAttempts || undefined,
  });
}

const strip = (o: ObjectInfo): R2Object => ({ key: o.key, size: o.size, lastModified: o.lastModified, etag: o.etag });

export class R2Client {
  /** The guarded store every operation goes through. */
  readonly store: GuardedStore;

  constructor(options: R2ClientOptions) {
    this.store = new GuardedStore(openStore(options), { readOnly: options.readOnly, allowPrefixes: options.allowPrefixes });
  }

  /**
   * Every object under `prefix` (all pages); with recursive false, one level plus child prefixes.
   * Filters select objects while paging (with a filter, child prefixes are not returned).
   */
  async list(
    prefix = "",
    options: { recursive?: boolean; signal?: AbortSignal } & ListFilterOptions = {},
  ): Promise<{ objects: R2Object[]; prefixes: string[] }> {
    const n = LIBRARY_FILTER_NAMES;
    const filter: ObjectFilter = {
      glob: options.glob,
      minSize: options.minSize,
      maxSize: options.maxSize,
      modifiedAfter: options.modifiedAfter === undefined ? undefined : parseTime(options.modifiedAfter, n.modifiedAfter),
      modifiedBefore: options.modifiedBefore === undefined ? undefined : parseTime(options.modifiedBefore, n.modifiedBefore),
    };
    const objects: R2Object[] = [];
    const prefixes: string[] = [];
    let from: ResumePoint | undefined;
    do {
      const page = await findObjects(this.store, {
        prefix,
        ...((options.recursive ?? true) ? {} : { delimiter: "/" as const }),
        filter,
        limit: MAX_LIST_LIMIT,
        from,
        signal: options.signal,
        names: n,
      });
      objects.push(...page.objects.map(strip));
      prefixes.push(...page.prefixes);
      from = page.next;
    } while (from);
    return { objects, prefixes };
  }

  /** Counts, bytes, the largest and newest objects, and totals by extension and child folder, from listings alone. */
  async summarizePrefix(prefix = "", options: { maxObjects?: number; signal?: AbortSignal } = {}): Promise<PrefixSummary> {
    this.store.checkPrefix(prefix);
    return summarizePrefix(this.store, prefix, options);
  }

  /** Metadata of `key`, or null when it does not exist. */
  async head(key: string): Promise<ObjectInfo | null> {
    return (await this.store.head(key)) ?? null;
  }

  /** A HEAD whose not-found answers mean false; any other failure is thrown. */
  async exists(key: string): Promise<boolean> {
    return (await this.store.head(key)) !== undefined;
  }

  async getObjectBytes(key: string, options: { range?: ByteRange; signal?: AbortSignal } = {}): Promise<Buffer> {
    return (await readAll(this.store, key, options)).bytes;
  }

  async uploadBytes(
    data: Uint8Array | string,
    key: string,
    options: { overwrite?: boolean; contentType?: string; signal?: AbortSignal } = {},
  ): Promise<PutResult> {
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    return this.store.put(
      key,
      { kind: "bytes", data: bytes },
      { mode: options.overwrite ? "overwrite" : "create", contentType: options.contentType, signal: options.signal },
    );
  }

  async uploadFile(
    localPath: string,
    key: string,
    options: ProgressOptions & { overwrite?: boolean; contentType?: string } = {},
  ): Promise<PutResult> {
    // Refused before the local file is touched.
    this.store.checkKey(key);
    this.store.checkWritable(key);
    return uploadFile(this.store, localPath, key, options);
  }

  async uploadDirectory(
    localDir: string,
    prefix: string,
    options: ProgressOptions & PathFilterOptions & { overwrite?: boolean; maxWorkers?: number; dryRun?: boolean } = {},
  ): Promise<DirectoryTransferResult> {
    // Refused before the directory is walked: nothing under a read-only store can be written.
    if (!options.dryRun) this.store.checkWritable(prefix || "(bucket root)", "uploaded to");
    return uploadDirectory(this.store, localDir, prefix, options);
  }

  async downloadFile(
    key: string,
    localPath: string,
    options: ProgressOptions & { overwrite?: boolean } = {},
  ): Promise<{ localPath: string; size: number; etag: string }> {
    return downloadFile(this.store, key, localPath, options);
  }

  async downloadDirectory(
    prefix: string,
    localDir: string,
    options: ProgressOptions & PathFilterOptions & { overwrite?: boolean; maxWorkers?: number; dryRun?: boolean } = {},
  ): Promise<DirectoryTransferResult> {
    return downloadDirectory(this.store, prefix, localDir, options);
  }

  /**
   * Which files of `localDir` and objects under `prefix` are identical (same size and bytes, by
   * ETag, multipart ETags included), different (with the reason), only local or only remote.
   * Reads only. Lists are complete and sorted by relative path.
   */
  async compareDirectory(localDir: string, prefix: string, options: Omit<CompareOptions, "roots"> = {}): Promise<DirectoryComparison> {
    this.store.checkPrefix(directoryPrefix(prefix));
    return compareDirectory(this.store, localDir, prefix, options);
  }

  /**
   * Copies `source` to `destination` (keys; with recursive, prefixes whose structure is kept),
   * within this client's bucket or from `sourceClient`'s. Server-side where both reach one
   * endpoint with one access key, streamed otherwise. Without overwrite any destination holding
   * other content fails the whole call before anything is written (EEXIST); identical ones are
   * skipped. `move` deletes each source once its copy is confirmed by size and ETag.
   */
  async copyObjects(
    source: string,
    destination: string,
    options: ProgressOptions & {
      recursive?: boolean;
      overwrite?: boolean;
      move?: boolean;
      dryRun?: boolean;
      maxWorkers?: number;
      sourceClient?: R2Client;
    } = {},
  ): Promise<CopyObjectsResult> {
    const from = options.sourceClient?.store ?? this.store;
    // Refused before anything is read or written, as the server does.
    if (!options.dryRun) {
      this.store.checkWritable(destination || "(bucket root)", "copied to");
      if (options.move) from.checkWritable(source || "(bucket root)", "moved (deleted)");
    }
    if (options.recursive) {
      from.checkPrefix(directoryPrefix(source), "source");
      this.store.checkPrefix(directoryPrefix(destination), "destination");
    }
    return copyObjects(from, source, this.store, destination, options);
  }

  /** With missingOk false, a missing key is ENOENT (not_found). */
  async deleteObject(key: string, options: { missingOk?: boolean } = {}): Promise<{ key: string; existed: boolean }> {
    const { existed } = await this.store.delete(key);
    if (!existed && options.missingOk === false) {
      throw new StorageError("not_found", `${q(key)} does not exist; pass missingOk: true to ignore that`, { key });
    }
    return { key, existed };
  }

  /**
   * Deletes everything under a folder prefix (a trailing "/" is added) or an exact list of 1-1000
   * keys, in batches of 1000. More objects than `maxObjects` (default 1000, at most 100000) is
   * too_large (EFBIG) and nothing is deleted; with `dryRun` nothing is deleted and the result says
   * what would be. Objects written under the prefix after it was listed are left alone.
   */
  async deleteObjects(
    target: { prefix: string } | { keys: readonly string[] },
    options: ProgressOptions & { dryRun?: boolean; maxObjects?: number } = {},
  ): Promise<DeleteObjectsResult> {
    const names = { prefix: "prefix", keys: "keys", maxObjects: "maxObjects" };
    const t = target as { prefix?: string; keys?: readonly string[] };
    checkDeletePolicy(this.store, t, options.dryRun ?? false, names);
    return deleteObjects(this.store, t, { ...options, names });
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}
