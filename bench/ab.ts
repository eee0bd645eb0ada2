/**
 * Two builds' R2Client against fauxqs in its own process, interleaved in this one: a directory
 * transfer of many files, each build in turn, with CPU per file of this process's threads (the
 * main thread, r2-mcp's named worker threads on Node 22+, the rest) read from /proc. Wall time on
 * a 2-core machine moves with everything else; CPU per file of interleaved rounds moves less.
 *
 *   npm run build && cp -r dist /tmp/before-dist   # on the "before" commit
 *   npx tsx bench/ab.ts --a /tmp/before-dist --b dist [--rounds 8] [--files 1000] [--size 4096]
 *     [--concurrency 16] [--direction download|upload] [--raw]
 *
 * --raw adds the bench's raw SDK directory transfer (bench/raw-sdk.ts) as a third contender.
 * A download goes into a fresh folder each time, with overwrite true as bench/run.ts asks (nothing
 * is there to replace); the disk is settled (`sync -f`) before each timed run, as there.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { AB_OPTIONS, threadCpuSince, threadCpuUs } from "./ab-common.js";
import { makeDirectory } from "./data.js";
import { BENCH_CREDENTIALS, BENCH_REGION, rawClient, rawDownloadDirectory, rawUploadDirectory } from "./raw-sdk.js";
import { ServerProcess } from "./server.js";
import { median } from "./stats.js";

const BUCKET = "r2mcp-ab";

interface Contender {
  name: string;
  run(target: string, prefix: string): Promise<number>;
  cpu: Map<string, number[]>;
  rate: number[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...AB_OPTIONS,
      raw: { type: "boolean", default: false },
    },
  });
  if (!values.a || !values.b) throw new Error("--a DIST and --b DIST are required");
  const files = Number(values.files);
  const concurrency = Number(values.concurrency);
  const upload = values.direction === "upload";
  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "r2-mcp-ab-")));
  const server = await ServerProcess.start();
  const raw = rawClient(server.endpoint, Math.max(64, concurrency));
  try {
    await raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const source = await makeDirectory(path.join(base, "source"), files, Number(values.size));
    await rawUploadDirectory(raw, BUCKET, source, "seed/", concurrency, AbortSignal.timeout(300_000));
    // As bench/run.ts asks (its targets are fresh too).
    const options = { maxWorkers: concurrency, overwrite: true };
    const contenders: Contender[] = [];
    for (const [name, dist] of [
      ["A", values.a],
      ["B", values.b],
    ] as const) {
      const { R2Client } = (await import(pathToFileURL(path.resolve(dist, "index.js")).href)) as typeof import("../src/index.js");
      const client = new R2Client({ bucketName: BUCKET, endpointUrl: server.endpoint, ...BENCH_CREDENTIALS, regionName: BENCH_REGION });
      contenders.push({
        name: `${name} ${dist}`,
        run: async (target, prefix) =>
          upload
            ? (await client.uploadDirectory(source, prefix, options)).transferred
            : (await client.downloadDirectory("seed/", target, options)).transferred,
        cpu: new Map(),
        rate: [],
      });
    }
    if (values.raw) {
      contenders.push({
        name: "raw SDK",
        run: async (target, prefix) =>
          upload
            ? (await rawUploadDirectory(raw, BUCKET, source, prefix, concurrency, AbortSignal.timeout(300_000))).files
            : (await rawDownloadDirectory(raw, BUCKET, "seed/", target, concurrency, AbortSignal.timeout(300_000))).files,
        cpu: new Map(),
        rate: [],
      });
    }
    let n = 0;
    const once = async (c: Contender, record: boolean) => {
      const target = path.join(base, `t${n}`);
      const prefix = `up/${n++}/`;
      execFileSync("sync", ["-f", base]);
      const t0 = threadCpuUs();
      const w0 = performance.now();
      const done = await c.run(target, prefix);
      const wall = performance.now() - w0;
      const t = threadCpuSince(t0, files);
      if (done !== files) throw new Error(`${c.name}: ${done} of ${files} files`);
      if (record) {
        t.set(
          "all",
          [...t.values()].reduce((sum, us) => sum + us, 0),
        );
        for (const [group, us] of t) c.cpu.set(group, [...(c.cpu.get(group) ?? []), us]);
        c.rate.push(files / (wall / 1000));
      }
      await fs.rm(target, { recursive: true, force: true });
    };
    for (const c of contenders) await once(c, false);
    const rounds = Number(values.rounds);
    for (let r = 0; r < rounds; r++) for (const c of r % 2 === 0 ? contenders : [...contenders].reverse()) await once(c, true);
    console.log(
      `${upload ? "upload" : "download"} of ${files} × ${values.size} B against fauxqs, concurrency ${concurrency}, ${rounds} rounds, load ${os.loadavg()[0]?.toFixed(2)}; medians, CPU in µs per file`,
    );
    for (const c of contenders) {
      const groups = [...c.cpu].map(([group, xs]) => `${group} ${median(xs).toFixed(0)}`).join(", ");
      console.log(`${c.name}: ${median(c.rate).toFixed(0)} files/s; CPU ${groups}`);
    }
  } finally {
    raw.destroy();
    await server.stop();
    await fs.rm(base, { recursive: true, force: true });
  }
}

await main();
