/**
 * When downloaded bytes reach the disk. Every file is complete before it appears under its name
 * (temporary file, then link or rename), so a killed or crashed process never leaves a partial
 * file: the kernel holds what was written. Only a power cut or a kernel crash can lose bytes the
 * kernel had not yet written out, and against that a single download is flushed (fsync) before
 * it appears, while a directory download places its files unflushed and flushes them before it
 * returns. Files of 1 MiB or more start their own fsync as soon as they are placed (folders.ts),
 * so their bytes go out while the rest transfers; the smaller ones are flushed together at the
 * end: syncfs(2) on each filesystem written to (GNU `sync -f`), one call for every file instead of
 * one fsync per file, each of which commits the filesystem's journal. Where `sync -f` is missing
 * or fails, each file is flushed on its own.
 */
import { spawn } from "node:child_process";
import { constants, existsSync } from "node:fs";
import fs from "node:fs/promises";
import { StorageError } from "../errors.js";

const SYNC = process.platform === "linux" ? ["/usr/bin/sync", "/bin/sync"].find((candidate) => existsSync(candidate)) : undefined;
let syncWorks = SYNC !== undefined;

/** Whether a directory download can flush once at its end instead of once per file. */
export function canFlushAtEnd(): boolean {
  return syncWorks;
}

/** `sync -f` on one path: syncfs(2) on the filesystem holding it. */
function syncFilesystem(at: string): Promise<boolean> {
  if (!syncWorks || SYNC === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(SYNC, ["-f", "--", at], { stdio: "ignore", env: { PATH: "/usr/bin:/bin", LC_ALL: "C" } });
    } catch {
      resolve(false);
      return;
    }
    let failedToStart = false;
    child.once("error", (err: NodeJS.ErrnoException) => {
      failedToStart = true;
      if (err.code === "ENOENT" || err.code === "EACCES") syncWorks = false;
      resolve(false);
    });
    child.once("close", (code) => {
      if (!failedToStart) resolve(code === 0);
    });
  });
}

/** fsync of one placed file, opened without following a symlink (a file gone since is nothing to flush). */
async function flushFile(file: string): Promise<void> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(file, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0));
  } catch {
    return;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** A flush started on its own (a large file, as soon as it is placed): what flushPlaced waits for. */
export interface EarlyFlush {
  file: string;
  done: Promise<void>;
}

/** Starts flushing one placed file now; its failure is told by flushPlaced. */
export function flushEarly(file: string): EarlyFlush {
  const done = flushFile(file);
  // Told by flushPlaced, which waits for every one; never an unhandled rejection meanwhile.
  done.catch(() => undefined);
  return { file, done };
}

/**
 * Flushes the files a directory download placed: waits for the flushes it started `early` (of
 * other files), then flushes `files`: syncfs on each filesystem (`filesystems`: one folder on
 * each), else each file. Fails `unavailable`, naming a file, if the disk reports an error.
 */
export async function flushPlaced(filesystems: string[], files: string[], early: EarlyFlush[] = []): Promise<void> {
  let file = "";
  try {
    for (const flush of early) {
      file = flush.file;
      await flush.done;
    }
    if (files.length === 0) return;
    const synced = await Promise.all(filesystems.map(syncFilesystem));
    if (synced.length > 0 && synced.every(Boolean)) return;
    for (file of files) await flushFile(file);
  } catch (err) {
    throw new StorageError(
      "unavailable",
      `the files were written, but flushing them to disk failed (${(err as Error).message}); check the disk, then repeat the call (complete files are skipped as identical)`,
      { path: file || (files[0] ?? ""), cause: err },
    );
  }
}
