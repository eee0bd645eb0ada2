/**
 * Parent folders of a file to write, checked and created one at a time below a directory the
 * caller resolved, never through a symlink planted below it.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { q, StorageError } from "../errors.js";
import { fromFsError } from "./errors.js";
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

/**
 * Creates the parent directories of `target` below `dir`, one at a time and never through a
 * symlink: `mkdir -p` would follow a symlink planted below `dir` and create folders wherever it
 * points before any check could see it. `dir` itself is a real location the caller resolved.
 */
export async function ensureParentInside(dir: string, target: string): Promise<void> {
  const parent = path.dirname(target);
  if (!isInside(parent, dir)) throw redirected(target, parent);
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    throw fromFsError(err, dir, "local directory");
  }
  let current = dir;
  for (const part of path.relative(dir, parent).split(path.sep).filter(Boolean)) {
    current = path.join(current, part);
    let stat = await fs.lstat(current).catch(() => undefined);
    if (stat === undefined) {
      try {
        await fs.mkdir(current); // not recursive: fails on anything (even a symlink) created meanwhile
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw fromFsError(err, current, "local directory");
      }
      stat = await fs.lstat(current).catch((err: unknown) => {
        throw fromFsError(err, current, "local directory");
      });
    }
    if (stat.isSymbolicLink()) throw redirected(target, current);
    if (!stat.isDirectory()) throw notADirectory(target, current);
  }
  // Belt and braces: the folder the file lands in is exactly the one planned.
  const realParent = await fs.realpath(parent).catch((err: unknown) => {
    throw fromFsError(err, parent, "local directory");
  });
  if (realParent !== parent) {
    throw new StorageError(
      "outside_roots",
      `refusing to write ${q(target)}: a symlink below ${q(dir)} would redirect it to ${q(realParent)}`,
      { path: target },
    );
  }
}
