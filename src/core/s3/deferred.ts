/**
 * An S3 store whose AWS SDK loads on first use. The SDK is the largest part of the server's
 * start-up, and a client's first messages (initialize, tools/list) need none of it: what they
 * need of a store (its name, capabilities, copy sources) is known from the configuration. The
 * first request loads the SDK and builds the S3Store; every call then goes to it unchanged.
 */
import { validateKey } from "../keys.js";
import type {
  ByteRange,
  CopyOptions,
  CopyResult,
  CopySource,
  DeleteManyResult,
  DeleteOptions,
  DeleteResult,
  GetResult,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PresignOptions,
  PutBody,
  PutOptions,
  PutResult,
  StoreCapabilities,
  StoreLocation,
  TransferOptions,
} from "../store.js";
import { endpointDomainOf, s3Capabilities } from "./capabilities.js";
import type { S3StoreConfig } from "./client.js";
import type { S3Store } from "./store.js";

export class DeferredS3Store implements ObjectStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  private store: Promise<S3Store> | undefined;

  /** `config` without `client` (a caller's own SDK client means the SDK is loaded already: use S3Store). */
  constructor(private readonly config: Omit<S3StoreConfig, "client">) {
    this.name = config.bucket;
    this.capabilities = s3Capabilities(config, endpointDomainOf(config));
  }

  private real(): Promise<S3Store> {
    this.store ??= import("./store.js").then(({ S3Store }) => new S3Store(this.config));
    return this.store;
  }

  list(options?: ListOptions): Promise<ListPage> {
    return this.real().then((s) => s.list(options));
  }
  head(key: string): Promise<ObjectInfo | undefined> {
    return this.real().then((s) => s.head(key));
  }
  get(key: string, options?: TransferOptions & { range?: ByteRange }): Promise<GetResult> {
    return this.real().then((s) => s.get(key, options));
  }
  put(key: string, body: PutBody, options: PutOptions): Promise<PutResult> {
    return this.real().then((s) => s.put(key, body, options));
  }
  delete(key: string, options?: DeleteOptions): Promise<DeleteResult> {
    return this.real().then((s) => s.delete(key, options));
  }
  partSize(key: string): Promise<number | undefined> {
    return this.real().then((s) => s.partSize(key));
  }
  deleteMany(keys: readonly string[], options?: { signal?: AbortSignal }): Promise<DeleteManyResult> {
    return this.real().then((s) => s.deleteMany(keys, options));
  }
  presign(key: string, method: "GET" | "PUT", expiresIn: number, options?: PresignOptions): Promise<string> {
    return this.real().then((s) => s.presign(key, method, expiresIn, options));
  }
  /** As S3Store's: the key checked, and this store's location (known without the SDK). */
  copySource(key: string, argument = "source"): CopySource {
    validateKey(key, argument);
    return { location: this.capabilities.location as StoreLocation, key };
  }
  copy(source: CopySource, key: string, options: CopyOptions): Promise<CopyResult> {
    return this.real().then((s) => s.copy(source, key, options));
  }
  async close(): Promise<void> {
    // Not loaded: nothing was opened. Loading: closed once it is there.
    if (this.store) await (await this.store.catch(() => undefined))?.close();
  }
}
