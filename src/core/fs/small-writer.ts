/**
 * Small downloaded files written by a worker thread, each in one message: the temporary file
 * created exclusively (never through a symlink), its bytes written, its times set, closed, then
 * linked to its name (which fails if anything has that name) and its temporary name removed, all
 * with synchronous calls on the worker's own thread. On the main thread the same sequence is six
 * operations of libuv's thread pool, each waking a pool thread and then the event loop: for a
 * 4 KiB file that wake-up traffic costs more than the calls themselves on a 2-core machine.
 *
 * Only that sequence's plain success is done here. Anything else (the name taken, a filesystem
 * without hard links, no space, a worker that cannot start or died) is answered "not placed",
 * with nothing left behind, and the caller writes the file the usual way (atomic-write.ts), which
 * reports or handles it. The paths are those of a checked folder's descriptor (CheckedDir.entry),
 * which the worker shares, so the file lands exactly where the main thread would put it.
 *
 * The worker is started from source text (eval), like hash-pool.ts.
 */
import { lstat, unlink } from "node:fs/promises";
import { Worker } from "node:worker_threads";

interface Request {
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
type Reply =
  | { id: number; placed: true; dev: number; ino: number; tmpLeft: boolean; folderAt: string | undefined }
  | { id: number; placed: false; code?: string };

/** What the worker needs of node:fs and its port. */
interface WriterScope {
  fs: {
    openSync(path: string, flags: number, mode: number): number;
    writeSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
    futimesSync(fd: number, atime: number, mtime: number): void;
    fstatSync(fd: number): { dev: number; ino: number };
    closeSync(fd: number): void;
    linkSync(from: string, to: string): void;
    unlinkSync(path: string): void;
    readlinkSync(path: string): string;
  };
  port: { on(event: "message", listener: (request: Request) => void): unknown; postMessage(reply: Reply): void };
}

/** The worker's code: one request, one file, one reply. */
function writerMain({ fs, port }: WriterScope): void {
  port.on("message", (r) => {
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
      port.postMessage({ id: r.id, placed: true, dev, ino, tmpLeft, folderAt });
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
      port.postMessage({ id: r.id, placed: false, ...(typeof code === "string" ? { code } : {}) });
    }
  });
}

// __name: what esbuild (tsx, vitest) may wrap around named functions when it keeps their names.
const WORKER_SOURCE = `"use strict";
const __name = (f) => f;
const fs = require("node:fs");
const { parentPort } = require("node:worker_threads");
(${writerMain.toString()})({ fs, port: parentPort });
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

class WriterWorker {
  readonly worker: Worker;
  private readonly pending = new Map<number, (reply: Reply) => void>();
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
      if (this.pending.size === 0) this.worker.unref();
      answer(reply);
    });
    const gone = () => {
      if (this.dead) return;
      this.dead = true;
      if (writer === this) writer = undefined;
      for (const answer of this.pending.values()) answer({ id: 0, placed: false, code: "EWORKER" });
      this.pending.clear();
    };
    this.worker.on("error", gone);
    this.worker.on("exit", gone);
  }

  write(request: Omit<Request, "id">): Promise<Reply> {
    const id = this.nextId++;
    if (this.pending.size === 0) this.worker.ref();
    return new Promise<Reply>((resolve) => {
      this.pending.set(id, resolve);
      this.worker.postMessage({ ...request, id });
    });
  }
}

let writer: WriterWorker | undefined;
/** Set once a worker could not be started: every file then goes the usual way. */
let unavailable = false;
let placedCount = 0;

/** How many files the writer thread has put in place in this process. */
export function smallFilesPlaced(): number {
  return placedCount;
}

/**
 * Ends the writer thread (a new one starts with the next file); files being written by it are
 * answered "not placed". Tests use it to stand in for a worker that died.
 */
export async function stopSmallWriter(): Promise<void> {
  const current = writer;
  if (current === undefined) return;
  await current.worker.terminate();
}

/**
 * Writes `bytes` as a new file at `target` through the temporary file `tmp` (paths through a
 * checked folder's descriptor), with `flags` and `mode` for its creation and `seconds` for its
 * times. Resolves with the placed file, or undefined when it was not placed (nothing left behind;
 * the caller writes it the usual way).
 */
/**
 * The worker died while writing this file (terminated, out of memory): whatever it got to is
 * found from the two names. Linked already: placed. Only the temporary file: removed, not placed.
 */
async function afterWorkerDied(request: Omit<Request, "id">): Promise<SmallPlaced | undefined> {
  const [tmp, target] = await Promise.all([lstat(request.tmp).catch(() => undefined), lstat(request.target).catch(() => undefined)]);
  if (tmp === undefined) return undefined;
  if (target !== undefined && target.dev === tmp.dev && target.ino === tmp.ino) {
    placedCount++;
    return { dev: tmp.dev, ino: tmp.ino, tmpLeft: true, folderAt: undefined };
  }
  await unlink(request.tmp).catch(() => undefined);
  return undefined;
}

export async function writeSmallFile(request: Omit<Request, "id">): Promise<SmallPlaced | undefined> {
  if (unavailable) return undefined;
  if (writer === undefined || writer.dead) {
    try {
      writer = new WriterWorker();
    } catch {
      unavailable = true;
      return undefined;
    }
  }
  const reply = await writer.write(request);
  if (!reply.placed && reply.code === "EWORKER") return afterWorkerDied(request);
  if (!reply.placed) return undefined;
  placedCount++;
  return { dev: reply.dev, ino: reply.ino, tmpLeft: reply.tmpLeft, folderAt: reply.folderAt };
}
