/**
 * Local files and folders judged by what was opened, not by the path. A path checked and then
 * opened again can be swapped in between (a file for a symlink, a folder for a link to /etc or
 * /proc), so every read and write opens first, without following a final symlink and without
 * blocking on a FIFO, then asks the kernel where the descriptor really is (Linux:
 * /proc/self/fd/N), what it is (fstat: a regular file) and on which filesystem (statfs: never
 * /proc or /sys, wherever they are mounted), and reads or writes only through that descriptor.
 *
 * Without /proc/self/fd (macOS, BSD, a container without /proc) the location is the realpath of
 * the path, accepted only when it names the very file the descriptor holds (same device and
 * inode), and writes go through paths re-checked after the fact; the filesystem type is then not
 * checked (the path check still refuses /proc and /sys).
 */
import { type BigIntStats, constants, existsSync, type Stats } from "node:fs";
import fs, { type FileHandle } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { q, StorageError } from "../errors.js";
import { fromFsError } from "./errors.js";
import { FdFile } from "./fd-file.js";
import { assertInsideRoots, type Roots } from "./roots.js";

const O_NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const O_NONBLOCK = constants.O_NONBLOCK ?? 0;
const O_DIRECTORY = constants.O_DIRECTORY ?? 0;
const O_CLOEXEC = (constants as { O_CLOEXEC?: number }).O_CLOEXEC ?? 0;
/** Reads: never through a final symlink, and a FIFO opens at once instead of waiting for a writer. */
export const READ_FLAGS = constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC;
const DIR_FLAGS = constants.O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
/** A new file only: fails on anything (file, symlink, FIFO) already at the name. */
export const CREATE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW | O_CLOEXEC;

const PROC_FD = "/proc/self/fd";
/** Whether descriptors can be located through /proc/self/fd (Linux with /proc mounted). */
export const hasProcFd = process.platform === "linux" && existsSync(PROC_FD);

/** Kernel pseudo-filesystems by statfs f_type: never data files, wherever they are mounted. */
const PSEUDO_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, "proc"],
  [0x62656572, "sysfs"],
  [0x64626720, "debugfs"],
  [0x73636673, "securityfs"],
  [0x74726163, "tracefs"],
  [0x27e0eb, "cgroup"],
  [0x63677270, "cgroup2"],
  [0x1cd1, "devpts"],
  [0xcafe4a11, "bpf"],
  [0xde5e81e4, "efivarfs"],
  [0x6165676c, "pstore"],
  [0x62656570, "configfs"],
  [0xf97cff8c, "selinuxfs"],
  [0x42494e4d, "binfmt_misc"],
  [0x65735543, "fusectl"],
  [0x19800202, "mqueue"],
  [0x6e736673, "nsfs"],
]);

/** What a confined open checks against, and how messages name the path. */
export interface Confinement {
  /** Allowed roots (real paths); undefined: anywhere (the library used from a script). */
  roots: Roots | undefined;
  /** The argument the path came from, e.g. "local_path". */
  argument: string;
  /** The path as the caller gave it. */
  shown: string;
}

/** Something moved or was swapped while the call ran: not the caller's mistake, and repeating may work. */
export function changedDuringCall(shown: string, argument: string, what: string, cause?: unknown): StorageError {
  return new StorageError(
    "unavailable",
    `${argument} ${q(shown)} ${what} while the call ran (something else is changing it); nothing was read or written through it. Repeat the call once nothing else is changing that folder`,
    { path: shown, ...(cause === undefined ? {} : { cause }) },
  );
}

function symlinkAtOpen(shown: string, argument: string, at: string, cause?: unknown): StorageError {
  return new StorageError(
    "outside_roots",
    `${argument} ${q(shown)}: ${q(at)} is a symlink when it is opened (perhaps swapped in after the path was checked), and files are never read or written through a symlink there; nothing was read or written. Remove the link (or use its target's path) and repeat the call`,
    { path: shown, ...(cause === undefined ? {} : { cause }) },
  );
}

/** An open file or folder: a FileHandle or an FdFile. */
interface Descriptor {
  readonly fd: number;
  stat(): Promise<Stats>;
}

/** Where descriptor `fd` is, by /proc/self/fd; undefined where that is not available. */
async function procLocation(handle: Descriptor, c: Confinement): Promise<string | undefined> {
  if (!hasProcFd) return undefined;
  let where: string;
  try {
    where = await fs.readlink(`${PROC_FD}/${handle.fd}`);
  } catch {
    return undefined;
  }
  if (where.endsWith(" (deleted)")) {
    throw new StorageError("not_found", `${c.argument} ${q(c.shown)} was removed while the call ran; nothing was read or written`, {
      path: c.shown,
    });
  }
  return where;
}

/**
 * The real location of what `handle` holds. `opened` is the real path it was opened by; without
 * /proc/self/fd it is accepted only when it still names the same file.
 */
export async function locationOf(handle: Descriptor, opened: string, c: Confinement): Promise<string> {
  const proc = await procLocation(handle, c);
  if (proc !== undefined) return proc;
  const real = await fs.realpath(opened).catch(() => undefined);
  const [held, named] = await Promise.all([handle.stat(), real === undefined ? undefined : fs.stat(real).catch(() => undefined)]);
  if (real === undefined || named === undefined || held.dev !== named.dev || held.ino !== named.ino) {
    throw changedDuringCall(c.shown, c.argument, "was moved or replaced");
  }
  return real;
}

/**
 * Whether device number `dev` (st_dev) belongs to a block device. Kernel pseudo-filesystems have
 * anonymous device numbers (major 0), so a file on a block device needs no statfs to tell.
 */
export function onBlockDevice(dev: bigint): boolean {
  return ((dev >> 8n) & 0xfffn) !== 0n || ((dev >> 32n) & ~0xfffn) !== 0n;
}

/**
 * Refuses a descriptor on a kernel pseudo-filesystem (/proc or /sys bind-mounted inside a root).
 * `dev` is its st_dev when the caller has it: a file on a block device is not on one.
 */
async function refusePseudoFilesystem(handle: Descriptor, where: string, c: Confinement, dev?: bigint): Promise<void> {
  if (!hasProcFd || (dev !== undefined && onBlockDevice(dev))) return;
  const stat = await fs.statfs(`${PROC_FD}/${handle.fd}`).catch(() => undefined);
  const kind = stat === undefined ? undefined : PSEUDO_FILESYSTEMS.get(stat.type >>> 0);
  if (kind === undefined) return;
  throw new StorageError(
    "outside_roots",
    `${c.argument} ${q(c.shown)} resolves to ${q(where)}, on a kernel pseudo-filesystem (${kind}), which holds no data files (/proc and /sys are refused wherever they are mounted); use a path to a regular file`,
    { path: c.shown },
  );
}

/** Checks what `handle` holds against the roots: its real location, and its filesystem (`dev`: its st_dev, if known). */
export async function checkDescriptor(handle: Descriptor, opened: string, c: Confinement, dev?: bigint): Promise<string> {
  const where = await locationOf(handle, opened, c);
  if (c.roots !== undefined) {
    assertInsideRoots(where, c.roots, c.argument, c.shown);
    await refusePseudoFilesystem(handle, where, c, dev);
  }
  return where;
}

function notRegular(c: Confinement, stat: BigIntStats): StorageError {
  if (stat.isDirectory()) {
    return new StorageError("invalid_argument", `${c.argument} ${q(c.shown)} is a directory; use upload_directory for directories`, {
      path: c.shown,
    });
  }
  const what = stat.isFIFO() ? "a FIFO" : stat.isSocket() ? "a socket" : "a device";
  return new StorageError("invalid_argument", `${c.argument} ${q(c.shown)} is ${what}, not a regular file; only regular files are read`, {
    path: c.shown,
  });
}

const CHUNK = 256 * 1024;

/**
 * A regular local file opened for reading and checked by descriptor. Every read goes through the
 * descriptor; the file's size and mtime at open are its version, and a read that finds it changed
 * (shorter, longer, or modified) fails naming the file, before the last bytes leave, so no store
 * keeps a mix of versions.
 */
export class OpenFile {
  /** Why the last stream over this file failed, for callers whose transport wraps the error. */
  failure: StorageError | undefined;

  private constructor(
    readonly handle: FdFile,
    /** The path as the caller gave it (for messages). */
    readonly path: string,
    /** Where the descriptor is (real path). */
    readonly real: string,
    readonly size: number,
    private readonly version: { mtimeNs: bigint },
    private readonly argument: string,
  ) {}

  /**
   * Opens `real` (a path already resolved within the roots) for reading and checks the
   * descriptor: inside the roots, not on a pseudo-filesystem, a regular file. Never blocks on a
   * FIFO and never follows a symlink swapped in at the last component.
   */
  static async open(real: string, c: Confinement): Promise<OpenFile> {
    return OpenFile.openChecked(real, real, c, (handle, dev) => checkDescriptor(handle, real, c, dev));
  }

  /**
   * Opens `name` in the checked folder `dir` for reading: reached through the folder's descriptor
   * (Linux), which pins the folder where it was checked, so the file needs no location check of
   * its own (one look per folder instead of one per file; a folder swapped or moved since is not
   * followed). Without /proc/self/fd, as open() on the joined path.
   */
  static async openIn(dir: CheckedDir, name: string, c: Confinement): Promise<OpenFile> {
    if (!hasProcFd) return OpenFile.open(path.join(dir.path, name), c);
    const where = dir.shown(name);
    return OpenFile.openChecked(dir.entry(name), where, c, async (handle, dev) => {
      if (c.roots !== undefined) await refusePseudoFilesystem(handle, where, c, dev);
      return where;
    });
  }

  private static async openChecked(
    openPath: string,
    real: string,
    c: Confinement,
    check: (handle: FdFile, dev: bigint) => Promise<string>,
  ): Promise<OpenFile> {
    let handle: FdFile;
    try {
      handle = await FdFile.open(openPath, READ_FLAGS, 0);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ELOOP") throw symlinkAtOpen(c.shown, c.argument, real, err);
      throw fromFsError(err, c.shown, c.argument);
    }
    try {
      const stat = await handle.stat({ bigint: true });
      const where = await check(handle, stat.dev);
      if (!stat.isFile()) throw notRegular(c, stat);
      return new OpenFile(handle, c.shown, where, Number(stat.size), { mtimeNs: stat.mtimeNs }, c.argument);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw fromFsError(err, c.shown, c.argument);
    }
  }

  /** The file's modification time when it was opened, in nanoseconds since the epoch. */
  get mtimeNs(): bigint {
    return this.version.mtimeNs;
  }

  /** Opens `real` (or `name` in checked folder `real`), runs `use`, and closes the file whatever happens. */
  static async with<T>(real: string | { dir: CheckedDir; name: string }, c: Confinement, use: (file: OpenFile) => Promise<T>): Promise<T> {
    const file = typeof real === "string" ? await OpenFile.open(real, c) : await OpenFile.openIn(real.dir, real.name, c);
    try {
      return await use(file);
    } finally {
      await file.close();
    }
  }

  private grew(): StorageError {
    return this.changed(`it grew beyond the ${this.size} bytes it had`);
  }

  private changed(how: string): StorageError {
    const err = new StorageError(
      "unavailable",
      `local file ${q(this.path)} changed while it was being read (${how}); nothing was written. Repeat the call once nothing is writing to it`,
      { path: this.path },
    );
    this.failure = err;
    return err;
  }

  /**
   * Fails unless the file still has the size and mtime it had when opened, and nothing past its
   * end (`probed`: the caller's last read already asked for a byte past the end and got none).
   */
  async checkUnchanged(probed = false): Promise<void> {
    if (!probed) {
      const probe = Buffer.alloc(1);
      const { bytesRead } = await this.handle.read(probe, 0, 1, this.size);
      if (bytesRead > 0) throw this.grew();
    }
    const now = await this.handle.stat({ bigint: true });
    if (Number(now.size) !== this.size) throw this.changed(`its size went from ${this.size} to ${now.size} bytes`);
    if (now.mtimeNs !== this.version.mtimeNs) throw this.changed("it was modified");
  }

  /**
   * The whole file as a stream of positional reads (each call a fresh stream, so a retried request
   * starts over). It holds back the last chunk until the file is confirmed unchanged, so a request
   * that sends a declared length never completes with bytes from two versions.
   */
  stream(): Readable {
    this.failure = undefined;
    return this.range(0, this.size);
  }

  /**
   * The whole file in memory (for small files: one read instead of a stream), once it is
   * confirmed unchanged since it was opened: never bytes from two versions.
   */
  async bytes(): Promise<Buffer> {
    this.failure = undefined;
    // One byte more than the size: a byte there means the file grew.
    const buf = Buffer.allocUnsafe(this.size + 1);
    let got = 0;
    while (got < buf.length) {
      const { bytesRead } = await this.handle.read(buf, got, buf.length - got, got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got > this.size) throw this.grew();
    if (got < this.size) throw this.changed(`it ended after ${got} of its ${this.size} bytes`);
    await this.checkUnchanged(true);
    return buf.subarray(0, this.size);
  }

  /**
   * Bytes [start, end) as a stream of positional reads through the descriptor (a multipart
   * upload's part). Like stream(), it holds back its last chunk until the file is confirmed
   * unchanged, and a file that ended early fails it naming the file.
   */
  range(start: number, end: number): Readable {
    let position = start;
    let ended = false;
    const stream = new Readable({
      highWaterMark: CHUNK,
      read: () => {
        this.next(position, end, ended).then(
          (chunk) => {
            if (chunk === null) {
              ended = true;
              stream.push(null);
              return;
            }
            position += chunk.length;
            stream.push(chunk);
          },
          (err: unknown) => stream.destroy(err instanceof Error ? err : new Error(String(err))),
        );
      },
    });
    return stream;
  }

  /** The chunk at `position` (before `end`), or null at the end (after the file was confirmed unchanged). */
  private async next(position: number, end: number, ended: boolean): Promise<Buffer | null> {
    if (ended) return null;
    if (position >= end) {
      if (end === 0) await this.checkUnchanged(); // an empty file: nothing else checks it
      return null;
    }
    const want = Math.min(CHUNK, end - position);
    // The file's last chunk asks for one byte more: a byte there means the file grew, and
    // checkUnchanged need not read again to know.
    const probing = position + want === this.size;
    const ask = probing ? want + 1 : want;
    const buf = Buffer.allocUnsafe(ask);
    let got = 0;
    while (got < want) {
      const { bytesRead } = await this.handle.read(buf, got, ask - got, position + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    if (got < want) throw this.changed(`it ended after ${position + got} of its ${this.size} bytes`);
    if (got > want) throw this.grew();
    if (position + got === end) await this.checkUnchanged(probing);
    return probing ? buf.subarray(0, want) : buf;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/**
 * A folder opened by descriptor and confirmed to be where the caller planned it. Names inside it
 * are reached through the descriptor (Linux: /proc/self/fd/N/name), so a temp file, a link or a
 * rename lands in this very folder even if its path is swapped for a symlink meanwhile.
 */
export class CheckedDir {
  private constructor(
    readonly handle: FileHandle,
    /** The real path it was opened at. */
    readonly path: string,
    private readonly c: Confinement,
  ) {}

  /** A path that reaches `name` inside this folder. */
  entry(name: string): string {
    return hasProcFd ? `${PROC_FD}/${this.handle.fd}/${name}` : path.join(this.path, name);
  }

  /**
   * What the folder's descriptor links to in /proc/self/fd (its location now, as verify() reads
   * it), for a thread that looks for itself; undefined without /proc/self/fd.
   */
  get procLink(): string | undefined {
    return hasProcFd ? `${PROC_FD}/${this.handle.fd}` : undefined;
  }

  /** The path shown in messages for `name` inside this folder. */
  shown(name: string): string {
    return path.join(this.path, name);
  }

  /** The names in this folder. */
  list(): Promise<string[]> {
    return fs.readdir(hasProcFd ? `${PROC_FD}/${this.handle.fd}` : this.path);
  }

  /** The check that will start once the running one ends (callers that arrive meanwhile share it). */
  private nextCheck: Promise<void> | undefined;
  private running: Promise<void> | undefined;

  /**
   * Fails unless the folder is still at the path it was opened at (re-checked after a write
   * lands). The answer always comes from a look taken after the call: callers that arrive while a
   * look is under way share the next one, so many files landing at once cost a few looks, not one each.
   */
  verify(): Promise<void> {
    if (this.nextCheck !== undefined) return this.nextCheck;
    const after = this.running ?? Promise.resolve();
    const check: Promise<void> = after
      .catch(() => undefined)
      .then(async () => {
        this.nextCheck = undefined;
        this.running = check;
        try {
          const where = await locationOf(this.handle, this.path, this.c);
          if (where !== this.path) throw movedError(this.c, this.path, where);
        } finally {
          if (this.running === check) this.running = undefined;
        }
      });
    this.nextCheck = check;
    return check;
  }

  async close(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }

  /**
   * Opens folder `dir` (a real path the caller resolved and checked). Missing folders are created
   * when `create` is set, one at a time through the descriptor of the folder above; every folder
   * on the way is opened without following a symlink and must be exactly where planned.
   */
  static async open(dir: string, c: Confinement, options: { create: boolean }): Promise<CheckedDir> {
    const missing: string[] = [];
    let start = dir;
    for (;;) {
      const stat = await fs.lstat(start).catch((err: unknown) => {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return undefined;
        throw fromFsError(err, start, "local directory");
      });
      if (stat !== undefined) break;
      if (!options.create) {
        throw new StorageError("not_found", `local directory ${q(dir)} does not exist`, { path: c.shown });
      }
      const parent = path.dirname(start);
      if (parent === start) break;
      missing.unshift(path.basename(start));
      start = parent;
    }
    let current = await CheckedDir.openOne(start, start, c);
    for (const name of missing) {
      const next = path.join(current.path, name);
      try {
        await fs.mkdir(current.entry(name));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") {
          await current.close();
          throw fromFsError(err, next, "local directory");
        }
      }
      const opened = await CheckedDir.openOne(current.entry(name), next, c).finally(() => current.close());
      current = opened;
    }
    return current;
  }

  /** Opens one folder by `openPath` (which reaches `expected`) and confirms it is there. */
  private static async openOne(openPath: string, expected: string, c: Confinement): Promise<CheckedDir> {
    let handle: FileHandle;
    try {
      handle = await fs.open(openPath, DIR_FLAGS);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ELOOP") throw symlinkAtOpen(c.shown, c.argument, expected, err);
      if (code === "ENOTDIR") {
        // O_DIRECTORY | O_NOFOLLOW on a symlink answers ENOTDIR; a folder there now was swapped back since.
        const stat = await fs.lstat(openPath).catch(() => undefined);
        if (stat?.isSymbolicLink() || stat?.isDirectory()) throw symlinkAtOpen(c.shown, c.argument, expected, err);
        throw new StorageError("not_a_directory", `a parent of ${c.argument} ${q(c.shown)} is not a directory: ${q(expected)}`, {
          path: c.shown,
          cause: err,
        });
      }
      throw fromFsError(err, expected, "local directory");
    }
    try {
      const where = await locationOf(handle, expected, c);
      if (where !== expected) throw movedError(c, expected, where);
      if (c.roots !== undefined) await refusePseudoFilesystem(handle, where, c);
      return new CheckedDir(handle, expected, c);
    } catch (err) {
      await handle.close().catch(() => undefined);
      throw err;
    }
  }
}

/** A folder found somewhere other than planned: outside the roots, or moved inside them. */
function movedError(c: Confinement, expected: string, where: string): StorageError {
  if (c.roots !== undefined) assertInsideRoots(where, c.roots, c.argument, c.shown);
  return changedDuringCall(c.shown, c.argument, `(its folder ${q(expected)}) was moved to ${q(where)}`);
}
