/**
 * R2Client: the original Python module's API in camelCase, over any ObjectStore. Errors are
 * StorageErrors whose `code` follows Node (EEXIST, ENOENT, ENOTDIR) and whose `kind` is the
 * stable r2-mcp code.
 */
import type { S3Client } from "@aws-sdk/client-s3";
import { q, StorageError } from "./errors.js";
import { validateKey } from "./keys.js";
import { S3Store } from "./s3-store.js";
import type { ByteRange, ObjectInfo, ObjectStore, PutResult } from "./store.js";
import {
  type DirectoryTransferResult,
  downloadDirectory,
  downloadFile,
  listAll,
  type TransferProgress,
  uploadDirectory,
  uploadFile,
} from "./transfer.js";

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
  /** Refuse every write with access_denied (EACCES). */
  readOnly?: boolean;
  /** Total attempts per S3 request (SDK standard retry). */
  maxAttempts?: number;
  env?: NodeJS.ProcessEnv;
}

/** An object as listed: the Python R2Object. */
export type R2Object = Pick<ObjectInfo, "key" | "size" | "lastModified" | "etag">;

export interface ProgressOptions {
  onProgress?: (progress: TransferProgress) => void;
  signal?: AbortSignal;
}

function firstSet(env: NodeJS.ProcessEnv, names: string[]): string | undefined {
  for (const name of names) {
    const value = env[name];
    if (value !== undefined && value !== "") return value;
  }
  return undefined;
}

export class R2Client {
  readonly store: ObjectStore;
  private readonly readOnly: boolean;

  constructor(options: R2ClientOptions) {
    this.readOnly = options.readOnly ?? false;
    if (options.store) {
      this.store = options.store;
      return;
    }
    const env = options.env ?? process.env;
    const bucket = options.bucketName ?? "";
    if (!bucket) throw new StorageError("invalid_argument", "bucketName is required (or pass a store)");
    if (options.s3Client) {
      this.store = new S3Store({ bucket, client: options.s3Client });
      return;
    }
    const accessKeyId = options.accessKeyId ?? firstSet(env, ["R2_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"]);
    const secretAccessKey = options.secretAccessKey ?? firstSet(env, ["R2_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"]);
    if (!accessKeyId || !secretAccessKey) {
      throw new StorageError(
        "access_denied",
        `missing credentials: pass ${accessKeyId ? "secretAccessKey" : "accessKeyId"} or set ${
          accessKeyId ? "R2_SECRET_ACCESS_KEY (or AWS_SECRET_ACCESS_KEY)" : "R2_ACCESS_KEY_ID (or AWS_ACCESS_KEY_ID)"
        }`,
      );
    }
    const regionName = options.regionName ?? "auto";
    const region = regionName === "auto" ? (firstSet(env, ["R2_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"]) ?? "auto") : regionName;
    this.store = new S3Store({
      bucket,
      region,
      credentials: { accessKeyId, secretAccessKey },
      ...(options.endpointUrl ? { endpoint: options.endpointUrl } : {}),
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    });
  }

  private assertWritable(operation: string): void {
    if (this.readOnly) {
      throw new StorageError("access_denied", `${operation} refused: this client is read-only`);
    }
  }

  /** Every object under `prefix` (all pages); with recursive false, one level plus child prefixes. */
  async list(prefix = "", options: { recursive?: boolean } = {}): Promise<{ objects: R2Object[]; prefixes: string[] }> {
    const strip = (o: ObjectInfo): R2Object => ({ key: o.key, size: o.size, lastModified: o.lastModified, etag: o.etag });
    if (options.recursive ?? true) return { objects: (await listAll(this.store, prefix)).map(strip), prefixes: [] };
    const objects: R2Object[] = [];
    const prefixes: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.list({ prefix, delimiter: "/", limit: 1000, ...(cursor ? { cursor } : {}) });
      objects.push(...page.objects.map(strip));
      prefixes.push(...page.prefixes);
      cursor = page.nextCursor;
    } while (cursor);
    return { objects, prefixes };
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
    validateKey(key);
    if (options.range) checkRange(options.range);
    const { body } = await this.store.get(key, {
      ...(options.range ? { range: options.range } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async uploadBytes(
    data: Uint8Array | string,
    key: string,
    options: { overwrite?: boolean; contentType?: string; signal?: AbortSignal } = {},
  ): Promise<PutResult> {
    this.assertWritable("uploadBytes");
    validateKey(key);
    const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    return this.store.put(
      key,
      { kind: "bytes", data: bytes },
      {
        mode: options.overwrite ? "overwrite" : "create",
        ...(options.contentType ? { contentType: options.contentType } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
  }

  async uploadFile(
    localPath: string,
    key: string,
    options: ProgressOptions & { overwrite?: boolean; contentType?: string } = {},
  ): Promise<PutResult> {
    this.assertWritable("uploadFile");
    return uploadFile(this.store, localPath, key, options);
  }

  async uploadDirectory(
    localDir: string,
    prefix: string,
    options: ProgressOptions & { overwrite?: boolean; maxWorkers?: number; dryRun?: boolean } = {},
  ): Promise<DirectoryTransferResult> {
    this.assertWritable("uploadDirectory");
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
    options: ProgressOptions & { overwrite?: boolean; maxWorkers?: number; dryRun?: boolean } = {},
  ): Promise<DirectoryTransferResult> {
    return downloadDirectory(this.store, prefix, localDir, options);
  }

  /** With missingOk false, a missing key is ENOENT (not_found). */
  async deleteObject(key: string, options: { missingOk?: boolean } = {}): Promise<{ key: string; existed: boolean }> {
    this.assertWritable("deleteObject");
    const { existed } = await this.store.delete(key);
    if (!existed && options.missingOk === false) {
      throw new StorageError("not_found", `${q(key)} does not exist; pass missingOk: true to ignore that`, { key });
    }
    return { key, existed };
  }

  async close(): Promise<void> {
    await this.store.close();
  }
}

export function checkRange(range: ByteRange): void {
  if (!Number.isSafeInteger(range.offset) || range.offset < 0) {
    throw new StorageError("invalid_argument", `offset must be an integer ≥ 0; got ${range.offset}`);
  }
  if (range.length !== undefined && (!Number.isSafeInteger(range.length) || range.length < 1)) {
    throw new StorageError("invalid_argument", `length must be an integer ≥ 1; got ${range.length}`);
  }
}
