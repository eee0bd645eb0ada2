/**
 * The regular files under a local directory, for a directory upload: symlinks are followed only
 * while their real location passes the roots check, and those that fail it are reported.
 */
import type { Dirent, Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import pMap from "p-map";
import { localRelativeToKeyPart } from "../keys.js";
import { fromFsError } from "./errors.js";
import { confinementRefusal, type Roots, realpathOrUndefined } from "./roots.js";

/** A regular file to upload: its resolved location, its path relative to the walked directory. */
export interface LocalFile {
  path: string;
  relative: string;
  size: number;
  /** Last modification, in milliseconds since the epoch. */
  mtimeMs: number;
}

export interface WalkResult {
  files: LocalFile[];
  /** Entries (mostly symlinks) whose real location may not be read: outside the roots, on /proc or /sys, or in the local store. */
  outside: string[];
}

/**
 * What a walk leaves out, by "/"-separated path relative to the walked directory: a folder it
 * skips is not read at all, and a symlink skipped both as a file and as a folder is not followed.
 */
export type WalkSkip = (relative: string, folder: boolean) => boolean;

/** Entries of one folder looked at (stat) at once. */
const LOOKS_IN_FLIGHT = 16;

/**
 * Every regular file under `dir`, following symlinks that stay inside the roots (each real
 * directory visited once, so link cycles end) and collecting those that leave them.
 */
export async function walkDirectory(dir: string, roots: Roots | undefined, skip?: WalkSkip): Promise<WalkResult> {
  const files: LocalFile[] = [];
  const outside: string[] = [];
  const visited = new Set<string>();

  async function visit(realDir: string, relative: string): Promise<void> {
    if (visited.has(realDir)) return;
    visited.add(realDir);
    let entries: Dirent[];
    try {
      entries = await fs.readdir(realDir, { withFileTypes: true });
    } catch (err) {
      throw fromFsError(err, realDir, "local directory");
    }
    // Each entry is looked at (stat, and realpath for a link) in parallel; folders are then
    // visited in order.
    const looked = await pMap(entries, (entry) => look(realDir, relative, entry), { concurrency: LOOKS_IN_FLIGHT });
    for (const found of looked) {
      if (found === undefined) continue;
      if ("outside" in found) outside.push(found.outside);
      else if ("folder" in found) await visit(found.folder, found.relative);
      else files.push(found.file);
    }
  }

  type Looked = { outside: string } | { folder: string; relative: string } | { file: LocalFile } | undefined;

  async function look(realDir: string, relative: string, entry: Dirent): Promise<Looked> {
    const entryPath = path.join(realDir, entry.name);
    const entryRelative = relative ? `${relative}/${entry.name}` : entry.name;
    let real = entryPath;
    let stat: Stats;
    const keyPart = localRelativeToKeyPart(entryRelative);
    if (skip && (entry.isSymbolicLink() ? skip(keyPart, true) && skip(keyPart, false) : skip(keyPart, entry.isDirectory())))
      return undefined;
    if (entry.isSymbolicLink()) {
      const target = await realpathOrUndefined(entryPath);
      if (target === undefined) return undefined; // dangling link: nothing to upload
      real = target;
    }
    // Links leading out of the roots, and plain folders on a pseudo-filesystem (walking / under --root /).
    if (roots !== undefined && confinementRefusal(real, roots) !== undefined) return { outside: entryPath };
    try {
      stat = await fs.stat(real);
    } catch (err) {
      throw fromFsError(err, entryPath);
    }
    if (skip && entry.isSymbolicLink() && skip(keyPart, stat.isDirectory())) return undefined;
    if (stat.isDirectory()) return { folder: real, relative: entryRelative };
    if (stat.isFile()) return { file: { path: real, relative: keyPart, size: stat.size, mtimeMs: stat.mtimeMs } };
    // Sockets, FIFOs and devices are not data files; reading a FIFO would block forever.
    return undefined;
  }

  await visit(dir, "");
  files.sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
  return { files, outside };
}
