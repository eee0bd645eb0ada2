/**
 * Where the time goes: runs one case of the benchmark with the V8 CPU profiler on, in this
 * process, against the same out-of-process fauxqs server, and prints the top self-time functions,
 * self time by package, and the inclusive time of r2-mcp's own functions.
 *
 *   npx tsx bench/profile.ts --case small --direction upload --tool lib [--tool raw] [--runs 3]
 *   npx tsx bench/profile.ts --case head [--calls 500]
 *
 * `--case head` profiles MCP head_object calls on both sides: this process (the MCP SDK client)
 * and the r2-mcp server (started with --cpu-prof, its profile cut to the measured calls).
 *
 * One warm-up run is not profiled. The raw profile is written to a temporary file (or --out).
 */
import { Session } from "node:inspector/promises";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { type CpuProfile, type ProfileSummary, summarize } from "./cpuprofile.js";
import { startMcp } from "./mcp.js";
import { makeDirectory, makeFile } from "./data.js";
import { BENCH_CREDENTIALS, BENCH_REGION, deletePrefix, rawClient, rawDownloadDirectory, rawUploadDirectory } from "./raw-sdk.js";
import { ServerProcess } from "./server.js";
import { fmt, markdownTable } from "./stats.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const BUCKET = "r2mcp-profile";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      case: { type: "string", default: "small" },
      direction: { type: "string", default: "upload" },
      tool: { type: "string", default: "lib" },
      files: { type: "string" },
      "huge-mib": { type: "string", default: "256" },
      runs: { type: "string", default: "3" },
      concurrency: { type: "string", default: "16" },
      top: { type: "string", default: "25" },
      out: { type: "string" },
      calls: { type: "string", default: "500" },
    },
  });
  if (values.case === "head") return profileHead(Number(values.calls), Number(values.top));
  const kind = values.case;
  if (kind !== "small" && kind !== "large" && kind !== "huge") throw new Error("--case small|large|huge");
  const direction = values.direction;
  if (direction !== "upload" && direction !== "download") throw new Error("--direction upload|download");
  const tool = values.tool;
  if (tool !== "lib" && tool !== "raw") throw new Error("--tool lib|raw (raw: directories only)");
  if (tool === "raw" && kind === "huge") throw new Error("raw large-file transfers live in huge-worker.mjs; profile them with node --cpu-prof");
  const runs = Number(values.runs);
  const concurrency = Number(values.concurrency);
  const files = Number(values.files ?? (kind === "small" ? 1000 : 64));
  const size = kind === "small" ? 4096 : 8 * 1024 * 1024;

  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "r2-mcp-profile-")));
  const server = await ServerProcess.start();
  const raw = rawClient(server.endpoint, 64);
  const { R2Client } = (await import(pathToFileURL(path.join(REPO, "dist", "index.js")).href)) as typeof import("../src/index.js");
  const lib = new R2Client({
    bucketName: BUCKET,
    endpointUrl: server.endpoint,
    accessKeyId: BENCH_CREDENTIALS.accessKeyId,
    secretAccessKey: BENCH_CREDENTIALS.secretAccessKey,
    regionName: BENCH_REGION,
  });
  const session = new Session();
  session.connect();
  try {
    await raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const source =
      kind === "huge"
        ? await makeFile(path.join(base, "data", "huge.bin"), Number(values["huge-mib"]) * 1024 * 1024)
        : await makeDirectory(path.join(base, "data", kind), files, size);
    const seed = kind === "huge" ? "seed/huge.bin" : "seed/";
    if (direction === "download") {
      if (kind === "huge") await lib.uploadFile(source, seed, { overwrite: true });
      else await rawUploadDirectory(raw, BUCKET, source, seed, concurrency, AbortSignal.timeout(600_000));
    }

    const once = async (i: number): Promise<void> => {
      const signal = AbortSignal.timeout(600_000);
      const target = path.join(base, "dl", String(i));
      const prefix = `up/${i}/`;
      if (kind === "huge") {
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
    const walls: number[] = [];
    const cpus: number[] = [];
    for (let i = 0; i < runs; i++) {
      await session.post("Profiler.start");
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await once(i);
      walls.push((performance.now() - t0) / 1000);
      const c = process.cpuUsage(c0);
      cpus.push((c.user + c.system) / 1e6);
      const { profile } = await session.post("Profiler.stop");
      profiles.push(profile as unknown as CpuProfile);
      await cleanup(i);
    }
    const out = values.out ?? path.join(os.tmpdir(), `r2-mcp-${kind}-${direction}-${tool}-${Date.now()}.cpuprofile`);
    await fs.writeFile(out, JSON.stringify(profiles[profiles.length - 1]));

    const top = Number(values.top);
    const s = summarize(profiles, top);
    const lines = [
      `## CPU profile: ${kind} ${direction}, ${tool === "lib" ? "r2-mcp library" : "raw SDK"}, ${runs} runs, concurrency ${concurrency}`,
      "",
      `wall per run: ${walls.map((w) => w.toFixed(2)).join(", ")} s; this process's CPU per run: ${cpus.map((c) => c.toFixed(2)).join(", ")} s; sampled ${fmt(s.totalMs, 0)} ms (includes idle)`,
      "",
      ...summaryLines(s, top),
      `profile of the last run: ${out}`,
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    session.disconnect();
    await lib.close();
    raw.destroy();
    await server.stop();
    await fs.rm(base, { recursive: true, force: true });
  }
}

function summaryLines(s: ProfileSummary, top: number): string[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  return [
    "Self time by package:",
    "",
    markdownTable(["package", "ms", "share"], s.byPackage.slice(0, 12).map((p) => [p.pkg, fmt(p.ms, 0), pct(p.share)])),
    "",
    `Top ${top} functions by self time:`,
    "",
    markdownTable(["function", "where", "ms", "share"], s.topSelf.map((f) => [f.name, f.where, fmt(f.ms, 0), pct(f.share)])),
    "",
    "r2-mcp functions by inclusive time (self + everything they call, same sample counted once per frame):",
    "",
    markdownTable(["function", "where", "ms", "share"], s.r2mcpInclusive.slice(0, 15).map((f) => [f.name, f.where, fmt(f.ms, 0), pct(f.share)])),
    "",
  ];
}

/** MCP head_object round trips, profiled in this process (client) and in the r2-mcp server. */
async function profileHead(calls: number, top: number): Promise<void> {
  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "r2-mcp-profile-")));
  const profDir = path.join(base, "prof");
  const server = await ServerProcess.start();
  const raw = rawClient(server.endpoint, 64);
  const session = new Session();
  session.connect();
  try {
    await raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const { R2Client } = (await import(pathToFileURL(path.join(REPO, "dist", "index.js")).href)) as typeof import("../src/index.js");
    const lib = new R2Client({ bucketName: BUCKET, endpointUrl: server.endpoint, ...BENCH_CREDENTIALS, regionName: BENCH_REGION });
    await lib.uploadBytes(Buffer.alloc(4096, 1), "head.bin", { overwrite: true });
    await lib.close();
    const mcp = await startMcp({
      cliPath: path.join(REPO, "dist", "cli.js"),
      endpoint: server.endpoint,
      bucket: BUCKET,
      root: base,
      nodeArgs: ["--cpu-prof", `--cpu-prof-dir=${profDir}`, "--cpu-prof-interval=100"],
    });
    await mcp.client.listTools();
    for (let i = 0; i < 50; i++) await mcp.call("head_object", { key: "head.bin" }, 30_000);
    await session.post("Profiler.enable");
    await session.post("Profiler.setSamplingInterval", { interval: 100 });
    await session.post("Profiler.start");
    const startUs = Number(process.hrtime.bigint() / 1000n);
    const lat: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t0 = performance.now();
      await mcp.call("head_object", { key: "head.bin" }, 30_000);
      lat.push(performance.now() - t0);
    }
    const endUs = Number(process.hrtime.bigint() / 1000n);
    const { profile } = await session.post("Profiler.stop");
    await mcp.close();
    const files = (await fs.readdir(profDir)).filter((f) => f.endsWith(".cpuprofile"));
    const serverProfiles = await Promise.all(files.map(async (f) => JSON.parse(await fs.readFile(path.join(profDir, f), "utf8")) as CpuProfile));
    lat.sort((a, b) => a - b);
    const client = summarize([profile as unknown as CpuProfile], top);
    const srv = summarize(serverProfiles, top, { startUs, endUs });
    const lines = [
      `## CPU profile: ${calls} MCP head_object calls (p50 ${fmt(lat[Math.floor(calls / 2)], 2)} ms)`,
      "",
      `### client (MCP SDK Client in this process): ${fmt(client.totalMs, 0)} ms sampled, ${fmt((client.totalMs - (client.byPackage.find((p) => p.pkg === "(idle)")?.ms ?? 0)) / calls, 3)} ms busy per call`,
      "",
      ...summaryLines(client, top),
      `### r2-mcp server process (samples inside the measured window): ${fmt(srv.totalMs, 0)} ms sampled, ${fmt((srv.totalMs - (srv.byPackage.find((p) => p.pkg === "(idle)")?.ms ?? 0)) / calls, 3)} ms busy per call`,
      "",
      ...summaryLines(srv, top),
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
  } finally {
    session.disconnect();
    raw.destroy();
    await server.stop();
    await fs.rm(base, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`profile failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
