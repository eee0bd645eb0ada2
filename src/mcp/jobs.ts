/**
 * Background jobs: transfers that outlive the call that started them. A long tool called with
 * `background: true` checks and plans exactly as in the foreground (a conflict is still the call's
 * own error), then hands its work here and answers at once with the job's id.
 *
 * At most MAX_RUNNING_JOBS run at once; the rest wait, in order. Jobs live as long as the server
 * process: stop() cancels them cleanly (each transfer leaves no partial file and aborts its
 * multipart uploads) and waits for them, so repeating the original call finishes the work.
 *
 * Independent of the MCP SDK: work is cancelled through an AbortSignal and reports progress
 * through a callback; a finished job is logged through the server's logger.
 */
import { randomBytes } from "node:crypto";
import { q, StorageError } from "../core/errors.js";
import type { TransferProgress } from "../core/transfer/index.js";
import type { Logger } from "./log.js";
import { asStorageError, counted, errorText } from "./results.js";

export const MAX_RUNNING_JOBS = 4;
/** Finished jobs kept for transfer_status; the oldest finished go first beyond this. */
const KEPT_FINISHED = 200;

export const JOB_STATES = ["queued", "running", "succeeded", "failed", "cancelled"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** How a job's work ended: the result the foreground call would have returned. */
export interface JobOutcome {
  /** The structured content of that result (of its error result, when it failed). */
  structured?: Record<string, unknown>;
  text: string;
  /** Present when the work failed or was cancelled. */
  error?: StorageError;
}

export interface JobWork {
  tool: string;
  bytesTotal: number;
  filesTotal: number;
  /** The arguments of the call that started it (so a status says which transfer this is). */
  arguments: Record<string, unknown>;
  /** Does the work. A failure may be thrown or returned as an outcome with `error`. */
  run(signal: AbortSignal, onProgress: (progress: TransferProgress) => void): Promise<JobOutcome>;
  /** Where its finish is logged: the logger of the call that started it (else the server's). */
  log?: Logger;
}

/** A job as transfer_status and cancel_transfer report it. */
export interface JobStatus {
  job_id: string;
  tool: string;
  state: JobState;
  arguments: Record<string, unknown>;
  started_at: string;
  finished_at?: string;
  bytes_done: number;
  bytes_total: number;
  files_done: number;
  files_total: number;
  result?: Record<string, unknown>;
  error?: { code: string; message: string; key?: string; path?: string };
  /** One readable line: the state, the counts, and the outcome's text once finished. */
  summary: string;
}

interface Job {
  id: string;
  work: JobWork;
  state: JobState;
  startedAt: Date;
  finishedAt?: Date;
  progress: TransferProgress;
  outcome?: JobOutcome;
  controller: AbortController;
  /** Settles when the job has finished (never rejects). */
  done: Promise<void>;
  settle: () => void;
}

export class Jobs {
  private readonly jobs = new Map<string, Job>();
  private readonly queue: Job[] = [];
  private running = 0;
  private stopping = false;

  constructor(
    private readonly log: Logger,
    private readonly maxRunning = MAX_RUNNING_JOBS,
  ) {}

  /** Accepts the work; it runs now if fewer than maxRunning jobs are running, else it waits its turn. */
  start(work: JobWork): JobStatus {
    if (this.stopping)
      throw new StorageError("unavailable", "the server is stopping and starts no new job; repeat the call once it is back");
    let id: string;
    do id = `job-${randomBytes(4).toString("hex")}`;
    while (this.jobs.has(id));
    let settle = () => {};
    const done = new Promise<void>((resolve) => {
      settle = resolve;
    });
    const job: Job = {
      id,
      work,
      state: "queued",
      startedAt: new Date(),
      progress: { bytesDone: 0, bytesTotal: work.bytesTotal, filesDone: 0, filesTotal: work.filesTotal },
      controller: new AbortController(),
      done,
      settle,
    };
    this.jobs.set(id, job);
    this.queue.push(job);
    this.pump();
    this.forgetOldest();
    return statusOf(job);
  }

  /** One job by id; not_found for an id this server process never gave out (or has forgotten). */
  status(id: string): JobStatus {
    return statusOf(this.find(id));
  }

  /** Every job this server process knows, oldest first. */
  list(): JobStatus[] {
    return [...this.jobs.values()].map(statusOf);
  }

  /**
   * Stops a job: a queued one never starts; a running one is aborted and this waits until it has
   * cleaned up (no partial files, multipart uploads aborted). A finished job is left as it is.
   */
  async cancel(id: string): Promise<JobStatus> {
    const job = this.find(id);
    if (job.state === "queued") this.cancelQueued(job);
    else if (job.state === "running") job.controller.abort(new StorageError("cancelled", "cancelled by cancel_transfer"));
    await job.done;
    return statusOf(job);
  }

  /** For the server's exit: no new jobs; every queued one cancelled, every running one cancelled and awaited. */
  async stop(): Promise<void> {
    this.stopping = true;
    for (const job of [...this.queue]) this.cancelQueued(job);
    const running = [...this.jobs.values()].filter((j) => j.state === "running");
    for (const job of running) job.controller.abort(new StorageError("cancelled", "the server is stopping"));
    await Promise.all(running.map((j) => j.done));
  }

  private find(id: string): Job {
    const job = this.jobs.get(id);
    if (!job) {
      throw new StorageError(
        "not_found",
        `job_id ${q(id)} is not a job of this server; jobs last as long as the server process (transfer_status without job_id lists them). If the server restarted, repeat the original call: it skips what is already identical`,
      );
    }
    return job;
  }

  private pump(): void {
    while (this.running < this.maxRunning && this.queue.length > 0) {
      const job = this.queue.shift() as Job;
      this.launch(job);
    }
  }

  private launch(job: Job): void {
    this.running++;
    job.state = "running";
    const onProgress = (p: TransferProgress) => {
      job.progress = { ...p };
    };
    void job.work
      .run(job.controller.signal, onProgress)
      .catch((err: unknown): JobOutcome => {
        const error = asStorageError(err);
        return { text: errorText(error), error };
      })
      .then((outcome) => {
        this.running--;
        this.finish(job, outcome);
        this.pump();
      });
  }

  private cancelQueued(job: Job): void {
    this.queue.splice(this.queue.indexOf(job), 1);
    const error = new StorageError("cancelled", "the job was cancelled before it started; nothing was transferred");
    this.finish(job, { text: errorText(error), error });
  }

  private finish(job: Job, outcome: JobOutcome): void {
    job.outcome = outcome;
    job.state = outcome.error === undefined ? "succeeded" : outcome.error.kind === "cancelled" ? "cancelled" : "failed";
    job.finishedAt = new Date();
    (job.work.log ?? this.log)("info", `job ${job.id} (${job.work.tool}) ${job.state}: ${outcome.text}`, {
      job_id: job.id,
      tool: job.work.tool,
      state: job.state,
    });
    job.settle();
  }

  private forgetOldest(): void {
    const finished = [...this.jobs.values()].filter((j) => j.finishedAt !== undefined);
    for (const job of finished.slice(0, Math.max(0, finished.length - KEPT_FINISHED))) this.jobs.delete(job.id);
  }
}

function statusOf(job: Job): JobStatus {
  const p = job.progress;
  const status: JobStatus = {
    job_id: job.id,
    tool: job.work.tool,
    state: job.state,
    arguments: job.work.arguments,
    started_at: job.startedAt.toISOString(),
    bytes_done: p.bytesDone,
    bytes_total: Math.max(p.bytesTotal, p.bytesDone),
    files_done: p.filesDone,
    files_total: p.filesTotal,
    summary: "",
  };
  if (job.finishedAt) status.finished_at = job.finishedAt.toISOString();
  const outcome = job.outcome;
  if (outcome?.structured) status.result = outcome.structured;
  if (outcome?.error) {
    const e = outcome.error;
    const fromResult = outcome.structured?.error as JobStatus["error"] | undefined;
    status.error = fromResult ?? {
      code: e.kind,
      message: errorText(e).slice(e.kind.length + 2),
      ...(e.key !== undefined ? { key: e.key } : {}),
      ...(e.path !== undefined ? { path: e.path } : {}),
    };
  }
  const counts = `${status.files_done} of ${counted(status.files_total, "file")}, ${status.bytes_done} of ${counted(status.bytes_total, "byte")}`;
  status.summary = `${job.id} ${job.work.tool}: ${job.state}, ${counts}${outcome ? `; ${outcome.text}` : ""}`;
  return status;
}
