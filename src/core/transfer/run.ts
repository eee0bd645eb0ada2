/**
 * Carrying out a transfer: the worker pool that runs planned copies and reports exactly what
 * happened when one fails, and the progress counts sent while it runs.
 */
import { getMaxListeners, setMaxListeners } from "node:events";
import pMap from "p-map";
import { cancelledError, q, StorageError } from "../errors.js";
import { fromFsError } from "../fs/errors.js";

export interface TransferProgress {
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
}

/** How a prepared transfer runs: its own cancellation and progress (a background job's, or the call's). */
export interface RunOptions {
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
}

/**
 * A transfer checked and planned (arguments, roots, every destination, conflicts), not yet started:
 * what it will move, and the work itself. The caller runs it at once, or later as a background job.
 */
export interface PreparedTransfer<R> {
  /** The answer when there is nothing to run (a dry run). */
  readonly answered?: R;
  readonly bytesTotal: number;
  readonly filesTotal: number;
  run(options?: RunOptions): Promise<R>;
}

/** A transfer answered while it was prepared (a dry run): nothing to run. */
export function answered<R>(result: R): PreparedTransfer<R> {
  return { answered: result, bytesTotal: 0, filesTotal: 0, run: async () => result };
}

/** Runs a prepared transfer now (the foreground form of every transfer). */
export function runPrepared<R>(prepared: PreparedTransfer<R>, options: RunOptions): Promise<R> {
  return prepared.run(options);
}

export const DEFAULT_MAX_WORKERS = 8;
export const MAX_WORKERS = 64;

export function checkMaxWorkers(value: number | undefined): number {
  const workers = value ?? DEFAULT_MAX_WORKERS;
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_WORKERS) {
    throw new StorageError("invalid_argument", `max_workers must be an integer from 1 to ${MAX_WORKERS}; got ${value}`);
  }
  return workers;
}

/**
 * Bytes and files done across every copy of one call. Each copy reports its own running total and
 * the last one per item counts, so a copy whose count goes back (a retried body) is not counted twice.
 */
export class ProgressTracker {
  private readonly done = new Map<string, number>();
  private bytesDone = 0;
  private filesDone = 0;
  constructor(
    private bytesTotal: number,
    private readonly filesTotal: number,
    private readonly onProgress?: (progress: TransferProgress) => void,
  ) {}
  /** For a single download, whose size is known only once the GET has answered. */
  setBytesTotal(bytesTotal: number): void {
    this.bytesTotal = bytesTotal;
  }
  bytes(item: string, bytes: number): void {
    this.bytesDone += bytes - (this.done.get(item) ?? 0);
    this.done.set(item, bytes);
    this.emit();
  }
  fileDone(item: string, size: number): void {
    this.bytes(item, size);
    this.filesDone++;
    this.emit();
  }
  private emit(): void {
    this.onProgress?.({
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      filesDone: this.filesDone,
      filesTotal: this.filesTotal,
    });
  }
}

/**
 * Runs the planned copies with bounded concurrency. After the first failure no new copy starts,
 * but the ones in flight run to their end (each is atomic: a whole object or file, or nothing), so
 * the error can say exactly which completed, which failed and which never started; repeating the
 * call then skips the completed ones as identical and finishes the job.
 */
export async function runPlan<T>(
  items: T[],
  name: (item: T) => string,
  copy: (item: T) => Promise<number>,
  workers: number,
  signal: AbortSignal | undefined,
): Promise<{ items: string[]; bytes: number }> {
  const done: string[] = [];
  const failed: { item: string; error: StorageError }[] = [];
  const notStarted: string[] = [];
  let bytes = 0;
  // Every copy in flight (and each of its ranges and retries) listens to the one signal: raise
  // Node's leak warning threshold to what this pool can legitimately add.
  if (signal) setMaxListeners(Math.max(getMaxListeners(signal), workers * 32), signal);
  await pMap(
    items,
    async (item) => {
      if (failed.length > 0 || signal?.aborted) {
        notStarted.push(name(item));
        return;
      }
      try {
        // Not `bytes += await copy(item)`: that reads `bytes` before awaiting and loses the
        // bytes of every copy that finished in between.
        const copied = await copy(item);
        bytes += copied;
        done.push(name(item));
      } catch (err) {
        const error = signal?.aborted ? cancelledError(err) : err instanceof StorageError ? err : fromFsError(err, name(item));
        failed.push({ item: name(item), error });
      }
    },
    { concurrency: workers },
  );
  const first = failed[0]?.error;
  if (first === undefined && !signal?.aborted) return { items: done, bytes };
  throw incompleteRunError(first, signal, { total: items.length, done, failed, notStarted, bytes });
}

/** The first failure (or the cancellation), restated with what the run did and did not do. */
function incompleteRunError(
  first: StorageError | undefined,
  signal: AbortSignal | undefined,
  run: { total: number; done: string[]; failed: { item: string; error: StorageError }[]; notStarted: string[]; bytes: number },
): StorageError {
  const { done, failed, notStarted } = run;
  const base = signal?.aborted || first === undefined ? cancelledError(first ?? signal?.reason) : first;
  const shown = failed
    .slice(0, 10)
    .map((f) => `${q(f.item)} (${f.error.kind})`)
    .join(", ");
  const failedText = failed.length > 0 ? `; failed: ${shown}${failed.length > 10 ? ` and ${failed.length - 10} more` : ""}` : "";
  return new StorageError(
    base.kind,
    `${base.message} (${done.length} of ${run.total} completed${failedText}; ${notStarted.length} not started; repeat the call to finish: completed files are skipped as identical)`,
    {
      ...(base.key !== undefined ? { key: base.key } : {}),
      ...(base.path !== undefined ? { path: base.path } : {}),
      cause: base.cause ?? base,
      details: {
        ...base.details,
        completed: done,
        bytes: run.bytes,
        failed: failed.map((f) => f.item),
        failures: failed.map((f) => ({ item: f.item, code: f.error.kind, message: f.error.message })),
        notStarted,
      },
    },
  );
}
