/**
 * Which listed objects a caller wants: a glob over the whole key, a size range and a time window.
 * Pure, so the checks and the predicate are tested without a store; listings apply it page by page.
 */
import { createHash } from "node:crypto";
import { q, StorageError } from "./errors.js";
import { compileGlob } from "./glob.js";
import type { ObjectInfo } from "./store.js";

export interface ObjectFilter {
  /** Matched against the whole key (core/glob.ts syntax). */
  glob?: string;
  /** Inclusive, in bytes. */
  minSize?: number;
  /** Inclusive, in bytes. */
  maxSize?: number;
  /** Last modified at or after this time. */
  modifiedAfter?: Date;
  /** Last modified strictly before this time, so [after, before) windows tile without overlap. */
  modifiedBefore?: Date;
}

/** The names arguments go by in messages: snake_case for tools, camelCase for the library. */
export interface FilterArgumentNames {
  glob: string;
  minSize: string;
  maxSize: string;
  modifiedAfter: string;
  modifiedBefore: string;
}

export const TOOL_FILTER_NAMES: FilterArgumentNames = {
  glob: "glob",
  minSize: "min_size",
  maxSize: "max_size",
  modifiedAfter: "modified_after",
  modifiedBefore: "modified_before",
};

export const LIBRARY_FILTER_NAMES: FilterArgumentNames = {
  glob: "glob",
  minSize: "minSize",
  maxSize: "maxSize",
  modifiedAfter: "modifiedAfter",
  modifiedBefore: "modifiedBefore",
};

const ISO_8601 = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * An ISO 8601 date ("2026-06-01") or date-time ("2026-06-01T12:00:00Z", "…+02:00"); without a zone
 * the time is UTC (the server's own zone would make the answer depend on where it runs). Calendar
 * dates that do not exist (February 30th) are refused, not rolled over.
 */
export function parseTime(value: string | Date, argument: string): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new StorageError("invalid_argument", `${argument} is an invalid Date`);
    return value;
  }
  const bad = () =>
    new StorageError(
      "invalid_argument",
      `${argument} ${q(value)} is not an ISO 8601 time; write e.g. "2026-06-01" or "2026-06-01T12:00:00Z" (UTC unless a zone like +02:00 is given)`,
    );
  const m = ISO_8601.exec(value.trim());
  if (!m) throw bad();
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((part) => (part === undefined ? 0 : Number(part)));
  const millis = m[7] ? Number(m[7].slice(0, 3).padEnd(3, "0")) : 0;
  const utc = Date.UTC(year as number, (month as number) - 1, day, hour, minute, second, millis);
  const check = new Date(utc);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== (month as number) - 1 ||
    check.getUTCDate() !== day ||
    (hour as number) > 23 ||
    (minute as number) > 59 ||
    (second as number) > 59
  ) {
    throw bad();
  }
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== "Z") {
    const digits = zone.slice(1).replace(":", "");
    const hours = Number(digits.slice(0, 2));
    const minutes = Number(digits.slice(2));
    if (hours > 23 || minutes > 59) throw bad();
    offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (hours * 60 + minutes);
  }
  return new Date(utc - offsetMinutes * 60_000);
}

function checkSize(value: number | undefined, argument: string): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new StorageError("invalid_argument", `${argument} must be a whole number of bytes ≥ 0; got ${value}`);
  }
}

/** Checks a filter's parts against each other; each refusal names its argument. */
export function checkFilter(filter: ObjectFilter, names: FilterArgumentNames = TOOL_FILTER_NAMES): void {
  checkSize(filter.minSize, names.minSize);
  checkSize(filter.maxSize, names.maxSize);
  if (filter.minSize !== undefined && filter.maxSize !== undefined && filter.minSize > filter.maxSize) {
    throw new StorageError(
      "invalid_argument",
      `${names.minSize} (${filter.minSize}) is larger than ${names.maxSize} (${filter.maxSize}); no object could match`,
    );
  }
  if (filter.modifiedAfter && filter.modifiedBefore && filter.modifiedAfter >= filter.modifiedBefore) {
    throw new StorageError(
      "invalid_argument",
      `${names.modifiedAfter} (${filter.modifiedAfter.toISOString()}) is not before ${names.modifiedBefore} (${filter.modifiedBefore.toISOString()}); no object could match`,
    );
  }
}

export function isFiltering(filter: ObjectFilter): boolean {
  return (
    filter.glob !== undefined ||
    filter.minSize !== undefined ||
    filter.maxSize !== undefined ||
    filter.modifiedAfter !== undefined ||
    filter.modifiedBefore !== undefined
  );
}

/** The predicate of a checked filter; the glob is compiled once. */
export function compileFilter(
  filter: ObjectFilter,
  names: FilterArgumentNames = TOOL_FILTER_NAMES,
): (o: Pick<ObjectInfo, "key" | "size" | "lastModified">) => boolean {
  checkFilter(filter, names);
  const glob = filter.glob === undefined ? undefined : compileGlob(filter.glob, names.glob);
  const { minSize, maxSize, modifiedAfter, modifiedBefore } = filter;
  return (o) =>
    (minSize === undefined || o.size >= minSize) &&
    (maxSize === undefined || o.size <= maxSize) &&
    (modifiedAfter === undefined || o.lastModified >= modifiedAfter) &&
    (modifiedBefore === undefined || o.lastModified < modifiedBefore) &&
    (glob === undefined || glob(o.key));
}

/** A short, stable fingerprint of a filter, so a cursor can be bound to the filter it was made with. */
export function filterFingerprint(filter: ObjectFilter): string {
  const canonical = JSON.stringify([
    filter.glob ?? null,
    filter.minSize ?? null,
    filter.maxSize ?? null,
    filter.modifiedAfter?.toISOString() ?? null,
    filter.modifiedBefore?.toISOString() ?? null,
  ]);
  return createHash("sha256").update(canonical).digest("base64url").slice(0, 16);
}

/** One line saying what a filter selects, for result texts ("" when it selects everything). */
export function describeFilter(filter: ObjectFilter): string {
  const parts: string[] = [];
  if (filter.glob !== undefined) parts.push(`glob ${q(filter.glob)}`);
  if (filter.minSize !== undefined) parts.push(`≥ ${filter.minSize} B`);
  if (filter.maxSize !== undefined) parts.push(`≤ ${filter.maxSize} B`);
  if (filter.modifiedAfter) parts.push(`modified at or after ${filter.modifiedAfter.toISOString()}`);
  if (filter.modifiedBefore) parts.push(`modified before ${filter.modifiedBefore.toISOString()}`);
  return parts.join(", ");
}
