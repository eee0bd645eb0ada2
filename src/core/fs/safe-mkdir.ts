/**
 * The planning check of a download: no folder between the target directory and a file's parent
 * is a symlink. (The write itself opens each folder by descriptor: fs/descriptor.ts CheckedDir.)
 */
import fs from "node:fs/promises";
import path from "node:path";
import { q, StorageError } from "../errors.js";
import { isInside } from "./roots.js";

function redirected(target: string, link: string): StorageError {
  return new StorageError(
    "outside_roots",
    `refusing to write ${q(target)}: ${q(link)} is a symlink, and a write never goes through a symlink; remove it or choose another path`,
    { path: target },
  );
}

function notADirectory(target: string, current: string): StorageError {
  return new StorageError("not_a_directory", `a parent of local path ${q(target)} is not a directory: ${q(current)}`, { path: target });
}

/**
 * Checks, without creating anything, that every existing folder between `dir` and `parent` is a
 * real directory and not a symlink (a planned write is refused before any byte is written).
 */
export async function assertNoSymlinkBelow(dir: string, parent: string, target: string): Promise<void> {
  if (!isInside(parent, dir)) throw redirected(target, parent);
  let current = dir;
  for (const part of path.relative(dir, parent).split(path.sep).filter(Boolean)) {
    current = path.join(current, part);
    const stat = await fs.lstat(current).catch(() => undefined);
    if (stat === undefined) return; // the rest is created by ensureParentInside
    if (stat.isSymbolicLink()) throw redirected(target, current);
    if (!stat.isDirectory()) throw notADirectory(target, current);
  }
}
