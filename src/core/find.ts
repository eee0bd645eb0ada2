/**
 * Listing with filters, applied while paging: a call examines at most `maxScanned` entries, returns
 * at most `limit` matches, and says exactly where to go on. Where it stops part-way through a
 * store's page it resumes with `startAfter` (the last match), otherwise with the store's own cursor,
 * so no key is ever lost or repeated between calls.
 */
import { decodeToken, encodeToken } from "./cursor-token.js";
import { StorageError, throwIfAborted } from "./errors.js";
import {
  compileFilter,
  type FilterArgumentNames,
  filterFingerprint,
  isFiltering,
  type ObjectFilter,
  TOOL_FILTER_NAMES,
} from "./object-filter.js";
import { MAX_LIST_LIMIT, type ObjectInfo, type ObjectStore } from "./store.js";

/** One call of list_objects examines at most this many keys, whatever the bucket holds. */
export const MAX_SCANNED = 10_000;

/** Where a listing goes on: the store's cursor after a whole page, or the key after which to start. */
export type ResumePoint = { cursor: string } | { startAfter: string };

export interface FindOptions {
  prefix: string;
  delimiter?: "/";
  filter?: ObjectFilter;
  /** Matches to return, 1..1000 (prefixes count too, and are listed only without a filter). */
  limit: number;
  /** Entries to examine at most (default MAX_SCANNED). */
  maxScanned?: number;
  from?: ResumePoint;
  signal?: AbortSignal;
  /** How the filter's arguments are named in refusals. */
  names?: FilterArgumentNames;
}

export interface FindResult {
  objects: ObjectInfo[];
  /** Child prefixes (with a delimiter, and only when no filter is given: a filter selects objects). */
  prefixes: string[];
  /** Entries (objects and prefixes) examined. */
  scanned: number;
  /** Present when more entries follow. */
  next?: ResumePoint;
}

export async function findObjects(store: ObjectStore, options: FindOptions): Promise<FindResult> {
  const filter = options.filter ?? {};
  const filtering = isFiltering(filter);
  const matches = compileFilter(filter, options.names ?? TOOL_FILTER_NAMES);
  const maxScanned = options.maxScanned ?? MAX_SCANNED;
  if (!Number.isInteger(options.limit) || options.limit < 1 || options.limit > MAX_LIST_LIMIT) {
    throw new StorageError("invalid_argument", `limit must be an integer from 1 to ${MAX_LIST_LIMIT}; got ${options.limit}`);
  }
  const result: FindResult = { objects: [], prefixes: [], scanned: 0 };
  let from = options.from;
  for (;;) {
    throwIfAborted(options.signal);
    const found = result.objects.length + result.prefixes.length;
    // Unfiltered, every entry matches: ask for exactly what is missing, so a page never overshoots.
    const wanted = filtering ? MAX_LIST_LIMIT : options.limit - found;
    const page = await store.list({
      prefix: options.prefix,
      ...(options.delimiter ? { delimiter: options.delimiter } : {}),
      limit: Math.min(wanted, maxScanned - result.scanned),
      ...from,
    });
    result.scanned += page.objects.length + page.prefixes.length;
    if (!filtering) {
      result.objects.push(...page.objects);
      result.prefixes.push(...page.prefixes);
    } else {
      for (const o of page.objects) {
        if (!matches(o)) continue;
        result.objects.push(o);
        if (result.objects.length === options.limit && o !== page.objects.at(-1)) {
          // Stopped part-way through the page: go on after this key (prefixes before it were
          // examined and are not listed with a filter; those after it come again).
          result.next = { startAfter: o.key };
          return result;
        }
      }
    }
    if (!page.nextCursor) return result;
    from = { cursor: page.nextCursor };
    if (result.objects.length + result.prefixes.length >= options.limit || result.scanned >= maxScanned) {
      result.next = from;
      return result;
    }
  }
}

/** What a list_objects cursor is bound to: a cursor from another listing is refused. */
export interface ListingBinding {
  bucket: string;
  prefix: string;
  delimiter?: "/";
  filter: ObjectFilter;
}

interface CursorPayload {
  v: 2;
  b: string;
  p: string;
  d: string;
  f: string;
  c?: string;
  a?: string;
}

export function encodeListingCursor(binding: ListingBinding, next: ResumePoint): string {
  const payload: CursorPayload = {
    v: 2,
    b: binding.bucket,
    p: binding.prefix,
    d: binding.delimiter ?? "",
    f: filterFingerprint(binding.filter),
    ...("cursor" in next ? { c: next.cursor } : { a: next.startAfter }),
  };
  return encodeToken(payload);
}

export function decodeListingCursor(binding: ListingBinding, cursor: string): ResumePoint {
  const payload = decodeToken<CursorPayload>(
    cursor,
    (p) =>
      p.v === 2 &&
      p.b === binding.bucket &&
      p.p === binding.prefix &&
      p.d === (binding.delimiter ?? "") &&
      p.f === filterFingerprint(binding.filter) &&
      // Either a store's page token, or a resume key under the listing's prefix.
      ((typeof p.c === "string" && p.c.length > 0 && p.a === undefined) ||
        (typeof p.a === "string" && p.a.startsWith(binding.prefix) && p.a.length > binding.prefix.length)),
    "pass the next_cursor returned by the previous call with the same prefix, recursive, bucket and filter arguments, or omit it to start over",
  );
  return typeof payload.c === "string" ? { cursor: payload.c } : { startAfter: payload.a as string };
}
