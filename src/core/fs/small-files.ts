/**
 * Small local files written and read by a worker thread, each in one message, with synchronous
 * calls on the worker's own thread. On the main thread the same sequences are five or six
 * operations of libuv's thread pool each, every one waking a pool thread and then the event loop:
 * for a 4 KiB file that wake-up traffic costs more than the calls themselves on a 2-core machine.
 *
 * - A download's file (writeSmallFile): the temporary file created exclusively (never through a
 *   symlink), its bytes written, its times set, closed, linked to its name (which fails if
 *   anything has that name) and its temporary name removed.
 * - An upload's file (readSmallFile): opened without following a symlink (never blocking on a
 *   FIFO), checked to be a regular file, read whole with one byte asked past its end, and checked
 *   unchanged (size and mtime) before it is closed.
 *
 * Only each sequence's plain success is done here. Anything else (a name taken, a filesystem
 * without hard links, no space, not a regular file, a file changing while read, a worker that
 * cannot start or died) is answered "not done", with nothing left behind, and the caller does it
 * the usual way (atomic-write.ts, descriptor.ts), which reports or handles it. The paths are those
 * of a checked folder's descriptor (CheckedDir.entry), which the worker shares, so a file is
 * reached exactly where the main thread would reach it.
 *
 * The worker is started from source text (eval), like hash-pool.ts.
 */
import { constants } from "node:fs";
import { lstat, readFile, unlink } from "node:fs/promises";
import { Worker } from "node:worker_threads";

interface WriteRequest {
  op: "write";
  id: number;
  /** The temporary file's path and the target's, both through the folder's descriptor. */
  tmp: string;
  target: string;
  bytes: Uint8Array;
  flags: number;
  mode: number;
  /** atime and mtime to set (seconds), if any. */
  seconds: number | undefined;
  /** The folder's /proc/self/fd link, read once the file is in place (CheckedDir.procLink). */
  folderLink: string | undefined;
}
interface ReadRequest {
  op: "read";
  id: number;
  path: string;
  flags: number;
  /** Larger files are not read here. */
  max: number;
}
type Request = WriteRequest | ReadRequest;
type Reply =
  | { id: number; placed: true; dev: number; ino: number; tmpLeft: boolean; folderAt: string | undefined }
  | { id: number; placed: false; code?: string }
  | { id: number; read: true; bytes: Uint8Array; mtimeNs: bigint; dev: bigint }
  | { id: number; read: false };

interface BigStat {
  isFile(): boolean;
  size: bigint;
  mtimeNs: bigint;
  dev: bigint;
}

/** What the worker needs of node:fs and its port. */
interface WorkerScope {
  fs: {
    openSync(path: string, flags: number, mode: number): number;
    writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
    readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
    futimesSync(fd: number, atime: number, mtime: number): void;
    fstatSync(fd: number): { dev: number; ino: number };
    fstatSync(fd: number, options: { bigint: true }): BigStat;
    closeSync(fd: number): void;
    linkSync(from: string, to: string): void;
    unlinkSync(path: string): void;
    readlinkSync(path: string): string;
  };
  port: { on(event: "message", listener: (request: Request) => void): unknown; postMessage(reply: Reply, transfer?: ArrayBuffer[]): void };
}

/** The worker's code: one request, one file, one reply. */
function filesMain({ fs, port }: WorkerScope): void {
  const write = (r: WriteRequest): Reply => {
    let fd = -1;
    let created = false;
    try {
      fd = fs.openSync(r.tmp, r.flags, r.mode);
      created = true;
      let done = 0;
      while (done < r.bytes.length) done += fs.writeSync(fd, r.bytes, done, r.bytes.length - done, done);
      if (r.seconds !== undefined) fs.futimesSync(fd, r.seconds, r.seconds);
      const { dev, ino } = fs.fstatSync(fd);
      const closing = fd;
      fd = -1;
      fs.closeSync(closing);
      fs.linkSync(r.tmp, r.target);
      let tmpLeft = false;
      try {
        fs.unlinkSync(r.tmp);
      } catch {
        tmpLeft = true;
      }
      let folderAt: string | undefined;
      if (r.folderLink !== undefined) {
        try {
          folderAt = fs.readlinkSync(r.folderLink);
        } catch {}
      }
      return { id: r.id, placed: true, dev, ino, tmpLeft, folderAt };
    } catch (err) {
      if (fd !== -1) {
        try {
          fs.closeSync(fd);
        } catch {}
      }
      // Only a temporary file this call created is removed (never one planted at its name).
      if (created) {
        try {
          fs.unlinkSync(r.tmp);
        } catch {}
      }
      const code = (err as { code?: unknown }).code;
      return { id: r.id, placed: false, ...(typeof code === "string" ? { code } : {}) };
    }
  };
  const read = (r: ReadRequest): Reply => {
    let fd = -1;
    try {
      fd = fs.openSync(r.path, r.flags, 0);
      const opened = fs.fstatSync(fd, { bigint: true });
      if (!opened.isFile() || opened.size > BigInt(r.max)) return { id: r.id, read: false };
      const size = Number(opened.size);
      // One byte more than the size: a byte there means the file grew.
      const buffer = new Uint8Array(size + 1);
      let got = 0;
      while (got < buffer.length) {
        const n = fs.readSync(fd, buffer, got, buffer.length - got, got);
        if (n === 0) break;
        got += n;
      }
      const now = fs.fstatSync(fd, { bigint: true });
      if (got !== size || now.size !== opened.size || now.mtimeNs !== opened.mtimeNs) return { id: r.id, read: false };
      return { id: r.id, read: true, bytes: buffer.subarray(0, size), mtimeNs: opened.mtimeNs, dev: opened.dev };
    } catch {
      return { id: r.id, read: false };
    } finally {
      if (fd !== -1) {
        try {
          fs.closeSync(fd);
        } catch {}
      }
    }
  };
  port.on("message", (r) => {
    if (r.op === "read") {
      const reply = read(r);
      port.postMessage(reply, "bytes" in reply ? [reply.bytes.buffer as ArrayBuffer] : []);
    } else {
      port.postMessage(write(r));
    }
  });
}

// __name: what esbuild (tsx, vitest) may wrap around named functions when it keeps their names.
const WORKER_SOURCE = `"use strict";
const __name = (f) => f;
const fs = require("node:fs");
const { parentPort } = require("node:worker_threads");
(${filesMain.toString()})({ fs, port: parentPort });
`;

/**
 * A file the worker put in place: its identity, to tell it from another at its name, whether its
 * temporary name could not be removed (the caller tries again), and where its folder was right
 * after (read from `folderLink`; undefined if not read).
 */
export interface SmallPlaced {
  dev: number;
  ino: number;
  tmpLeft: boolean;
  folderAt: string | undefined;
}

/** A file the worker read whole: its bytes, its mtime and its filesystem (st_dev) when opened. */
export interface SmallRead {
  bytes: Uint8Array;
  mtimeNs: bigint;
  dev: bigint;
}

/** What a request is answered when the worker died before it replied. */
const DIED = { placed: false, read: false, code: "EWORKER" } as const;

class FilesWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, (reply: Reply | typeof DIED) => void>();
  /** When it last answered, or became busy (performance.now()). */
  private progressAt = 0;
  private nextId = 1;
  dead = false;

  constructor() {
    // No flags of this process (a loader, --input-type=module): the source is a plain CommonJS script.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], name: "r2-mcp files" });
    this.worker.unref();
    this.worker.on("message", (reply: Reply) => {
      const answer = this.pending.get(reply.id);
      if (!answer) return;
      this.pending.delete(reply.id);
      this.progressAt = performance.now();
      if (this.pending.size === 0) this.worker.unref();
      answer(reply);
    });
    const gone = () => {
      if (this.dead) return;
      this.dead = true;
      const at = workers.indexOf(this);
      if (at !== -1) workers.splice(at, 1);
      for (const answer of this.pending.values()) answer(DIED);
      this.pending.clear();
    };
    this.worker.on("error", gone);
    this.worker.on("exit", gone);
  }

  /** Busy without answering for SLOW_MS (at `now`): its filesystem is slow, the next file goes elsewhere. */
  slow(now: number): boolean {
    return this.pending.size > 0 && now - this.progressAt > SLOW_MS;
  }

  send<R extends Request>(request: Omit<R, "id">, transfer: ArrayBuffer[] = []): Promise<Reply | typeof DIED> {
    const id = this.nextId++;
    if (this.pending.size === 0) {
      this.worker.ref();
      this.progressAt = performance.now();
    }
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }
}

/**
 * Workers at most. One does the work while the filesystem answers quickly (fewer threads to wake:
 * a second one on a local disk cost ~8 % more time for 4 KiB files); on a slow one (NFS, FUSE, a
 * disk busy flushing) files wait behind each other, and more workers take them in parallel, as
 * libuv's four pool threads would.
 */
const MAX_WORKERS = 4;
/** A worker that has not answered for this long (ms) while files wait on it is slow (see slow()). */
const SLOW_MS = 10;

const workers: FilesWorker[] = [];
/** Set once a worker could not be started: every file then goes the usual way. */
let unavailable = false;
const counts = { placed: 0, read: 0 };

/** How many files the workers have put in place, and read, in this process. */
export function smallFilesDone(): { placed: number; read: number } {
  return { ...counts };
}

/**
 * Ends the workers (new ones start with the next file); files they were handling are answered
 * "not done". Tests use it to stand in for a worker that died.
 */
export async function stopSmallFilesWorker(): Promise<void> {
  await Promise.all(workers.map((w) => w.worker.terminate()));
}

/** The first worker that is not slow, else a new one, else the least busy; undefined if none can be started. */
function worker(): FilesWorker | undefined {
  if (unavailable) return undefined;
  const now = performance.now();
  let least: FilesWorker | undefined;
  for (const w of workers) {
    if (!w.slow(now)) return w;
    if (least === undefined || w.pending.size < least.pending.size) least = w;
  }
  if (least !== undefined && workers.length >= MAX_WORKERS) return least;
  try {
    const created = new FilesWorker();
    workers.push(created);
    return created;
  } catch {
    if (least !== undefined) return least;
    unavailable = true;
    return undefined;
  }
}

/**
 * The worker died while writing this file (terminated, out of memory): whatever it got to is
 * found from the two names. Linked already: placed. Only the temporary file: removed, not placed.
 * Linked and its temporary name removed: the file at the name is ours if it holds our bytes.
 */
async function afterWorkerDied(request: Omit<WriteRequest, "id" | "op">): Promise<SmallPlaced | undefined> {
  const [tmp, target] = await Promise.all([lstat(request.tmp).catch(() => undefined), lstat(request.target).catch(() => undefined)]);
  if (tmp === undefined) {
    if (target === undefined || !target.isFile() || target.size !== request.bytes.length) return undefined;
    const now = await readFile(request.target, { flag: constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK }).catch(
      () => undefined,
    );
    if (now === undefined || Buffer.compare(now, request.bytes) !== 0) return undefined;
    counts.placed++;
    return { dev: target.dev, ino: target.ino, tmpLeft: false, folderAt: undefined };
  }
  if (target !== undefined && target.dev === tmp.dev && target.ino === tmp.ino) {
    counts.placed++;
    return { dev: tmp.dev, ino: tmp.ino, tmpLeft: true, folderAt: undefined };
  }
  await unlink(request.tmp).catch(() => undefined);
  return undefined;
}

/**
 * Writes `bytes` as a new file at `target` through the temporary file `tmp` (paths through a
 * checked folder's descriptor), with `flags` and `mode` for its creation and `seconds` for its
 * times. Resolves with the placed file, or undefined when it was not placed (nothing left behind;
 * the caller writes it the usual way).
 */
export async function writeSmallFile(request: Omit<WriteRequest, "id" | "op">): Promise<SmallPlaced | undefined> {
  // A message copies a view's whole ArrayBuffer, and a small Buffer is a view of a shared slab
  // (Buffer.poolSize: 8 KiB on Node 20, 64 KiB on Node 24.22 and 26). The worker is handed a
  // copy of just these bytes, moved, not copied again; the caller keeps its own for the usual way.
  const bytes = new Uint8Array(request.bytes);
  const reply = await worker()?.send<WriteRequest>({ op: "write", ...request, bytes }, [bytes.buffer]);
  if (reply === undefined) return undefined;
  if ("code" in reply && reply.code === "EWORKER") return afterWorkerDied(request);
  if (!("placed" in reply) || !reply.placed) return undefined;
  counts.placed++;
  return { dev: reply.dev, ino: reply.ino, tmpLeft: reply.tmpLeft, folderAt: reply.folderAt };
}

/**
 * Reads the regular file at `path` (through a checked folder's descriptor, opened with `flags`)
 * whole, if it has at most `max` bytes and does not change while it is read. Undefined otherwise,
 * or on any error: the caller opens it the usual way, which tells what is wrong.
 */
export async function readSmallFile(path: string, flags: number, max: number): Promise<SmallRead | undefined> {
  const reply = await worker()?.send<ReadRequest>({ op: "read", path, flags, max });
  if (reply === undefined || !("read" in reply) || !reply.read) return undefined;
  counts.read++;
  return { bytes: reply.bytes, mtimeNs: reply.mtimeNs, dev: reply.dev };
}
