/**
 * The job registry on its own (src/mcp/jobs.ts): work here is a promise the test settles, so the
 * queue, cancellation and stop can be checked step by step. The same behaviours over stdio, with
 * real transfers, are in test/faults/jobs.test.ts.
 */
import { describe, expect, it, vi } from "vitest";
import { StorageError } from "../../src/core/errors.js";
import { type JobOutcome, Jobs, type JobWork } from "../../src/mcp/jobs.js";
import { rejectionOf } from "../helpers/assert.js";

interface Logged {
  level: string;
  message: string;
  data?: Record<string, unknown>;
}

/** Work that runs until the test finishes it, or until its signal is aborted (then: cancelled). */
function controlled(tool = "upload_directory") {
  let finish: (outcome: JobOutcome) => void = () => {};
  let fail: (err: unknown) => void = () => {};
  const calls = { started: 0, signal: undefined as AbortSignal | undefined, progress: (_: number) => {} };
  const work: JobWork = {
    tool,
    arguments: { prefix: "p" },
    bytesTotal: 100,
    filesTotal: 4,
    run(signal, onProgress) {
      calls.started++;
      calls.signal = signal;
      calls.progress = (files) => onProgress({ bytesDone: files * 25, bytesTotal: 100, filesDone: files, filesTotal: 4 });
      return new Promise<JobOutcome>((resolve, reject) => {
        finish = resolve;
        fail = reject;
        signal.addEventListener("abort", () => {
          const error = new StorageError("cancelled", "the operation was cancelled (1 of 4 completed)");
          resolve({ structured: { uploaded: 1 }, text: `cancelled: ${error.message}`, error });
        });
      });
    },
  };
  return { work, calls, finish: (o: JobOutcome) => finish(o), fail: (e: unknown) => fail(e) };
}

function registry(maxRunning = 2) {
  const logged: Logged[] = [];
  const jobs = new Jobs((level, message, data) => logged.push({ level, message, ...(data ? { data } : {}) }), maxRunning);
  return { jobs, logged };
}

describe("Jobs", () => {
  it("runs at most maxRunning at once; the rest wait and start in order as jobs finish", async () => {
    const { jobs } = registry(2);
    const works = [controlled(), controlled(), controlled(), controlled()];
    const ids = works.map((w) => jobs.start(w.work));
    expect(ids.map((j) => j.state)).toEqual(["running", "running", "queued", "queued"]);
    expect(works.map((w) => w.calls.started)).toEqual([1, 1, 0, 0]);

    works[1]!.finish({ structured: { uploaded: 4 }, text: "uploaded 4 file(s)" });
    await vi.waitFor(() => expect(jobs.list().map((j) => j.state)).toEqual(["running", "succeeded", "running", "queued"]));
    // Cancelling a finished job leaves it as it is.
    expect(await jobs.cancel(ids[1]!.job_id)).toMatchObject({ state: "succeeded", result: { uploaded: 4 } });
    expect(works[2]!.calls.started).toBe(1);
    expect(works[3]!.calls.started).toBe(0);
  });

  it("reports progress, then the outcome: result, finish time, and a log line at info with the id and state", async () => {
    const { jobs, logged } = registry();
    const w = controlled();
    const { job_id } = jobs.start(w.work);
    expect(jobs.status(job_id)).toMatchObject({ state: "running", bytes_done: 0, bytes_total: 100, files_done: 0, files_total: 4 });
    w.calls.progress(2);
    expect(jobs.status(job_id)).toMatchObject({ bytes_done: 50, files_done: 2 });
    w.finish({ structured: { uploaded: 4 }, text: "uploaded 4 file(s)" });
    await vi.waitFor(() => expect(jobs.status(job_id).state).toBe("succeeded"));
    const done = jobs.status(job_id);
    expect(done).toMatchObject({ state: "succeeded", result: { uploaded: 4 } });
    expect(done.finished_at).toBeDefined();
    expect(done.error).toBeUndefined();
    expect(done.summary).toMatch(/succeeded.*uploaded 4 file\(s\)/);
    expect(logged).toEqual([
      { level: "info", message: expect.stringMatching(/succeeded/), data: { job_id, tool: "upload_directory", state: "succeeded" } },
    ]);
  });

  it("a failure is failed with its error; a thrown one counts as well", async () => {
    const { jobs } = registry();
    const a = controlled();
    const b = controlled();
    const ja = jobs.start(a.work);
    const jb = jobs.start(b.work);
    const error = new StorageError("unavailable", "the server did not answer (2 of 4 completed)");
    a.finish({ structured: { uploaded: 2, error: { code: "unavailable", message: error.message } }, text: "unavailable: ...", error });
    b.fail(new StorageError("access_denied", "no", { key: "k" }));
    await jobs.stop(); // nothing running any more: returns once both are settled
    expect(jobs.status(ja.job_id)).toMatchObject({ state: "failed", error: { code: "unavailable" }, result: { uploaded: 2 } });
    expect(jobs.status(jb.job_id)).toMatchObject({ state: "failed", error: { code: "access_denied", message: "no", key: "k" } });
  });

  it("cancel: a queued job never starts; a running one is aborted and awaited, and says what completed", async () => {
    const { jobs } = registry(1);
    const running = controlled();
    const queued = controlled();
    const r = jobs.start(running.work);
    const q = jobs.start(queued.work);
    const cancelledQueued = await jobs.cancel(q.job_id);
    expect(cancelledQueued).toMatchObject({ state: "cancelled", error: { code: "cancelled" }, files_done: 0 });
    expect(queued.calls.started).toBe(0);

    const cancelled = await jobs.cancel(r.job_id);
    expect(running.calls.signal?.aborted).toBe(true);
    expect(cancelled).toMatchObject({ state: "cancelled", result: { uploaded: 1 }, error: { code: "cancelled" } });
    expect(cancelled.error?.message).toMatch(/1 of 4 completed/);
    expect(queued.calls.started).toBe(0);
  });

  it("stop: cancels queued and running jobs, waits for them, and refuses new ones", async () => {
    const { jobs } = registry(1);
    const a = controlled();
    const b = controlled();
    jobs.start(a.work);
    jobs.start(b.work);
    await jobs.stop();
    expect(jobs.list().map((j) => j.state)).toEqual(["cancelled", "cancelled"]);
    expect(b.calls.started).toBe(0);
    const refused = await rejectionOf(() => jobs.start(controlled().work));
    expect(refused.kind).toBe("unavailable");
  });

  it("an unknown id is not_found, saying jobs last as long as the server process", async () => {
    const { jobs } = registry();
    const err = await rejectionOf(() => jobs.status("job-12345678"));
    expect(err.kind).toBe("not_found");
    expect(err.message).toMatch(/job_id "job-12345678".*server process/);
    expect((await rejectionOf(jobs.cancel("x"))).kind).toBe("not_found");
  });
});
