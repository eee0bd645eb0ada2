/**
 * What is under a prefix, without moving a byte: counts, sizes, the largest and newest objects,
 * and totals by extension and by child folder, from listings alone.
 */
import { StorageError, throwIfAborted } from "./errors.js";
import { MAX_LIST_LIMIT, type ObjectInfo, type ObjectStore } from "./store.js";

export interface PrefixSummary {
  objects: number;
  bytes: number;
  largest: { key: string; size: number }[];
  newest: { key: string; lastModified: Date }[];
  oldestModified?: Date;
  newestModified?: Date;
  /** By bytes, descending; "" for keys without an extension. */
  byExtension: { extension: string; objects: number; bytes: number }[];
  /** The child "folders" one level below the prefix, by bytes, descending. */
  byPrefix: { prefix: string; objects: number; bytes: number }[];
  /** True when the listing stopped at maxObjects: the figures cover what was scanned. */
  truncated: boolean;
  scanned: number;
}

export const SUMMARY_LIMITS = { largest: 10, newest: 10, extensions: 20, prefixes: 50 } as const;

/** The extension of a key's last segment, lower-cased ("model.tar.gz" → "gz"; ".env" and "README" → ""). */
export function extensionOf(key: string): string {
  const name = key.slice(key.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(dot + 1).toLowerCase() : "";
}

/** Keeps the `limit` greatest items by `better`, in order. */
function keepTop<T>(list: T[], item: T, limit: number, better: (a: T, b: T) => boolean): void {
  if (list.length === limit && !better(item, list[limit - 1] as T)) return;
  let i = list.length;
  while (i > 0 && better(item, list[i - 1] as T)) i--;
  list.splice(i, 0, item);
  if (list.length > limit) list.pop();
}

type Totals = Map<string, { objects: number; bytes: number }>;

function addTo(totals: Totals, name: string, size: number): void {
  const entry = totals.get(name) ?? { objects: 0, bytes: 0 };
  entry.objects++;
  entry.bytes += size;
  totals.set(name, entry);
}

function ranked(totals: Totals, limit: number): { name: string; objects: number; bytes: number }[] {
  return [...totals]
    .map(([name, t]) => ({ name, ...t }))
    .sort((a, b) => b.bytes - a.bytes || b.objects - a.objects || (a.name < b.name ? -1 : 1))
    .slice(0, limit);
}

/** Summarizes objects one at a time; pure, so it is tested without a store. */
export class SummaryBuilder {
  private objects = 0;
  private bytes = 0;
  private readonly largest: { key: string; size: number }[] = [];
  private readonly newest: { key: string; lastModified: Date }[] = [];
  private oldest: Date | undefined;
  private latest: Date | undefined;
  private readonly extensions: Totals = new Map();
  private readonly folders: Totals = new Map();

  constructor(private readonly prefix: string) {}

  add(o: Pick<ObjectInfo, "key" | "size" | "lastModified">): void {
    this.objects++;
    this.bytes += o.size;
    keepTop(
      this.largest,
      { key: o.key, size: o.size },
      SUMMARY_LIMITS.largest,
      (a, b) => a.size > b.size || (a.size === b.size && a.key < b.key),
    );
    keepTop(
      this.newest,
      { key: o.key, lastModified: o.lastModified },
      SUMMARY_LIMITS.newest,
      (a, b) => a.lastModified > b.lastModified || (+a.lastModified === +b.lastModified && a.key < b.key),
    );
    if (this.oldest === undefined || o.lastModified < this.oldest) this.oldest = o.lastModified;
    if (this.latest === undefined || o.lastModified > this.latest) this.latest = o.lastModified;
    addTo(this.extensions, extensionOf(o.key), o.size);
    const rest = o.key.startsWith(this.prefix) ? o.key.slice(this.prefix.length) : o.key;
    const slash = rest.indexOf("/");
    if (slash >= 0) addTo(this.folders, this.prefix + rest.slice(0, slash + 1), o.size);
  }

  result(truncated: boolean): PrefixSummary {
    return {
      objects: this.objects,
      bytes: this.bytes,
      largest: [...this.largest],
      newest: [...this.newest],
      oldestModified: this.oldest,
      newestModified: this.latest,
      byExtension: ranked(this.extensions, SUMMARY_LIMITS.extensions).map(({ name, ...t }) => ({ extension: name, ...t })),
      byPrefix: ranked(this.folders, SUMMARY_LIMITS.prefixes).map(({ name, ...t }) => ({ prefix: name, ...t })),
      truncated,
      scanned: this.objects,
    };
  }
}

export const DEFAULT_SUMMARY_MAX_OBJECTS = 100_000;
export const MAX_SUMMARY_OBJECTS = 1_000_000;

/** Lists `prefix` page by page, at most `maxObjects` objects, and summarizes them. */
export async function summarizePrefix(
  store: ObjectStore,
  prefix: string,
  options: { maxObjects?: number; signal?: AbortSignal } = {},
): Promise<PrefixSummary> {
  const max = options.maxObjects ?? DEFAULT_SUMMARY_MAX_OBJECTS;
  if (!Number.isInteger(max) || max < 1 || max > MAX_SUMMARY_OBJECTS) {
    throw new StorageError("invalid_argument", `max_objects must be an integer from 1 to ${MAX_SUMMARY_OBJECTS}; got ${max}`);
  }
  const builder = new SummaryBuilder(prefix);
  let scanned = 0;
  let cursor: string | undefined;
  do {
    throwIfAborted(options.signal);
    const page = await store.list({ prefix, limit: MAX_LIST_LIMIT, cursor });
    for (const o of page.objects) {
      if (scanned === max) return builder.result(true);
      builder.add(o);
      scanned++;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return builder.result(false);
}
