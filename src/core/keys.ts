/**
 * Object keys: what is a valid key, and how a key becomes a local path without ever escaping the
 * directory it is meant for. Keys read from a bucket are untrusted input.
 */
import path from "node:path";
import { q, StorageError } from "./errors.js";

export const MAX_KEY_BYTES = 1024;

/** A key any S3 store accepts: 1–1024 bytes of well-formed UTF-8 without NUL. */
export function validateKey(key: string, argument = "key"): string {
  if (typeof key !== "string" || key.length === 0) {
    throw new StorageError("invalid_argument", `${argument} must be a non-empty string`);
  }
  if (!key.isWellFormed()) {
    throw new StorageError("invalid_argument", `${argument} is not valid UTF-8 (it holds a lone surrogate)`, { key });
  }
  if (key.includes("\0")) {
    throw new StorageError("invalid_argument", `${argument} must not contain a NUL character`, { key });
  }
  const bytes = Buffer.byteLength(key, "utf8");
  if (bytes > MAX_KEY_BYTES) {
    throw new StorageError("invalid_argument", `${argument} is ${bytes} bytes of UTF-8; the limit is ${MAX_KEY_BYTES}`, {
      key: `${key.slice(0, 64)}…`,
    });
  }
  return key;
}

/** Why a key cannot be a relative file path, or undefined when it can. */
export function unsafePathReason(relative: string): string | undefined {
  if (relative.length === 0) return "it is empty";
  if (relative.includes("\0")) return "it contains a NUL character";
  if (relative.includes("\\")) return "it contains a backslash";
  if (relative.startsWith("/")) return "it starts with /";
  if (/^[A-Za-z]:/.test(relative)) return "it starts with a drive letter";
  for (const segment of relative.split("/")) {
    if (segment === "") return "it has an empty path segment (//, or a trailing /)";
    if (segment === "." || segment === "..") return `it has a ${q(segment)} segment`;
  }
  return undefined;
}

/** A prefix used as a directory: "" stays "", anything else ends with exactly one "/". */
export function directoryPrefix(prefix: string): string {
  if (prefix === "") return "";
  return prefix.endsWith("/") ? prefix : `${prefix}/`;
}

/** Joins a directory prefix and a relative posix path into a key. */
export function joinKey(prefix: string, relative: string): string {
  return directoryPrefix(prefix) + relative;
}

/**
 * The local path a key lands on when `prefix` is downloaded into `dir`, or a reason it must not
 * land anywhere. The result is always strictly inside `dir`.
 */
export function keyToLocalPath(
  key: string,
  prefix: string,
  dir: string,
): { ok: true; path: string; relative: string } | { ok: false; reason: string } {
  const dirPrefix = directoryPrefix(prefix);
  if (!key.startsWith(dirPrefix)) return { ok: false, reason: `it is not under ${q(dirPrefix)}` };
  const relative = key.slice(dirPrefix.length);
  const reason = unsafePathReason(relative);
  if (reason) return { ok: false, reason };
  const root = path.resolve(dir);
  const target = path.resolve(root, ...relative.split("/"));
  // Belt and braces: the segment checks above already exclude every way out.
  if (!target.startsWith(root + path.sep)) return { ok: false, reason: "it resolves outside the directory" };
  return { ok: true, path: target, relative };
}

/** A relative filesystem path (native separators) as the posix part of a key. */
export function localRelativeToKeyPart(relative: string): string {
  return relative.split(path.sep).join("/");
}
