/**
 * The buckets one server serves, by configured name: every object tool takes an optional `bucket`
 * (default the first), and the server never reaches a bucket it was not given.
 */
import { q, StorageError } from "../core/errors.js";
import type { GuardedStore } from "../core/guarded-store.js";

/** A bucket as configured: its guarded store, and what list_buckets shows of it (never credentials). */
export interface ServedBucket {
  store: GuardedStore;
  kind: "s3" | "local";
  /** The S3 bucket name, when it differs from nothing else: shown by list_buckets. */
  bucket?: string;
  /** Scheme, host and port only. */
  endpoint?: string;
}

export class Buckets {
  private readonly byName = new Map<string, ServedBucket>();

  constructor(readonly list: readonly ServedBucket[]) {
    if (list.length === 0) throw new StorageError("invalid_argument", "a server needs at least one bucket");
    for (const b of list) this.byName.set(b.store.name, b);
  }

  get size(): number {
    return this.list.length;
  }

  get names(): string[] {
    return this.list.map((b) => b.store.name);
  }

  get default(): ServedBucket {
    return this.list[0] as ServedBucket;
  }

  /** The store of a configured bucket; the first one when `name` is absent. */
  store(name: string | undefined, argument = "bucket"): GuardedStore {
    return this.served(name, argument).store;
  }

  served(name: string | undefined, argument = "bucket"): ServedBucket {
    if (name === undefined) return this.default;
    const found = this.byName.get(name);
    if (!found) {
      throw new StorageError(
        "invalid_argument",
        `${argument} ${q(name)} is not a bucket of this server; the configured buckets are ${this.names.map(q).join(", ")} (see list_buckets)`,
      );
    }
    return found;
  }

  /** Whether any bucket can be written (write tools are registered only then). */
  get anyWritable(): boolean {
    return this.list.some((b) => !b.store.readOnly);
  }
}
