/**
 * Policy as a store wrapper: read-only, allowed key prefixes and key validation, enforced in one
 * place for the MCP server and the library alike. It passes the same contract suite as the stores
 * it wraps, so wrapping changes what is allowed, never how objects behave.
 */
import { checkContentType } from "./content-type.js";
import { q, StorageError } from "./errors.js";
import { validateKey } from "./keys.js";
import {
  type ByteRange,
  type CopyOptions,
  type CopyResult,
  type CopySource,
  checkDeleteBatch,
  type DeleteManyResult,
  type DeleteOptions,
  type DeleteResult,
  type GetResult,
  type ListOptions,
  type ListPage,
  type ObjectInfo,
  type ObjectStore,
  type PresignOptions,
  type PutBody,
  type PutOptions,
  type PutResult,
  type StoreCapabilities,
  type TransferOptions,
} from "./store.js";
import { checkRange } from "./store-ext.js";

export interface StorePolicy {
  /** The name messages and resource URIs use (a configured bucket name); default the wrapped store's. */
  name?: string;
  /** Refuse every write and delete with access_denied. */
  readOnly?: boolean;
  /** Key prefixes every read, write and listing is confined to; empty or absent means all keys. */
  allowPrefixes?: readonly string[];
}

export class GuardedStore implements ObjectStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  readonly readOnly: boolean;
  readonly allowPrefixes: readonly string[];

  constructor(
    readonly inner: ObjectStore,
    policy: StorePolicy = {},
  ) {
    this.name = policy.name ?? inner.name;
    this.capabilities = inner.capabilities;
    this.readOnly = policy.readOnly ?? false;
    this.allowPrefixes = [...(policy.allowPrefixes ?? [])];
    for (const prefix of this.allowPrefixes) {
      if (prefix === "" || prefix.includes("\0"))
        throw new StorageError("invalid_argument", "allowPrefixes entries must be non-empty key prefixes");
    }
  }

  /** A valid key under an allowed prefix; `argument` names it in the refusal. */
  checkKey(key: string, argument = "key"): string {
    validateKey(key, argument);
    this.checkAllowed(key, argument);
    return key;
  }

  /** A prefix to list or transfer under: it must itself lie under an allowed prefix. */
  checkPrefix(prefix: string, argument = "prefix"): string {
    if (prefix !== "") validateKey(prefix, argument);
    this.checkAllowed(prefix, argument);
    return prefix;
  }

  /** Refuses a write or delete of `key` when this store is read-only. */
  checkWritable(key: string, what = "written"): void {
    if (this.readOnly) {
      throw new StorageError("access_denied", `${q(key)} cannot be ${what}: ${this.described()} is read-only`, { key });
    }
  }

  list(options: ListOptions = {}): Promise<ListPage> {
    this.checkPrefix(options.prefix ?? "");
    return this.inner.list(options);
  }

  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(this.checkKey(key));
  }

  get(key: string, options: TransferOptions & { range?: ByteRange } = {}): Promise<GetResult> {
    this.checkKey(key);
    if (options.range) checkRange(options.range);
    return this.inner.get(key, options);
  }

  put(key: string, body: PutBody, options: PutOptions): Promise<PutResult> {
    this.checkKey(key);
    this.checkWritable(key);
    checkContentType(options.contentType);
    return this.inner.put(key, body, options);
  }

  delete(key: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    this.checkKey(key);
    this.checkWritable(key, "deleted");
    return this.inner.delete(key, options);
  }

  async partSize(key: string): Promise<number | undefined> {
    this.checkKey(key);
    return this.inner.partSize?.(key);
  }

  /** Every key is checked (valid, allowed, writable) before any is deleted. */
  async deleteMany(keys: readonly string[], options: { signal?: AbortSignal } = {}): Promise<DeleteManyResult> {
    checkDeleteBatch(keys);
    for (const key of keys) {
      this.checkKey(key);
      this.checkWritable(key, "deleted");
    }
    return this.inner.deleteMany(keys, options);
  }

  /** Reading `key` out for a copy: the source side of copy_objects needs read access to it. */
  copySource(key: string, argument = "source"): CopySource {
    return this.inner.copySource(this.checkKey(key, argument), argument);
  }

  /** Writing a copy to `key`: the destination side needs write access to it. */
  copy(source: CopySource, key: string, options: CopyOptions): Promise<CopyResult> {
    this.checkKey(key, "destination");
    this.checkWritable(key);
    return this.inner.copy(source, key, options);
  }

  presign(key: string, method: "GET" | "PUT", expiresIn: number, options: PresignOptions = {}): Promise<string> {
    this.checkKey(key);
    if (method === "PUT" && this.readOnly) {
      throw new StorageError("access_denied", `PUT links are refused: ${this.described()} is read-only; ask for a GET link instead`, {
        key,
      });
    }
    return this.inner.presign(key, method, expiresIn, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private described(): string {
    return `bucket ${q(this.name)}`;
  }

  private checkAllowed(value: string, argument: string): void {
    if (this.allowPrefixes.length === 0) return;
    const shown = this.allowPrefixes.map(q).join(", ");
    if (!this.allowPrefixes.some((p) => value.startsWith(p))) {
      throw new StorageError(
        "outside_allowed_prefix",
        `${argument} ${q(value)} is outside the prefixes allowed here (${shown}); use a key under one of them`,
        { key: value },
      );
    }
    // S3 keeps "allowed/../secret" as a key of its own, but a server, gateway or proxy that
    // normalizes URL paths (RFC 3986 dot-segment removal, as WHATWG URL parsing does) would turn it
    // into "secret", outside every allowed prefix.
    if (value.split("/").some((segment) => segment === "." || segment === "..")) {
      throw new StorageError(
        "outside_allowed_prefix",
        `${argument} ${q(value)} has a "." or ".." segment, which a server or proxy that normalizes paths could resolve outside the allowed prefixes (${shown}); use a plain key`,
        { key: value },
      );
    }
  }
}
