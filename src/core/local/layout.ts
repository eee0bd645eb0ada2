/**
 * Where things live in a local store's directory: each key is the file DIR/<key>, and two folders
 * are the store's own, never listed and never usable as keys.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { fromFsError } from "../fs/errors.js";

/** Holds writes in progress. */
export const TMP_DIR = ".r2-mcp-tmp";
/** Content types given at upload that the key's extension would not give. */
export const META_DIR = ".r2-mcp-meta";
const RESERVED = [TMP_DIR, META_DIR];

/** True for a key (or a "dir/" key prefix) that is, or lies in, one of the store's own folders. */
export function isReservedKey(key: string): boolean {
  return RESERVED.some((dir) => key === dir || key.startsWith(`${dir}/`));
}

/** The file of `key` in the store at `root`; the key must already be validated. */
export function fileOf(root: string, key: string): string {
  return path.join(root, ...key.split("/"));
}

/** True when `dir` exists inside the store and no part of it below the root is a symlink. */
export async function isRealDirectory(dir: string): Promise<boolean> {
  try {
    return (await fs.realpath(dir)) === dir;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") return false;
    throw fromFsError(err, dir, "local store directory");
  }
}
