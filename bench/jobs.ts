/**
 * Background jobs, measured through the MCP server as a host runs it (`node dist/cli.js` over
 * stdio, fauxqs in a child process of its own): how long `upload_directory` with background: true
 * takes to answer for N small files, how fast other tools answer while the job runs, how long the
 * job takes, and whether its final result equals the foreground call's.
 *
 *   npm run build && npx tsx bench/jobs.ts [--files 1000] [--size 4096] [--repeats 5]
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { makeDirectory } from "./data.js";
import { startMcp } from "./mcp.js";
import { rawClient } from "./raw-sdk.js";
import { ServerProcess } from "./server.js";
import { fmt, markdownTable, median, percentile } from "./stats.js";

const CLI = path.join(path.dirname(new URL(import.meta.url).pathname), "..", "dist", "cli.js");
const BUCKET = "r2mcp-bench-jobs";
const CALL_TIMEOUT_MS = 600_000;

const { values } = parseArgs({
  options: {
    files: { type: "string", default: "1000" },
    size: { type: "string", default: "4096" },
    repeats: { type: "string", default: "5" },
  },
});
const FILES = Number(values.files);
const SIZE = Number(values.size);
const REPEATS = Number(values.repeats);

interface Job {
  job_id: string;
  state: string;
  files_done: number;
  files_total: number;
  result?: Record<string, unknown>;
}

/**
 * Equal results, except that `keys` (the first 50 written) follows completion order, which differs
 * from run to run with several workers: there only its length and prefix are compared.
 */
function sameResult(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  const { keys: keysA, ...restA } = a as { keys?: string[] };
  const { keys: keysB, ...restB } = b as { keys?: string[] };
  return JSON.stringify(restA) === JSON.stringify(restB) && keysA?.length === keysB?.length;
}

async function main(): Promise<void> {
  const server = await ServerProcess.start();
  const raw = rawClient(server.endpoint, 16);
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "r2mcp-bench-jobs-"));
  try {
    await raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const dir = await makeDirectory(path.join(root, "src"), FILES, SIZE);
    const mcp = await startMcp({ cliPath: CLI, endpoint: server.endpoint, bucket: BUCKET, root });
    const status = async (id: string) => ((await mcp.call("transfer_status", { job_id: id }, CALL_TIMEOUT_MS)).jobs as Job[])[0] as Job;
    const startMs: number[] = [];
    const jobMs: number[] = [];
    const meanwhileMs: number[] = [];
    let runningWhenAsked = 0;
    let asked = 0;
    let equal = 0;
    for (let r = 0; r < REPEATS; r++) {
      const t0 = performance.now();
      const started = await mcp.call(
        "upload_directory",
        { local_dir: dir, prefix: `bg-${r}`, max_workers: 16, background: true },
        CALL_TIMEOUT_MS,
      );
      const t1 = performance.now();
      startMs.push(t1 - t0);
      const id = started.job_id as string;
      // Other tools while the job runs: each call's time, and whether the job was still running.
      let job = await status(id);
      for (let i = 0; i < 20 && job.state === "running"; i++) {
        const h0 = performance.now();
        await mcp.call("head_object", { key: `bg-${r}/d00/f00000.bin` }, CALL_TIMEOUT_MS);
        await mcp.call("list_objects", { prefix: `bg-${r}/`, limit: 10 }, CALL_TIMEOUT_MS);
        meanwhileMs.push((performance.now() - h0) / 2);
        job = await status(id);
        asked++;
        if (job.state === "running") runningWhenAsked++;
      }
      for (let i = 0; i < 100_000 && (job.state === "running" || job.state === "queued"); i++) job = await status(id);
      jobMs.push(performance.now() - t0);
      if (job.state !== "succeeded") throw new Error(`job ${id} ended ${job.state}: ${JSON.stringify(job)}`);
      const f0 = performance.now();
      const foreground = await mcp.call("upload_directory", { local_dir: dir, prefix: `fg-${r}`, max_workers: 16 }, CALL_TIMEOUT_MS);
      const foregroundMs = performance.now() - f0;
      if (sameResult(job.result ?? {}, JSON.parse(JSON.stringify(foreground).replaceAll(`fg-${r}/`, `bg-${r}/`)))) equal++;
      console.error(`run ${r + 1}: start ${fmt(t1 - t0)} ms, job ${fmt(jobMs[r])} ms, foreground ${fmt(foregroundMs)} ms`);
    }
    await mcp.close();
    console.log(
      markdownTable(
        ["measure", "value"],
        [
          [`upload_directory background: true, ${FILES} × ${SIZE} B, call answered (median of ${REPEATS})`, `${fmt(median(startMs))} ms`],
          ["… slowest start", `${fmt(Math.max(...startMs))} ms`],
          ["whole job, start to succeeded (median)", `${fmt(median(jobMs))} ms`],
          [
            "head_object / list_objects while the job runs (p50 / p95)",
            `${fmt(median(meanwhileMs))} / ${fmt(percentile(meanwhileMs, 95))} ms`,
          ],
          ["… of those calls, job still running after", `${runningWhenAsked} of ${asked}`],
          ["final status result equals the foreground result", `${equal} of ${REPEATS}`],
        ],
      ),
    );
  } finally {
    raw.destroy();
    await server.stop();
    await fs.rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
