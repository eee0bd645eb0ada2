/**
 * Background jobs end to end: the built CLI over stdio, in front of the fault proxy and the real
 * local S3 server, and beside it an embedded local store (the server's second bucket, "local").
 *
 * To keep a job observable without timing, the proxy HOLDS chosen requests (a gate: each waits
 * until the test lets it through), so a job is provably mid-transfer while the test looks at it.
 * The local store makes no requests; its jobs are held instead by queueing them behind four held
 * S3 jobs. Every wait is a bounded poll; nothing asserts on time. Run `npm run build` first.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { setTimeout as pause } from "node:timers/promises";
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import * as z from "zod";
import { jobStartShape } from "../../src/mcp/tool.js";
import { cancelTransfer } from "../../src/mcp/tools/cancel-transfer.js";
import { copyObjects } from "../../src/mcp/tools/copy-objects.js";
import { deleteObjects } from "../../src/mcp/tools/delete-objects.js";
import { downloadDirectory } from "../../src/mcp/tools/download-directory.js";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { transferStatus } from "../../src/mcp/tools/transfer-status.js";
import { uploadBytes } from "../../src/mcp/tools/upload-bytes.js";
import { uploadDirectory } from "../../src/mcp/tools/upload-directory.js";
import { uploadFile } from "../../src/mcp/tools/upload-file.js";
import { MIB, md5Hex } from "../helpers/bytes.js";
import { call, callError, callOk, structured } from "../helpers/calls.js";
import type { RequestFilter } from "../helpers/fault-proxy.js";
import { killChildren } from "../helpers/run-cli.js";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { baseEnv, type RunningServer, startClient } from "../helpers/start-client.js";
import { filesUnder, partFiles, writeTree } from "../helpers/tmp.js";
import { type FaultRig, startFaultRig } from "./setup.js";

let rig: FaultRig;
let raw: S3Client;
const running: RunningServer[] = [];
const gates: Gate[] = [];

beforeAll(async () => {
  rig = await startFaultRig();
  raw = rig.server.rawClient();
});
afterEach(async () => {
  for (const gate of gates.splice(0)) gate.release();
  rig.proxy.clearFaults();
  await Promise.all(running.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await killChildren();
  raw?.destroy();
  await rig?.close();
});

/**
 * Requests matching a filter wait at the proxy until let through: `let(n)` passes the next n
 * (held or still to come), `release()` passes everything from then on.
 */
class Gate {
  private permits = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly removeRule: () => void;
  constructor(filter: RequestFilter) {
    const rule = rig.proxy.inject({ ...filter, fault: { kind: "delay", ms: 0 }, before: () => this.pass() });
    this.removeRule = () => rule.remove();
    gates.push(this);
  }
  /** Requests waiting now. */
  get held(): number {
    return this.waiting.length;
  }
  let(n: number): void {
    for (let i = 0; i < n; i++) {
      const next = this.waiting.shift();
      if (next) next();
      else this.permits++;
    }
  }
  release(): void {
    this.permits = Number.POSITIVE_INFINITY;
    for (const next of this.waiting.splice(0)) next();
    this.removeRule();
  }
  private pass(): Promise<void> {
    if (this.permits > 0) {
      this.permits--;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }
}

/** A bounded poll: asks until `ok`, at most 400 times, 25 ms apart. */
async function until<T>(ask: () => Promise<T> | T, ok: (value: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 400; i++) {
    last = await ask();
    if (ok(last)) return last;
    await pause(25);
  }
  throw new Error(`gave up waiting for ${what}; last seen: ${JSON.stringify(last)}`);
}

/**
 * The CLI over the fault proxy; with `local`, an embedded local store beside it (bucket "local");
 * with `archive`, a read-only local store too (bucket "archive", then the default: config first).
 */
async function cli(options: { local?: boolean; archive?: boolean } = {}): Promise<RunningServer> {
  const args = ["--bucket", rig.server.bucket, "--endpoint", rig.proxy.endpoint, "--region", rig.server.region];
  args.push("--max-attempts", "2", "--root", rig.tmp.path);
  if (options.local) args.push("--local", path.join(rig.tmp.path, "store"));
  if (options.archive) {
    const config = path.join(rig.tmp.path, "archive.json");
    const archive = { name: "archive", local: path.join(rig.tmp.path, "archive-store"), read_only: true };
    await mkdir(archive.local, { recursive: true });
    await writeFile(config, JSON.stringify({ buckets: [archive] }));
    args.push("--config", config);
  }
  const server = await startClient({
    args,
    cwd: rig.tmp.path,
    env: baseEnv({ R2_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY }),
    // The client validates every structured result against the output schemas.
    listTools: true,
    logLevel: "info",
  });
  running.push(server);
  return server;
}

const startedShape = { ...jobStartShape, bucket: z.string().optional() };

/** Starts a tool in the background; the answer is only the job. */
async function startJob(server: RunningServer, tool: string, args: Record<string, unknown>): Promise<{ job_id: string; state: string }> {
  const result = await call(server.client, tool, { ...args, background: true });
  if (result.isError) throw new Error(`${tool} failed: ${JSON.stringify(result.content)}`);
  const started = structured(result, startedShape, tool);
  expect(started.job_id).toMatch(/^job-[0-9a-f]{8}$/);
  return started as { job_id: string; state: string };
}

type Job = Awaited<ReturnType<typeof status>>;

async function status(server: RunningServer, jobId: string) {
  const { jobs } = await callOk(server.client, transferStatus, { job_id: jobId });
  expect(jobs).toHaveLength(1);
  return jobs[0]!;
}

async function allJobs(server: RunningServer) {
  return (await callOk(server.client, transferStatus, {})).jobs;
}

function finished(job: Job): boolean {
  return job.state !== "queued" && job.state !== "running";
}

const until_finished = (server: RunningServer, jobId: string) => until(() => status(server, jobId), finished, `${jobId} to finish`);

/** The foreground result with one destination's names changed to another's. */
function renamed<T>(value: T, from: string, to: string): T {
  return JSON.parse(JSON.stringify(value).replaceAll(from, to)) as T;
}

async function putObjects(prefix: string, count: number, size: number): Promise<Map<string, Buffer>> {
  const contents = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const name = `obj-${i}.bin`;
    const body = randomBytes(size);
    contents.set(name, body);
    await raw.send(new PutObjectCommand({ Bucket: rig.server.bucket, Key: `${prefix}/${name}`, Body: body }));
  }
  return contents;
}

async function objectExists(key: string): Promise<boolean> {
  return raw.send(new HeadObjectCommand({ Bucket: rig.server.bucket, Key: key })).then(
    () => true,
    () => false,
  );
}

function finishLogged(server: RunningServer, jobId: string, state: string) {
  return until(
    () => server.logMessages,
    (messages) =>
      messages.some(
        (m) =>
          m.level === "info" &&
          (m.data as { job_id?: string; state?: string }).job_id === jobId &&
          (m.data as { state?: string }).state === state,
      ),
    `a log message for ${jobId} ${state}`,
  );
}

describe("background jobs over stdio, s3 backend behind the proxy", () => {
  it("upload_directory: returns the job at once, its status counts the files let through, other tools answer meanwhile, it succeeds with the foreground result and is logged", async () => {
    const server = await cli();
    const dir = path.join(rig.tmp.path, "up-src");
    const files: Record<string, Buffer> = {};
    for (let i = 0; i < 6; i++) files[`f${i}.txt`] = randomBytes(1000 + i * 100);
    await writeTree(dir, files);
    const total = Object.values(files).reduce((n, b) => n + b.length, 0);
    const gate = new Gate({ op: "PutObject", key: /^up\/bg\// });

    const started = await startJob(server, "upload_directory", { local_dir: dir, prefix: "up/bg", max_workers: 1 });
    expect(started.state).toBe("running");
    const first = await status(server, started.job_id);
    expect(first).toMatchObject({
      tool: "upload_directory",
      state: "running",
      files_done: 0,
      files_total: 6,
      bytes_total: total,
    });
    // With one worker, at most the first file's bytes have been sent (the proxy holds its answer).
    expect(first.bytes_done).toBeLessThanOrEqual(Math.max(...Object.values(files).map((b) => b.length)));
    expect(first.arguments).toMatchObject({ local_dir: dir, prefix: "up/bg", max_workers: 1 });
    expect(first.finished_at).toBeUndefined();
    expect(first.result).toBeUndefined();

    // The job is held at its first PUT: the server answers other tools meanwhile.
    await until(
      () => gate.held,
      (n) => n === 1,
      "the first PUT held",
    );
    const listed = await callOk(server.client, listObjects, { prefix: "up/" });
    expect(listed.objects).toEqual([]);

    gate.let(2);
    const progressed = await until(
      () => status(server, started.job_id),
      (j) => j.files_done === 2,
      "2 files done",
    );
    expect(progressed.state).toBe("running");
    expect(progressed.bytes_done).toBeGreaterThan(0);
    expect(progressed.bytes_done).toBeLessThan(total);

    gate.release();
    const done = await until_finished(server, started.job_id);
    expect(done).toMatchObject({ state: "succeeded", files_done: 6, files_total: 6, bytes_done: total });
    expect(Date.parse(done.finished_at!)).toBeGreaterThanOrEqual(Date.parse(done.started_at));
    await finishLogged(server, started.job_id, "succeeded");

    const foreground = await callOk(server.client, uploadDirectory, { local_dir: dir, prefix: "up/fg", max_workers: 1 });
    expect(done.result).toEqual(renamed(foreground, "up/fg/", "up/bg/"));
    expect(foreground.uploaded).toBe(6);
  });

  it("conflicts and bad arguments are the call's own error: no job is created and nothing is written", async () => {
    const server = await cli({ local: true, archive: true });
    const s3 = rig.server.bucket;
    const dir = path.join(rig.tmp.path, "conflict-src");
    await writeTree(dir, { "x.txt": "mine", "y.txt": "new" });
    await raw.send(new PutObjectCommand({ Bucket: s3, Key: "cf/x.txt", Body: "theirs" }));
    await callOk(server.client, uploadFile, { local_path: path.join(dir, "y.txt"), key: "cf/x.txt", bucket: "local" });
    await writeFile(path.join(dir, "taken.bin"), "local file");
    const putsBefore = rig.proxy.count({ op: ["PutObject", "CreateMultipartUpload"] });

    for (const bucket of [s3, "local"]) {
      const upload = await callError(server.client, "upload_directory", { local_dir: dir, prefix: "cf", background: true, bucket });
      expect(upload.text).toMatch(/^already_exists: .*cf\/x\.txt/);
      expect(upload.structuredContent).toMatchObject({ conflicts: ["cf/x.txt"], uploaded: 0 });
      const single = await callError(server.client, "upload_file", {
        local_path: path.join(dir, "x.txt"),
        key: "cf/x.txt",
        background: true,
        bucket,
      });
      expect(single.text).toMatch(/^already_exists: "cf\/x\.txt" exists/);
    }
    const download = await callError(server.client, "download_file", {
      key: "cf/x.txt",
      local_path: path.join(dir, "taken.bin"),
      background: true,
      bucket: s3,
    });
    expect(download.text).toMatch(/^already_exists: /);
    const tree = await callError(server.client, "download_directory", { prefix: "cf", local_dir: dir, background: true, bucket: s3 });
    expect(tree.text).toMatch(/^already_exists: /);
    for (const refused of [
      await callError(server.client, "upload_directory", { local_dir: dir, prefix: "cf", background: true, bucket: "archive" }),
      await callError(server.client, "upload_file", {
        local_path: path.join(dir, "y.txt"),
        key: "cf/y.txt",
        background: true,
        bucket: "archive",
      }),
    ]) {
      expect(refused.text).toMatch(/^access_denied: .*"archive" is read-only/);
    }
    const outside = await callError(server.client, "upload_directory", { local_dir: "/", prefix: "cf", background: true, bucket: s3 });
    expect(outside.text).toMatch(/^outside_roots: /);
    const missing = await callError(server.client, "download_file", {
      key: "cf/none",
      local_path: path.join(dir, "none"),
      background: true,
      bucket: s3,
    });
    expect(missing.text).toMatch(/^not_found: /);

    // A dry run has nothing to run: it is answered at once, as in the foreground.
    const dry = await callOk(server.client, uploadDirectory, { local_dir: dir, prefix: "cf", dry_run: true, background: true, bucket: s3 });
    expect(dry).toMatchObject({ dry_run: true, planned: 2, conflicts: ["cf/x.txt"] });

    expect(await allJobs(server)).toEqual([]);
    expect(rig.proxy.count({ op: ["PutObject", "CreateMultipartUpload"] })).toBe(putsBefore);
    expect(await readFile(path.join(dir, "taken.bin"), "utf8")).toBe("local file");
    const unknown = await callError(server.client, "transfer_status", { job_id: "job-00000000" });
    expect(unknown.text).toMatch(/^not_found: job_id "job-00000000"/);
    expect((await callError(server.client, "cancel_transfer", { job_id: "nope" })).text).toMatch(/^not_found: /);
  });

  it("cancel mid-download: answers while requests are still held, leaves only complete files and no temporary file; a rerun finishes", async () => {
    const server = await cli();
    const contents = await putObjects("cx", 8, 64 * 1024);
    const out = path.join(rig.tmp.path, "cancel-dl");
    const gate = new Gate({ op: "GetObject", key: /^cx\// });

    const started = await startJob(server, "download_directory", { prefix: "cx", local_dir: out, max_workers: 2 });
    gate.let(3);
    await until(
      () => status(server, started.job_id),
      (j) => j.files_done === 3,
      "3 files done",
    );
    await until(
      () => gate.held,
      (n) => n === 2,
      "the next two GETs held",
    );

    const cancelled = await callOk(server.client, cancelTransfer, { job_id: started.job_id });
    expect(cancelled).toMatchObject({ state: "cancelled", files_done: 3, files_total: 8, error: { code: "cancelled" } });
    expect(cancelled.error?.message).toMatch(/3 of 8 completed/);
    const result = cancelled.result as { downloaded: number; files: string[] };
    expect(result.downloaded).toBe(3);
    expect(gate.held).toBe(2); // the cancel did not wait for the held requests to be answered
    expect(await status(server, started.job_id)).toEqual(cancelled);

    const onDisk = await filesUnder(out);
    expect(onDisk.map((f) => path.join(out, f)).sort()).toEqual([...result.files].sort());
    for (const f of onDisk) expect(md5Hex(await readFile(path.join(out, f)))).toBe(md5Hex(contents.get(f)!));
    expect(await partFiles(out)).toEqual([]);

    gate.release();
    const again = await callOk(server.client, downloadDirectory, { prefix: "cx", local_dir: out });
    expect(again.downloaded).toBe(5);
    expect(again.skipped.sort()).toEqual([...result.files].sort());
    for (const [name, body] of contents) expect(md5Hex(await readFile(path.join(out, name)))).toBe(md5Hex(body));
  });

  it("cancel mid multipart upload: no object, the multipart upload aborted", async () => {
    const server = await cli();
    const big = path.join(rig.tmp.path, "cancel-big.bin");
    await writeFile(big, randomBytes(20 * MIB));
    const gate = new Gate({ op: "UploadPart", key: "cm/big.bin" });
    const started = await startJob(server, "upload_file", { local_path: big, key: "cm/big.bin" });
    await until(
      () => gate.held,
      (n) => n >= 1,
      "a part held",
    );

    const cancelled = await callOk(server.client, cancelTransfer, { job_id: started.job_id });
    expect(cancelled).toMatchObject({ state: "cancelled", error: { code: "cancelled" }, files_done: 0 });
    await until(
      () => rig.server.openUploads().filter((u) => u.key === "cm/big.bin"),
      (open) => open.length === 0,
      "the upload aborted",
    );
    expect(await objectExists("cm/big.bin")).toBe(false);
  });

  it("six jobs: four run and two wait, and the waiting ones start in order as slots free up", async () => {
    const server = await cli();
    await putObjects("six", 6, 4096);
    const gate = new Gate({ op: "GetObject", key: /^six\// });
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const started = await startJob(server, "download_file", {
        key: `six/obj-${i}.bin`,
        local_path: path.join(rig.tmp.path, "six", `${i}.bin`),
      });
      expect(started.state).toBe(i < 4 ? "running" : "queued");
      ids.push(started.job_id);
    }
    const states = async () => {
      const jobs = await allJobs(server);
      const byId = new Map(jobs.map((j) => [j.job_id, j.state]));
      expect(jobs.filter((j) => j.state === "running").length).toBeLessThanOrEqual(4);
      return ids.map((id) => byId.get(id));
    };
    await until(
      () => gate.held,
      (n) => n === 4,
      "four GETs held",
    );
    expect(await states()).toEqual(["running", "running", "running", "running", "queued", "queued"]);

    gate.let(1);
    const afterOne = await until(states, (s) => s[4] === "running", "the fifth job to start");
    expect(afterOne.filter((s) => s === "succeeded")).toHaveLength(1);
    expect(afterOne[5]).toBe("queued");
    gate.let(1);
    await until(states, (s) => s[5] === "running", "the sixth job to start");
    gate.release();
    const last = await until(states, (s) => s.every((x) => x === "succeeded"), "every job to succeed");
    expect(last).toHaveLength(6);
    expect((await filesUnder(path.join(rig.tmp.path, "six"))).sort()).toEqual(["0.bin", "1.bin", "2.bin", "3.bin", "4.bin", "5.bin"]);
  });

  it("stdin closed mid-download: the server cancels the job cleanly before it exits (no partial file); the same call on a new server finishes", async () => {
    const server = await cli();
    const contents = await putObjects("stop", 8, 64 * 1024);
    const out = path.join(rig.tmp.path, "stop-dl");
    const gate = new Gate({ op: "GetObject", key: /^stop\// });
    const started = await startJob(server, "download_directory", { prefix: "stop", local_dir: out, max_workers: 2 });
    gate.let(2);
    await until(
      () => status(server, started.job_id),
      (j) => j.files_done === 2,
      "2 files done",
    );
    await until(
      () => gate.held,
      (n) => n === 2,
      "two GETs held",
    );

    await server.close();
    const onDisk = await filesUnder(out);
    expect(onDisk).toHaveLength(2);
    for (const f of onDisk) expect(md5Hex(await readFile(path.join(out, f)))).toBe(md5Hex(contents.get(f)!));
    expect(await partFiles(out)).toEqual([]);

    gate.release();
    const again = await callOk((await cli()).client, downloadDirectory, { prefix: "stop", local_dir: out });
    expect(again).toMatchObject({ downloaded: 6, skipped: onDisk.map((f) => path.join(out, f)) });
  });

  it("SIGTERM mid multipart upload: the upload is aborted before the server exits, no object; the same call on a new server finishes", async () => {
    const server = await cli();
    const body = randomBytes(20 * MIB);
    const big = path.join(rig.tmp.path, "term-big.bin");
    await writeFile(big, body);
    const gate = new Gate({ op: "UploadPart", key: "term/big.bin" });
    await startJob(server, "upload_file", { local_path: big, key: "term/big.bin" });
    await until(
      () => gate.held,
      (n) => n >= 1,
      "a part held",
    );
    expect(rig.server.openUploads().filter((u) => u.key === "term/big.bin")).toHaveLength(1);

    process.kill(server.pid!, "SIGTERM");
    await server.close();
    expect(rig.server.openUploads().filter((u) => u.key === "term/big.bin")).toEqual([]);
    expect(await objectExists("term/big.bin")).toBe(false);

    gate.release();
    const again = await callOk((await cli()).client, uploadFile, { local_path: big, key: "term/big.bin" });
    expect(again).toMatchObject({ key: "term/big.bin", size: 20 * MIB, replaced: false });
  });

  it("a job whose requests keep failing ends failed with the error and what completed, and is logged; the same call then finishes", async () => {
    const server = await cli();
    const dir = path.join(rig.tmp.path, "fail-src");
    await writeTree(dir, { "a.txt": "a", "b.txt": "b", "c.txt": "c", "d.txt": "d", "e.txt": "e" });
    const broken = rig.proxy.inject({ op: "PutObject", key: "fail/c.txt", fault: { kind: "respond", status: 500, code: "InternalError" } });

    const started = await startJob(server, "upload_directory", { local_dir: dir, prefix: "fail", max_workers: 1 });
    const failed = await until_finished(server, started.job_id);
    expect(failed).toMatchObject({ state: "failed", files_done: 2, files_total: 5, error: { code: "unavailable" } });
    expect(failed.error?.message).toMatch(/2 of 5 completed; failed: "fail\/c.txt" \(unavailable\); 2 not started; repeat the call/);
    expect(failed.result).toMatchObject({ uploaded: 2, keys: ["fail/a.txt", "fail/b.txt"], error: { code: "unavailable" } });
    expect(failed.summary).toMatch(/failed/);
    await finishLogged(server, started.job_id, "failed");

    broken.remove();
    const again = await callOk(server.client, uploadDirectory, { local_dir: dir, prefix: "fail", max_workers: 1 });
    expect(again).toMatchObject({ uploaded: 3, skipped: ["fail/a.txt", "fail/b.txt"] });
  });
});

describe("background jobs over stdio, local backend", () => {
  it("local jobs wait behind four running ones, then: one succeeds with the foreground result, a cancelled one wrote nothing, one whose file vanished fails with what completed", async () => {
    const server = await cli({ local: true });
    await putObjects("hold", 4, 4096);
    const gate = new Gate({ op: "GetObject", key: /^hold\// });
    for (let i = 0; i < 4; i++) {
      await startJob(server, "download_file", { key: `hold/obj-${i}.bin`, local_path: path.join(rig.tmp.path, "hold", `${i}.bin`) });
    }
    const src = path.join(rig.tmp.path, "local-src");
    await writeTree(src, { "a.txt": "alpha", "b.txt": "bravo", "c.txt": "charlie", "d/e.txt": "echo" });
    const flaky = path.join(rig.tmp.path, "local-flaky");
    await writeTree(flaky, { "a.txt": "1", "b.txt": "2", "c.txt": "3", "d.txt": "4", "e.txt": "5" });

    const ok = await startJob(server, "upload_directory", { local_dir: src, prefix: "bg", bucket: "local", max_workers: 1 });
    const dropped = await startJob(server, "upload_directory", { local_dir: src, prefix: "dropped", bucket: "local" });
    const failing = await startJob(server, "upload_directory", { local_dir: flaky, prefix: "fl", bucket: "local", max_workers: 1 });
    for (const job of [ok, dropped, failing]) expect(job.state).toBe("queued");
    expect(await status(server, ok.job_id)).toMatchObject({ state: "queued", files_done: 0, files_total: 4, bytes_total: 21 });

    const cancelled = await callOk(server.client, cancelTransfer, { job_id: dropped.job_id });
    expect(cancelled).toMatchObject({ state: "cancelled", files_done: 0, error: { code: "cancelled" } });
    await rm(path.join(flaky, "c.txt"));

    gate.release();
    const done = await until_finished(server, ok.job_id);
    expect(done).toMatchObject({ state: "succeeded", files_done: 4, bytes_done: 21 });
    const foreground = await callOk(server.client, uploadDirectory, { local_dir: src, prefix: "fg", bucket: "local", max_workers: 1 });
    expect(done.result).toEqual(renamed(foreground, "fg/", "bg/"));

    const failed = await until_finished(server, failing.job_id);
    expect(failed).toMatchObject({ state: "failed", files_done: 2, files_total: 5 });
    expect(failed.result).toMatchObject({ uploaded: 2, keys: ["fl/a.txt", "fl/b.txt"], bucket: "local" });
    expect(failed.error?.message).toMatch(/2 of 5 completed/);
    await finishLogged(server, failing.job_id, "failed");

    const keys = (await callOk(server.client, listObjects, { bucket: "local" })).objects.map((o) => o.key);
    expect(keys.filter((k) => k.startsWith("dropped/"))).toEqual([]);
    expect(keys.filter((k) => k.startsWith("bg/")).sort()).toEqual(["bg/a.txt", "bg/b.txt", "bg/c.txt", "bg/d/e.txt"]);
  });
});

/** Every key under `prefix/` in the S3 bucket, with its bytes' MD5, read past the proxy. */
async function s3Objects(prefix: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const page = await raw.send(new ListObjectsV2Command({ Bucket: rig.server.bucket, Prefix: `${prefix}/` }));
  for (const { Key } of page.Contents ?? []) {
    const got = await raw.send(new GetObjectCommand({ Bucket: rig.server.bucket, Key }));
    out[Key!] = md5Hex(Buffer.from(await got.Body!.transformToByteArray()));
  }
  return out;
}

/** The same objects under another prefix, by relative name. */
function byName(objects: Record<string, string>, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(objects).map(([key, md5]) => [key.slice(prefix.length + 1), md5]));
}

describe("background copy_objects and delete_objects over stdio, s3 backend behind the proxy", () => {
  it("copy_objects: returns the job at once, its status counts the copies let through, it succeeds with the foreground result", async () => {
    const server = await cli();
    const contents = await putObjects("cpsrc", 5, 2000);
    const gate = new Gate({ op: "CopyObject", key: /^cpbg\// });

    const started = await startJob(server, "copy_objects", { source: "cpsrc", destination: "cpbg", recursive: true, max_workers: 1 });
    expect(started.state).toBe("running");
    const first = await status(server, started.job_id);
    expect(first).toMatchObject({
      tool: "copy_objects",
      state: "running",
      files_done: 0,
      files_total: 5,
      bytes_done: 0,
      bytes_total: 10_000,
    });
    expect(first.arguments).toMatchObject({ source: "cpsrc", destination: "cpbg", recursive: true });
    await until(
      () => gate.held,
      (n) => n === 1,
      "the first CopyObject held",
    );
    // Other tools answer while the job waits.
    expect((await callOk(server.client, listObjects, { prefix: "cpbg/" })).objects).toEqual([]);

    gate.let(2);
    const progressed = await until(
      () => status(server, started.job_id),
      (j) => j.files_done === 2,
      "2 copies done",
    );
    expect(progressed).toMatchObject({ state: "running", bytes_done: 4000 });

    gate.release();
    const done = await until_finished(server, started.job_id);
    expect(done).toMatchObject({ state: "succeeded", files_done: 5, bytes_done: 10_000 });
    await finishLogged(server, started.job_id, "succeeded");
    const foreground = await callOk(server.client, copyObjects, { source: "cpsrc", destination: "cpfg", recursive: true, max_workers: 1 });
    expect(foreground).toMatchObject({ copied: 5, server_side: true });
    expect(done.result).toEqual(renamed(foreground, "cpfg/", "cpbg/"));
    expect(byName(await s3Objects("cpbg"), "cpbg")).toEqual(Object.fromEntries([...contents].map(([n, b]) => [n, md5Hex(b)])));
  });

  it("delete_objects: returns the job at once, other tools answer while its batch is held, it succeeds with the foreground result", async () => {
    const server = await cli();
    await putObjects("delbg", 3, 100);
    await putObjects("delfg", 3, 100);
    const gate = new Gate({ op: "DeleteObjects" });

    const started = await startJob(server, "delete_objects", { prefix: "delbg" });
    expect(await status(server, started.job_id)).toMatchObject({ state: "running", files_total: 3, bytes_total: 300, files_done: 0 });
    await until(
      () => gate.held,
      (n) => n === 1,
      "the DeleteObjects batch held",
    );
    expect((await callOk(server.client, listObjects, { prefix: "delbg/" })).objects).toHaveLength(3);

    gate.release();
    const done = await until_finished(server, started.job_id);
    expect(done).toMatchObject({ state: "succeeded", files_done: 3, bytes_done: 300 });
    await finishLogged(server, started.job_id, "succeeded");
    const foreground = await callOk(server.client, deleteObjects, { prefix: "delfg" });
    expect(foreground).toMatchObject({ deleted: 3, bytes: 300, prefix: "delfg/" });
    expect(done.result).toEqual(renamed(foreground, "delfg/", "delbg/"));
    expect(await s3Objects("delbg")).toEqual({});
  });

  it("conflicts, overlaps, too_large, read-only and missing sources are the call's own error on every bucket: no job, nothing written or deleted", async () => {
    const server = await cli({ local: true, archive: true });
    const s3 = rig.server.bucket;
    for (const bucket of [s3, "local"]) {
      await callOk(server.client, uploadBytes, { key: "cc/a.txt", data: "source", bucket });
      await callOk(server.client, uploadBytes, { key: "cc/b.txt", data: "other", bucket });
      await callOk(server.client, uploadBytes, { key: "cd/a.txt", data: "theirs", bucket });
    }
    const writesBefore = rig.proxy.count({ op: ["PutObject", "CopyObject", "DeleteObject", "DeleteObjects"] });

    for (const bucket of [s3, "local"]) {
      const conflict = await callError(server.client, "copy_objects", {
        source: "cc",
        destination: "cd",
        recursive: true,
        background: true,
        bucket,
      });
      expect(conflict.text).toMatch(/^already_exists: .*cd\/a\.txt/);
      expect(conflict.structuredContent).toMatchObject({ conflicts: ["cd/a.txt"], copied: 0 });
      const move = await callError(server.client, "copy_objects", {
        source: "cc/a.txt",
        destination: "cd/a.txt",
        move: true,
        background: true,
        bucket,
      });
      expect(move.text).toMatch(/^already_exists: /);
      const overlap = await callError(server.client, "copy_objects", {
        source: "cc",
        destination: "cc/inner",
        recursive: true,
        background: true,
        bucket,
      });
      expect(overlap.text).toMatch(/^invalid_argument: .*overlap/);
      const missing = await callError(server.client, "copy_objects", {
        source: "cc/none.txt",
        destination: "ce/x.txt",
        background: true,
        bucket,
      });
      expect(missing.text).toMatch(/^not_found: /);
      const large = await callError(server.client, "delete_objects", { prefix: "cc", max_objects: 1, background: true, bucket });
      expect(large.text).toMatch(/^too_large: "cc\/" holds 2 objects/);
      const neither = await callError(server.client, "delete_objects", { background: true, bucket });
      expect(neither.text).toMatch(/^invalid_argument: /);
    }
    const intoArchive = await callError(server.client, "copy_objects", {
      source: "cc",
      source_bucket: s3,
      destination: "cc",
      recursive: true,
      background: true,
      bucket: "archive",
    });
    expect(intoArchive.text).toMatch(/^access_denied: .*"archive" is read-only/);
    const inArchive = await callError(server.client, "delete_objects", { prefix: "cc", background: true, bucket: "archive" });
    expect(inArchive.text).toMatch(/^access_denied: .*"archive" is read-only/);

    // A dry run has nothing to run: it is answered at once, as in the foreground.
    const dryCopy = await callOk(server.client, copyObjects, {
      source: "cc",
      destination: "cd",
      recursive: true,
      dry_run: true,
      background: true,
      bucket: s3,
    });
    expect(dryCopy).toMatchObject({ dry_run: true, planned: 1, conflicts: ["cd/a.txt"] });
    const dryDelete = await callOk(server.client, deleteObjects, { prefix: "cc", dry_run: true, background: true, bucket: s3 });
    expect(dryDelete).toMatchObject({ dry_run: true, deleted: 2 });

    expect(await allJobs(server)).toEqual([]);
    expect(rig.proxy.count({ op: ["PutObject", "CopyObject", "DeleteObject", "DeleteObjects"] })).toBe(writesBefore);
    for (const bucket of [s3, "local"]) {
      const keys = (await callOk(server.client, listObjects, { bucket, recursive: true })).objects.map((o) => o.key);
      expect(keys.filter((k) => /^c[cde]\//.test(k)).sort()).toEqual(["cc/a.txt", "cc/b.txt", "cd/a.txt"]);
    }
  });

  it("cancel mid-move: only confirmed copies lost their source, the rest stay where they were; repeating the call finishes the move", async () => {
    const server = await cli();
    const contents = await putObjects("mvsrc", 6, 1000);
    const gate = new Gate({ op: "CopyObject", key: /^mvdst\// });
    const started = await startJob(server, "copy_objects", {
      source: "mvsrc",
      destination: "mvdst",
      recursive: true,
      move: true,
      max_workers: 1,
    });
    gate.let(2);
    // One worker: the third copy is held only once the second source is deleted.
    await until(
      () => gate.held,
      (n) => n === 1,
      "the third CopyObject held",
    );

    const cancelled = await callOk(server.client, cancelTransfer, { job_id: started.job_id });
    expect(cancelled).toMatchObject({ state: "cancelled", files_done: 2, files_total: 6, error: { code: "cancelled" } });
    expect(cancelled.result).toMatchObject({ copied: 2, moved: 2 });
    expect(Object.keys(await s3Objects("mvdst"))).toHaveLength(2);
    expect(Object.keys(await s3Objects("mvsrc"))).toHaveLength(4);

    // The held copy may still reach the server once let through (its caller is gone): the repeat
    // then finds it identical, and moves its source too.
    gate.release();
    const again = await callOk(server.client, copyObjects, { source: "mvsrc", destination: "mvdst", recursive: true, move: true });
    expect(again.copied + again.skipped.length).toBe(4);
    expect(again.moved).toBe(4);
    expect(await s3Objects("mvsrc")).toEqual({});
    expect(byName(await s3Objects("mvdst"), "mvdst")).toEqual(Object.fromEntries([...contents].map(([n, b]) => [n, md5Hex(b)])));
  });

  it("jobs whose requests keep failing end failed with the error and what completed", async () => {
    const server = await cli();
    await putObjects("cfsrc", 5, 100);
    const broken = rig.proxy.inject({
      op: "CopyObject",
      key: "cfdst/obj-2.bin",
      fault: { kind: "respond", status: 500, code: "InternalError" },
    });
    const copy = await startJob(server, "copy_objects", { source: "cfsrc", destination: "cfdst", recursive: true, max_workers: 1 });
    const failed = await until_finished(server, copy.job_id);
    expect(failed).toMatchObject({ state: "failed", files_done: 2, files_total: 5, error: { code: "unavailable" } });
    expect(failed.error?.message).toMatch(/2 of 5 completed; failed: "cfdst\/obj-2.bin" \(unavailable\); 2 not started/);
    expect(failed.result).toMatchObject({ copied: 2, keys: ["cfdst/obj-0.bin", "cfdst/obj-1.bin"], error: { code: "unavailable" } });
    await finishLogged(server, copy.job_id, "failed");
    broken.remove();

    const refusing = rig.proxy.inject({ op: "DeleteObjects", fault: { kind: "respond", status: 500, code: "InternalError" } });
    const del = await startJob(server, "delete_objects", { prefix: "cfsrc" });
    const deleteFailed = await until_finished(server, del.job_id);
    expect(deleteFailed).toMatchObject({ state: "failed", files_done: 0, error: { code: "unavailable" } });
    expect(deleteFailed.result).toMatchObject({ deleted: 0, keys: [], error: { code: "unavailable" } });
    refusing.remove();
    expect(Object.keys(await s3Objects("cfsrc"))).toHaveLength(5);
  });
});

describe("background copy_objects and delete_objects over stdio, local backend", () => {
  it("local copy and delete jobs wait behind four running ones, then succeed with the foreground results; a cancelled one changed nothing", async () => {
    const server = await cli({ local: true });
    const store = path.join(rig.tmp.path, "store");
    const tree = { "a.txt": "alpha", "b.txt": "bravo", "d/e.txt": "echo" };
    for (const prefix of ["lsrc", "ldel-bg", "ldel-fg", "lkeep"]) await writeTree(path.join(store, prefix), tree);
    await putObjects("lhold", 4, 4096);
    const gate = new Gate({ op: "GetObject", key: /^lhold\// });
    for (let i = 0; i < 4; i++) {
      await startJob(server, "download_file", { key: `lhold/obj-${i}.bin`, local_path: path.join(rig.tmp.path, "lhold", `${i}.bin`) });
    }

    const copy = await startJob(server, "copy_objects", {
      source: "lsrc",
      destination: "lcp-bg",
      recursive: true,
      bucket: "local",
      max_workers: 1,
    });
    const del = await startJob(server, "delete_objects", { prefix: "ldel-bg", bucket: "local" });
    const dropped = await startJob(server, "delete_objects", { prefix: "lkeep", bucket: "local" });
    for (const job of [copy, del, dropped]) expect(job.state).toBe("queued");
    expect(await status(server, copy.job_id)).toMatchObject({ state: "queued", files_total: 3, bytes_total: 14 });
    const cancelled = await callOk(server.client, cancelTransfer, { job_id: dropped.job_id });
    expect(cancelled).toMatchObject({ state: "cancelled", files_done: 0, error: { code: "cancelled" } });

    gate.release();
    const copied = await until_finished(server, copy.job_id);
    expect(copied).toMatchObject({ state: "succeeded", files_done: 3, bytes_done: 14 });
    const copyForeground = await callOk(server.client, copyObjects, {
      source: "lsrc",
      destination: "lcp-fg",
      recursive: true,
      bucket: "local",
      max_workers: 1,
    });
    expect(copyForeground).toMatchObject({ copied: 3, server_side: true, bucket: "local" });
    expect(copied.result).toEqual(renamed(copyForeground, "lcp-fg/", "lcp-bg/"));

    const deleted = await until_finished(server, del.job_id);
    expect(deleted).toMatchObject({ state: "succeeded", files_done: 3 });
    const deleteForeground = await callOk(server.client, deleteObjects, { prefix: "ldel-fg", bucket: "local" });
    expect(deleted.result).toEqual(renamed(deleteForeground, "ldel-fg/", "ldel-bg/"));

    expect(await filesUnder(path.join(store, "lcp-bg"))).toEqual(["a.txt", "b.txt", "d/e.txt"]);
    expect(await filesUnder(path.join(store, "lkeep"))).toEqual(["a.txt", "b.txt", "d/e.txt"]);
    const left = (await callOk(server.client, listObjects, { bucket: "local", recursive: true })).objects.map((o) => o.key);
    expect(left.filter((k) => k.startsWith("ldel-"))).toEqual([]);
  });
});
