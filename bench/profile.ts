/**
 * Where the time goes: runs one case of the benchmark under the V8 CPU profiler, against the same
 * out-of-process fauxqs server, and prints self time by package, the top self-time functions and
 * the inclusive time of r2-mcp's own functions.
 *
 *   npx tsx bench/profile.ts --case small|large|huge --direction upload|download --tool lib|raw|mcp [--runs 3]
 *   npx tsx bench/profile.ts --case head [--calls 500]
 *
 * lib and raw run in this process (profiled with the inspector, one unprofiled warm-up run first).
 * mcp starts `node --cpu-prof dist/cli.js` and keeps only the server's samples taken during the
 * measured calls (both clocks are CLOCK_MONOTONIC); for head it also profiles the MCP SDK client
 * in this process. The raw profile of the last run (or of the server) is written to a temp file.
 */

import fs from "node:fs/promises";
import { Session } from "node:inspector/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { type CpuProfile, type ProfileSummary, summarize } from "./cpuprofile.js";
import { makeDirectory, makeFile } from "./data.js";
import { type McpSession, startMcp } from "./mcp.js";
import { BENCH_CREDENTIALS, BENCH_REGION, deletePrefix, rawClient, rawDownloadDirectory, rawUploadDirectory } from "./raw-sdk.js";
import { ServerProcess } from "./server.js";
import { fmt, markdownTable } from "./stats.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const BUCKET = "r2mcp-profile";
const MIB = 1024 * 1024;

const nowUs = () => Number(process.hrtime.bigint() / 1000n);

function summaryLines(s: ProfileSummary, top: number): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    "Self time by package:",
    "",
    markdownTable(
      ["package", "ms", "share"],
      s.byPackage.slice(0, 12).map((p) => [p.pkg, fmt(p.ms, 0), pct(p.share)]),
    ),
    "",
    `Top ${top} functions by self time:`,
    "",
    markdownTable(
      ["function", "where", "ms", "share"],
      s.topSelf.map((f) => [f.name, f.where, fmt(f.ms, 0), pct(f.share)]),
    ),
    "",
    "r2-mcp functions by inclusive time (self + callees; async continuations are not attributed to their caller):",
    "",
    markdownTable(
      ["function", "where", "ms", "share"],
      s.r2mcpInclusive.slice(0, 15).map((f) => [f.name, f.where, fmt(f.ms, 0), pct(f.share)]),
    ),
    "",
  ];
}

const busyMs = (s: ProfileSummary) => s.totalMs - (s.byPackage.find((p) => p.pkg === "(idle)")?.ms ?? 0);

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      case: { type: "string", default: "small" },
      direction: { type: "string", default: "upload" },
      tool: { type: "string", default: "lib" },
      files: { type: "string" },
      "huge-mib": { type: "string", default: "256" },
      runs: { type: "string", default: "3" },
      calls: { type: "string", default: "500" },
      concurrency: { type: "string", default: "16" },
      top: { type: "string", default: "25" },
    },
  });
  const kind = values.case;
  if (kind !== "small" && kind !== "large" && kind !== "huge" && kind !== "head") throw new Error("--case small|large|huge|head");
  const direction = values.direction;
  if (direction !== "upload" && direction !== "download") throw new Error("--direction upload|download");
  const tool = kind === "head" ? "mcp" : values.tool;
  if (tool !== "lib" && tool !== "raw" && tool !== "mcp") throw new Error("--tool lib|raw|mcp");
  if (tool === "raw" && kind === "huge")
    throw new Error("the raw large-file transfer lives in huge-worker.mjs; profile it with node --cpu-prof");
  const runs = kind === "head" ? 1 : Number(values.runs);
  const concurrency = Number(values.concurrency);
  const top = Number(values.top);
  const files = Number(values.files ?? (kind === "small" ? 1000 : 64));
  const size = kind === "small" ? 4096 : 8 * MIB;

  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "r2-mcp-profile-")));
  const profDir = path.join(base, "prof");
  const server = await ServerProcess.start();
  const raw = rawClient(server.endpoint, 64);
  const { R2Client } = (await import(pathToFileURL(path.join(REPO, "dist", "index.js")).href)) as typeof import("../src/index.js");
  const lib = new R2Client({ bucketName: BUCKET, endpointUrl: server.endpoint, ...BENCH_CREDENTIALS, regionName: BENCH_REGION });
  const session = new Session();
  session.connect();
  let mcp: McpSession | undefined;
  try {
    await raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
    let source = "";
    const seed = kind === "huge" ? "seed/huge.bin" : kind === "head" ? "seed/head.bin" : "seed/";
    if (kind === "head") await lib.uploadBytes(Buffer.alloc(4096, 1), seed, { overwrite: true });
    else if (kind === "huge") source = await makeFile(path.join(base, "data", "huge.bin"), Number(values["huge-mib"]) * MIB);
    else source = await makeDirectory(path.join(base, "data", kind), files, size);
    if (direction === "download" && kind !== "head") {
      if (kind === "huge") await lib.uploadFile(source, seed, { overwrite: true });
      else await rawUploadDirectory(raw, BUCKET, source, seed, concurrency, AbortSignal.timeout(600_000));
    }
    if (tool === "mcp") {
      mcp = await startMcp({
        cliPath: path.join(REPO, "dist", "cli.js"),
        endpoint: server.endpoint,
        bucket: BUCKET,
        root: base,
        nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profDir}`, "--cpu-prof-interval=200"],
      });
      await mcp.client.listTools();
    }

    const once = async (i: number): Promise<void> => {
      const signal = AbortSignal.timeout(600_000);
      const target = path.join(base, "dl", String(i));
      const prefix = `up/${i}/`;
      if (kind === "head") {
        for (let c = 0; c < Number(values.calls); c++) await mcp?.call("head_object", { key: seed }, 30_000);
      } else if (tool === "mcp" && mcp) {
        const t = 600_000;
        if (kind === "huge" && direction === "upload")
          await mcp.call("upload_file", { local_path: source, key: `${prefix}huge.bin`, overwrite: true }, t);
        else if (kind === "huge")
          await mcp.call("download_file", { key: seed, local_path: path.join(target, "huge.bin"), overwrite: true }, t);
        else if (direction === "upload")
          await mcp.call("upload_directory", { local_dir: source, prefix, overwrite: true, max_workers: concurrency }, t);
        else await mcp.call("download_directory", { prefix: seed, local_dir: target, overwrite: true, max_workers: concurrency }, t);
      } else if (kind === "huge") {
        if (direction === "upload") await lib.uploadFile(source, `${prefix}huge.bin`, { overwrite: true, signal });
        else await lib.downloadFile(seed, path.join(target, "huge.bin"), { overwrite: true, signal });
      } else if (direction === "upload") {
        if (tool === "lib") await lib.uploadDirectory(source, prefix, { maxWorkers: concurrency, overwrite: true, signal });
        else await rawUploadDirectory(raw, BUCKET, source, prefix, concurrency, signal);
      } else if (tool === "lib") await lib.downloadDirectory(seed, target, { maxWorkers: concurrency, overwrite: true, signal });
      else await rawDownloadDirectory(raw, BUCKET, seed, target, concurrency, signal);
    };
    const cleanup = async (i: number) => {
      await deletePrefix(raw, BUCKET, `up/${i}/`);
      await fs.rm(path.join(base, "dl", String(i)), { recursive: true, force: true });
    };

    await once(-1);
    await cleanup(-1);
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 200 });
    const profiles: CpuProfile[] = [];
    const windows: { startUs: number; endUs: number }[] = [];
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < runs; i++) {
      await session.post("Profiler.start");
      const c0 = process.cpuUsage();
      const startUs = nowUs();
      await once(i);
      const endUs = nowUs();
      windows.push({ startUs, endUs });
      walls.push((endUs - startUs) / 1e6);
      const c = process.cpuUsage(c0);
      cpus.push((c.user + c.system) / 1e6);
      const { profile } = await session.post("Profiler.stop");
      profiles.push(profile as unknown as CpuProfile);
      await cleanup(i);
    }
    const label = `${kind}${kind === "head" ? "" : ` ${direction}`}, ${{ lib: "r2-mcp library", raw: "raw SDK", mcp: "r2-mcp over MCP" }[tool]}`;
    const lines = [`## CPU profile: ${label}, ${runs} run(s), concurrency ${concurrency}`, ""];
    lines.push(
      `wall per run: ${walls.map((w) => w.toFixed(2)).join(", ")} s; this process's CPU per run: ${cpus.map((c) => c.toFixed(2)).join(", ")} s`,
      "",
    );
    const here = summarize(profiles, top);
    if (tool === "mcp" && mcp) {
      await mcp.close();
      mcp = undefined;
      const names = (await fs.readdir(profDir)).filter((f) => f.endsWith(".cpuprofile"));
      const serverProfiles = await Promise.all(
        names.map(async (f) => JSON.parse(await fs.readFile(path.join(profDir, f), "utf8")) as CpuProfile),
      );
      const per = kind === "head" ? Number(values.calls) : runs;
      const srvParts = windows.map((w) => summarize(serverProfiles, top, w));
      const srv = summarize(serverProfiles, top, { startUs: windows[0]?.startUs ?? 0, endUs: windows[windows.length - 1]?.endUs ?? 0 });
      lines.push(
        `### r2-mcp server process, samples inside the measured calls: busy ${fmt(srvParts.reduce((n, s) => n + busyMs(s), 0) / per, 3)} ms per ${kind === "head" ? "call" : "run"}`,
        "",
        ...summaryLines(srv, top),
      );
      if (kind === "head") {
        lines.push(`### MCP SDK client (this process): busy ${fmt(busyMs(here) / per, 3)} ms per call`, "", ...summaryLines(here, top));
      }
      const out = path.join(os.tmpdir(), `r2-mcp-server-${kind}-${direction}-${Date.now()}.cpuprofile`);
      if (serverProfiles[0]) await fs.writeFile(out, JSON.stringify(serverProfiles[0]));
      lines.push(`server profile: ${out}`);
    } else {
      lines.push(...summaryLines(here, top));
      const out = path.join(os.tmpdir(), `r2-mcp-${kind}-${direction}-${tool}-${Date.now()}.cpuprofile`);
      await fs.writeFile(out, JSON.stringify(profiles[profiles.length - 1]));
      lines.push(`profile of the last run: ${out}`);
    }
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    session.disconnect();
    await mcp?.close();
    await lib.close();
    raw.destroy();
    await server.stop();
    await fs.rm(base, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
