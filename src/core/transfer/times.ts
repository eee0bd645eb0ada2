/**
 * Modification times that other tools honour. Uploads store the local file's mtime the way rclone
 * does (user metadata `mtime`: seconds since the epoch with nine decimals); downloads give the
 * local file that time when the object has one, else the object's Last-Modified. With equal sizes
 * and times, `aws s3 sync` and `rclone copy` see the two sides as identical and move nothing.
 */
import type { OpenFile } from "../fs/descriptor.js";
import type { ObjectInfo, ObjectStore } from "../store.js";

/** rclone's metadata name, so that each reads the other's times. */
export const MTIME_METADATA = "mtime";

const NS_PER_SECOND = 1_000_000_000n;
/** Seconds, then an optional fraction; no sign, no exponent (rclone writes none). Up to year 9999. */
const MTIME_VALUE = /^(\d{1,12})(?:\.(\d{1,18}))?$/;
const LAST_SECOND = 253_402_300_799n;

/** `ns` (nanoseconds since the epoch) as rclone writes it: "1700000000.123456789". */
export function formatMtime(ns: bigint): string | undefined {
  if (ns < 0n) return undefined; // rclone reads a negative fraction wrongly; times before 1970 are not stored
  return `${ns / NS_PER_SECOND}.${(ns % NS_PER_SECOND).toString().padStart(9, "0")}`;
}

/** Nanoseconds since the epoch from an `mtime` value, or undefined when it is not one. */
export function parseMtime(value: string | undefined): bigint | undefined {
  const match = value === undefined ? null : MTIME_VALUE.exec(value.trim());
  if (!match) return undefined;
  const seconds = BigInt(match[1] as string);
  if (seconds > LAST_SECOND) return undefined;
  return seconds * NS_PER_SECOND + BigInt((match[2] ?? "").slice(0, 9).padEnd(9, "0"));
}

/** The metadata an upload stores for the local file it reads. */
export function fileTimeMetadata(file: OpenFile): Record<string, string> {
  return mtimeMetadata(file.mtimeNs);
}

/** fileTimeMetadata of a file whose mtime (ns) was read without an OpenFile (small-files.ts). */
export function mtimeMetadata(mtimeNs: bigint): Record<string, string> {
  const mtime = formatMtime(mtimeNs);
  return mtime === undefined ? {} : { [MTIME_METADATA]: mtime };
}

const msToNs = (date: Date) => BigInt(date.getTime()) * 1_000_000n;
const secondOf = (date: Date) => Math.floor(date.getTime() / 1000);

/**
 * The time a downloaded file gets: the object's `mtime` metadata, else its Last-Modified. A HEAD
 * or GET tells Last-Modified as an HTTP date (whole seconds) while a listing may tell the same
 * version to the millisecond, and both aws-cli and rclone compare with the listing's: `listed`
 * (the same key from a listing) is taken when it is the same version within the same second.
 * undefined when the object tells no time.
 */
export function downloadedTime(info: ObjectInfo, listed?: ObjectInfo): bigint | undefined {
  const stored = parseMtime(info.metadata?.[MTIME_METADATA]);
  if (stored !== undefined) return stored;
  if (!(info.lastModified.getTime() > 0)) return undefined;
  if (listed !== undefined && listed.etag === info.etag && secondOf(listed.lastModified) === secondOf(info.lastModified)) {
    return msToNs(listed.lastModified);
  }
  return msToNs(info.lastModified);
}

/**
 * The key as a listing tells it, when that may tell its time more precisely than `info` (a HEAD):
 * only when the object has no `mtime` and its Last-Modified is a whole second. A listing that
 * fails (a token without list permission) changes nothing.
 */
export async function listedVersion(store: ObjectStore, info: ObjectInfo): Promise<ObjectInfo | undefined> {
  if (parseMtime(info.metadata?.[MTIME_METADATA]) !== undefined || info.lastModified.getTime() % 1000 !== 0) return undefined;
  try {
    const page = await store.list({ prefix: info.key, limit: 1 });
    const first = page.objects[0];
    return first?.key === info.key ? first : undefined;
  } catch {
    return undefined;
  }
}
