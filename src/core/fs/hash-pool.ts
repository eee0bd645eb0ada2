/**
 * MD5 of byte ranges of an open file, computed off the main thread: a small pool of worker threads
 * reads the ranges back by positional reads (from the page cache: they were just written) and
 * hashes them, so a large download's hashing uses the second core instead of holding up the event
 * loop that moves its bytes. The pool is created on first use, and a worker keeps the process
 * alive only while a hash is open on it.
 *
 * The worker is started from source text (eval), so it needs no file of its own beside the
 * compiled code: the same code runs from dist/, from src under tsx or vitest, and in the bundle.
 */
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/** An "add" of a range of `fd`, an "end" that asks for the digests (and forgets the hash). */
type Request = { op: "add"; id: number; fd: number; position: number; length: number; partSize: number } | { op: "end"; id: number };
type Reply = { id: number; digests: Uint8Array[] } | { id: number; error: string; code?: string };

/** What a worker needs of node:fs, node:crypto and its port (the types of its source below). */
interface WorkerScope {
  readSync(fd: number, buffer: Uint8Array, offset: number, length: number, position: number): number;
  createHash(algorithm: "md5"): { update(data: Uint8Array): unknown; digest(): Uint8Array };
  port: { on(event: "message", listener: (request: Request) => void): unknown; postMessage(reply: Reply): void };
}

/**
 * The worker's code. Requests of one hash arrive in order; a hash is either one MD5 of every byte
 * added (partSize 0), or one MD5 per `partSize` bytes. A read that fails is kept and told at "end".
 */
function workerMain({ readSync, createHash, port }: WorkerScope): void {
  type State = { hash: ReturnType<WorkerScope["createHash"]>; inPart: number; digests: Uint8Array[]; partSize: number; error?: Reply };
  const states = new Map<number, State>();
  const buffer = new Uint8Array(1024 * 1024);
  const stateOf = (id: number, partSize: number): State => {
    let state = states.get(id);
    if (state === undefined) {
      state = { hash: createHash("md5"), inPart: 0, digests: [], partSize };
      states.set(id, state);
    }
    return state;
  };
  const feed = (state: State, bytes: Uint8Array) => {
    let rest = bytes;
    while (rest.length > 0) {
      const take = state.partSize > 0 ? Math.min(rest.length, state.partSize - state.inPart) : rest.length;
      state.hash.update(take === rest.length ? rest : rest.subarray(0, take));
      state.inPart += take;
      rest = rest.subarray(take);
      if (state.partSize > 0 && state.inPart === state.partSize) {
        state.digests.push(state.hash.digest());
        state.hash = createHash("md5");
        state.inPart = 0;
      }
    }
  };
  port.on("message", (request) => {
    if (request.op === "add") {
      const state = stateOf(request.id, request.partSize);
      if (state.error) return;
      let position = request.position;
      let left = request.length;
      try {
        while (left > 0) {
          const read = readSync(request.fd, buffer, 0, Math.min(left, buffer.length), position);
          if (read === 0)
            throw Object.assign(new Error(`the file ended at byte ${position} while it was being hashed`), { code: "ESHORT" });
          feed(state, buffer.subarray(0, read));
          position += read;
          left -= read;
        }
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        state.error = { id: request.id, error: String((err as Error).message), ...(typeof code === "string" ? { code } : {}) };
      }
      return;
    }
    const state = stateOf(request.id, 0);
    states.delete(request.id);
    if (state.error) return port.postMessage(state.error);
    if (state.partSize === 0 || state.inPart > 0 || state.digests.length === 0) state.digests.push(state.hash.digest());
    port.postMessage({ id: request.id, digests: state.digests });
  });
}

// __name: what esbuild (tsx, vitest) may wrap around named functions when it keeps their names.
const WORKER_SOURCE = `"use strict";
const __name = (f) => f;
const { readSync } = require("node:fs");
const { createHash } = require("node:crypto");
const { parentPort } = require("node:worker_threads");
(${workerMain.toString()})({ readSync, createHash, port: parentPort });
`;

/** Workers at most: the main thread keeps a core for the network and the writes. */
const POOL_SIZE = Math.max(1, Math.min(2, availableParallelism() - 1));

interface Pending {
  resolve: (digests: Buffer[]) => void;
  reject: (err: Error) => void;
}

class HashWorker {
  readonly worker: Worker;
  /** Hashes open on this worker: while there is one, the worker holds the process open. */
  open = 0;
  readonly pending = new Map<number, Pending>();
  dead = false;

  constructor(private readonly onGone: (w: HashWorker) => void) {
    // No flags of this process (a loader, --input-type=module): the source is a plain CommonJS script.
    this.worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], name: "r2-mcp md5" });
    this.worker.unref();
    this.worker.on("message", (reply: Reply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      this.pending.delete(reply.id);
      this.release();
      if ("error" in reply) pending.reject(Object.assign(new Error(reply.error), reply.code ? { code: reply.code } : {}));
      else pending.resolve(reply.digests.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength)));
    });
    const gone = (err: Error) => {
      if (this.dead) return;
      this.dead = true;
      this.onGone(this);
      for (const pending of this.pending.values()) pending.reject(err);
      this.pending.clear();
    };
    this.worker.on("error", gone);
    this.worker.on("exit", (code) => gone(new Error(`the hashing worker stopped (exit code ${code})`)));
  }

  post(request: Request): void {
    this.worker.postMessage(request);
  }

  acquire(): void {
    if (this.open++ === 0) this.worker.ref();
  }

  private release(): void {
    if (--this.open === 0) this.worker.unref();
  }
}

const workers: HashWorker[] = [];
let nextId = 1;

function pickWorker(): HashWorker {
  let best: HashWorker | undefined;
  for (const w of workers) if (best === undefined || w.open < best.open) best = w;
  if (best !== undefined && (best.open === 0 || workers.length >= POOL_SIZE)) return best;
  const created = new HashWorker((w) => {
    const at = workers.indexOf(w);
    if (at !== -1) workers.splice(at, 1);
  });
  workers.push(created);
  return created;
}

/** The MD5 of ranges of a file, hashed in order by a worker thread as they are added. */
export interface RangeHash {
  /**
   * Hashes bytes [position, position + length) of the file, after those added before. Call it
   * only once they are written; the file must stay open until `digests` has settled.
   */
  add(position: number, length: number): void;
  /**
   * The MD5 of everything added, or with `partSize` one MD5 per `partSize` bytes (the last part
   * may be shorter). Call it exactly once, on failure paths too: the worker is done with the file
   * when it settles.
   */
  digests(): Promise<Buffer[]>;
}

export function hashFileRanges(fd: number, partSize?: number): RangeHash {
  const worker = pickWorker();
  const id = nextId++;
  worker.acquire();
  const result = new Promise<Buffer[]>((resolve, reject) => worker.pending.set(id, { resolve, reject }));
  // Settled even if never asked for (a dead worker rejects it): no unhandled rejection.
  result.catch(() => undefined);
  let ended = false;
  return {
    add(position, length) {
      if (ended) throw new Error("hashFileRanges: add after digests");
      if (length > 0 && !worker.dead) worker.post({ op: "add", id, fd, position, length, partSize: partSize ?? 0 });
    },
    digests() {
      if (!ended) {
        ended = true;
        if (!worker.dead) worker.post({ op: "end", id });
      }
      return result;
    },
  };
}
