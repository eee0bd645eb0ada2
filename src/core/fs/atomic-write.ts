/**
 * Writes that never leave a partial file and never replace an existing one by accident: bytes go
 * to a temporary file created through the descriptor of a checked folder, which is put in place
 * in one step once complete, through that same descriptor; the folder is checked again after, and
 * a file that landed somewhere else is taken back.
 */
import { randomBytes } from "node:crypto";
import { constants as fsConstants, type Stats } from "node:fs";
import fs from "node:fs/promises";
import { cancelledError, q, StorageError } from "../errors.js";
import { type CheckedDir, CREATE_FLAGS } from "./descriptor.js";
import { fromFsError } from "./errors.js";
import { FdFile } from "./fd-file.js";
import { copyFileTimes } from "./times.js";

/** Why a non-regular file is never replaced, overwrite or not. */
function notReplaceable(stat: Stats, shown: string, argument: string): StorageError | undefined {
  if (stat.isDirectory()) {
    return new StorageError("invalid_argument", `${argument} ${q(shown)} is a directory; give a file path`, { path: shown });
  }
  if (stat.isFile() || stat.isSymbolicLink()) return undefined;
  const what = stat.isFIFO() ? "a FIFO" : stat.isSocket() ? "a socket" : "a device";
  return new StorageError(
    "invalid_argument",
    `${argument} ${q(shown)} is ${what}, not a regular file; it is never replaced, overwrite or not. Choose another path`,
    { path: shown },
  );
}

/**
 * Refuses to write where something other than a regular file (or a symlink, which a rename
 * replaces itself) is, or anything at all when overwrite is off. `at` is the path to look at
 * (a CheckedDir entry, or a resolved path); true when something is there to replace.
 */
export async function checkWritableTarget(at: string, overwrite: boolean, argument = "local path", shown = at): Promise<boolean> {
  let stat: Stats;
  try {
    stat = await fs.lstat(at);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return false;
    throw fromFsError(err, shown, argument);
  }
  const refused = notReplaceable(stat, shown, argument);
  if (refused) throw refused;
  if (!overwrite) {
    throw new StorageError("already_exists", `${argument} ${q(shown)} exists; pass overwrite: true to replace it`, { path: shown });
  }
  return true;
}

const PART_SUFFIX = ".r2-mcp-part";
/** `.<name>.<pid>.<12 hex>.r2-mcp-part`: the pid tells a temp of a live writer from one a killed run left. */
const PART_NAME = /^\..*\.(\d+)\.[0-9a-f]{12}\.r2-mcp-part$/;

/** A temporary file in a checked folder, so the final link or rename stays on one filesystem. */
export interface TempFile {
  dir: CheckedDir;
  name: string;
  /** Its path, for messages. */
  path: string;
  handle: FdFile;
}

/** This process's id, read once: process.pid is a system call (getpid) each time it is read. */
const PID = process.pid;

/**
 * Random bytes for temporary names, drawn from the CSPRNG 256 names at a time (one draw per name
 * cost about 20 µs of the main thread per downloaded file): names stay unpredictable, so nobody
 * can plant the next one in advance (O_EXCL would refuse it, failing the download).
 */
const RANDOM_BATCH = 6 * 256;
let random = Buffer.alloc(0);
let randomAt = 0;
function randomHex6(): string {
  if (randomAt + 6 > random.length) {
    random = randomBytes(RANDOM_BATCH);
    randomAt = 0;
  }
  randomAt += 6;
  return random.toString("hex", randomAt - 6, randomAt);
}

/** A fresh temporary name for a file that will be called `forName` (removeStaleTemps knows it by its pid). */
export function tempNameFor(forName: string): string {
  return `.${forName.slice(0, 64)}.${PID}.${randomHex6()}${PART_SUFFIX}`;
}

export async function createTemp(dir: CheckedDir, forName: string): Promise<TempFile> {
  const name = tempNameFor(forName);
  try {
    // O_EXCL: never open something that already exists (a planted file or link with this name).
    // Read and write: a download's bytes are read back through it to be hashed (hash-pool.ts).
    const handle = await FdFile.open(dir.entry(name), (CREATE_FLAGS & ~fsConstants.O_WRONLY) | fsConstants.O_RDWR, 0o644);
    return { dir, name, path: dir.shown(name), handle };
  } catch (err) {
    throw fromFsError(err, dir.shown(forName));
  }
}

/** Whether process `pid` is alive (EPERM: it is, under another user). */
function alive(pid: number): boolean {
  if (pid === PID) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Removes the temporary files a killed run (kill -9, a crash, a power cut) left in `dir`: those
 * named for a process that no longer exists. Best effort: a failure here never fails a transfer.
 */
export async function removeStaleTemps(dir: CheckedDir, pattern: RegExp = PART_NAME): Promise<string[]> {
  const removed: string[] = [];
  const names = await dir.list().catch(() => [] as string[]);
  for (const name of names) {
    const pid = Number(pattern.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid <= 0 || alive(pid)) continue;
    try {
      await fs.unlink(dir.entry(name));
      removed.push(name);
    } catch {
      // gone already, or not ours to remove
    }
  }
  return removed;
}

/** Network chunks are small (16-64 KiB); they are gathered to this size per write. */
const WRITE_BATCH = 256 * 1024;

/**
 * Writes every chunk of `source` into the temporary file (plain writes on the handle: a stream
 * over a FileHandle would keep it busy and block close), gathering chunks into large writes.
 * `onChunk` sees every chunk as it arrives. Returns the bytes written.
 */
export async function writeToTemp(
  tmp: { handle: Pick<FdFile, "writev" | "write"> },
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: {
    signal?: AbortSignal;
    onChunk?: (chunk: Uint8Array, received: number) => void;
    /** Told after each write, with the bytes [position, position + length) it put in the file. */
    onWritten?: (position: number, length: number) => void;
    position?: number;
  } = {},
): Promise<number> {
  let position = options.position ?? 0;
  let received = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    const chunks = pending;
    const total = pendingBytes;
    pending = [];
    pendingBytes = 0;
    // One gathered write, without copying the chunks together; a short write (rare on regular
    // files) is finished from where it stopped.
    let done = (await tmp.handle.writev(chunks, position)).bytesWritten;
    if (done < total) {
      const rest = Buffer.concat(chunks, total);
      while (done < total) done += (await tmp.handle.write(rest, done, total - done, position + done)).bytesWritten;
    }
    options.onWritten?.(position, total);
    position += total;
  };
  for await (const chunk of source) {
    if (options.signal?.aborted) throw cancelledError(options.signal.reason);
    pending.push(chunk);
    pendingBytes += chunk.length;
    received += chunk.length;
    options.onChunk?.(chunk, received);
    if (pendingBytes >= WRITE_BATCH) await flush();
  }
  if (pendingBytes > 0) await flush();
  return received;
}

export async function discardTemp(tmp: TempFile): Promise<void> {
  await tmp.handle.close().catch(() => undefined);
  await fs.unlink(tmp.dir.entry(tmp.name)).catch(() => undefined);
}

/**
 * Flushes (unless `sync` is false: the caller flushes later, see flush.ts) and closes a finished
 * temporary file; its stat (from the descriptor) names the version written.
 */
export async function finishTemp(tmp: TempFile, sync = true): Promise<Stats> {
  return closeTemp(tmp, sync, true);
}

/**
 * finishTemp without the stat (one system call fewer per file): placeTemp reads the file's
 * identity from its temporary name only when it needs it (a rename, a copy, a file to take back).
 */
export function closeTemp(tmp: TempFile, sync: boolean, withStat: true): Promise<Stats>;
export function closeTemp(tmp: TempFile, sync: boolean, withStat?: false): Promise<undefined>;
export async function closeTemp(tmp: TempFile, sync: boolean, withStat = false): Promise<Stats | undefined> {
  try {
    if (sync) await tmp.handle.sync();
    const stat = withStat ? await tmp.handle.stat() : undefined;
    await tmp.handle.close();
    return stat;
  } catch (err) {
    await discardTemp(tmp);
    throw fromFsError(err, tmp.path);
  }
}

export interface PlaceOptions {
  overwrite: boolean;
  /**
   * The caller found nothing at the name (a download's plan looked): the exclusive link is tried
   * first even with overwrite, and only if something has appeared since is it looked at (refused
   * unless a regular file or symlink, then replaced by a rename with overwrite).
   */
  expectAbsent?: boolean;
  /** How messages name the argument and the path (for a name taken since the caller looked). */
  argument?: string;
  shown?: string;
}

const NO_HARD_LINKS = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "EXDEV"]);

/**
 * Puts a finished (closed) temporary file at `name` in folder `dir` in one step, through the
 * folders' descriptors. Without overwrite it is a hard link, which fails if anything (file,
 * directory, symlink) already has that name: an exclusive create that also never shows a partial
 * file. With overwrite it is a rename, which replaces a symlink itself rather than writing
 * through it (with `expectAbsent`, the link first). The folder is then checked again: a file that
 * landed where the folder was moved to is removed. `stat` is the temporary file's, if the caller
 * has it; otherwise it is read from the temporary name, and only where it is needed.
 * On failure the temporary file stays (the caller may place it again, or discard it).
 */
export async function placeTemp(
  tmp: TempFile,
  stat: Stats | undefined,
  dir: CheckedDir,
  name: string,
  options: PlaceOptions,
): Promise<void> {
  const from = tmp.dir.entry(tmp.name);
  const target = dir.entry(name);
  /** The file now at the name, when known; while `linked`, the temporary name holds it too. */
  let placed = stat;
  let linked = false;
  const rename = async () => {
    placed ??= await fs.lstat(from);
    await fs.rename(from, target);
  };
  try {
    if (options.overwrite && !options.expectAbsent) {
      await rename();
    } else {
      try {
        await fs.link(from, target);
        linked = true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? "";
        if (code === "EEXIST") {
          // Taken since the caller looked: what is there now decides, as it would have before.
          const replacing = await checkWritableTarget(target, options.overwrite, options.argument, options.shown ?? dir.shown(name));
          if (!replacing) {
            // Gone again meanwhile: the link is tried once more.
            await fs.link(from, target);
            linked = true;
          } else {
            await rename();
          }
        } else if (NO_HARD_LINKS.has(code)) {
          // Filesystems without hard links: fall back to an exclusive copy.
          const times = placed ?? (await fs.lstat(from));
          await fs.copyFile(from, target, fsConstants.COPYFILE_EXCL);
          // A copy takes the time it was made; a link keeps the file's own (a download's Last-Modified).
          await copyFileTimes(target, times);
          placed = await fs.lstat(target);
          await fs.unlink(from).catch(() => undefined);
        } else {
          throw err;
        }
      }
    }
  } catch (err) {
    throw fromFsError(err, dir.shown(name));
  }
  try {
    await dir.verify();
  } catch (err) {
    // Take back only the file this call put there (while linked, its temporary name still holds it).
    const [now, ours] = await Promise.all([
      fs.lstat(target).catch(() => undefined),
      linked ? fs.lstat(from).catch(() => undefined) : placed,
    ]);
    if (now !== undefined && ours !== undefined && now.ino === ours.ino && now.dev === ours.dev)
      await fs.unlink(target).catch(() => undefined);
    throw err;
  } finally {
    // Unlinked only now, so that a file to take back can still be told by its temporary name.
    if (linked) await fs.unlink(from).catch(() => undefined);
  }
}

/**
 * Closes (flushing unless `sync` is false) and places a finished temporary file; the temporary
 * file is removed if it cannot be placed.
 */
export async function commitTemp(tmp: TempFile, dir: CheckedDir, name: string, options: PlaceOptions & { sync?: boolean }): Promise<void> {
  await closeTemp(tmp, options.sync ?? true);
  try {
    await placeTemp(tmp, undefined, dir, name, options);
  } catch (err) {
    await discardTemp(tmp);
    throw err;
  }
}
