/**
 * r2-mcp benchmark: one run, one machine, one local S3 server (fauxqs in its own process on
 * 127.0.0.1), one concurrency. Compares r2-mcp (the built library, and the built CLI over MCP
 * stdio) with a plain @aws-sdk/client-s3 loop (the ceiling) and with rclone, prints a Markdown
 * table and writes bench/results.json. See bench/README.md.
 *
 *   npx tsx bench/run.ts [--quick] [--concurrency 16] [--only small,large,huge,head,cold] [--repeats 3]
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { setMaxListeners } from "node:events";
import { existsSync, readFileSync, statSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { CreateBucketCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { makeDirectory, makeFile } from "./data.js";
import { type McpSession, peakRssKiB, startLineMcp, startMcp } from "./mcp.js";
import {
  BENCH_CREDENTIALS,
  BENCH_REGION,
  deletePrefix,
  listAll,
  measureServerCeiling,
  rawClient,
  rawCopyPrefix,
  rawDownloadDirectory,
  rawHead,
  rawPutMany,
  rawUploadDirectory,
  walkFiles,
} from "./raw-sdk.js";
import { findRclone, RCLONE_HINT, Rclone } from "./rclone.js";
import { buildReport, fauxqsVersion, type MachineInfo, machineInfo } from "./report.js";
import { LatencyProxy, ServerProcess } from "./server.js";
import { fmt, fmtBytes, median } from "./stats.js";
import {
  type BenchResults,
  CASES,
  type CaseName,
  type ColdResult,
  type Direction,
  type Flags,
  type HeadResult,
  type KeysCase,
  METHODS,
  type Method,
  type Run,
  TARGET_MCP_OVERHEAD_MS,
  TARGET_RATIO,
  TARGET_RSS_BYTES,
  type TransferCase,
} from "./types.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const DIST_INDEX = path.join(REPO, "dist", "index.js");
const CLI = path.join(REPO, "dist", "cli.js");
const HUGE_WORKER = path.join(REPO, "bench", "huge-worker.mjs");
const RESULTS = path.join(REPO, "bench", "results.json");
const BUCKET = "r2mcp-bench";
const KIB = 1024;
const MIB = 1024 * 1024;
function parseFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: "boolean", default: false },
      concurrency: { type: "string" },
      only: { type: "string" },
      repeats: { type: "string" },
      "small-files": { type: "string" },
      "large-files": { type: "string" },
      "huge-mib": { type: "string" },
      heads: { type: "string" },
      colds: { type: "string" },
      keys: { type: "string" },
      "timeout-s": { type: "string" },
      out: { type: "string" },
      "latency-ms": { type: "string" },
      "baseline-dist": { type: "string" },
      methods: { type: "string" },
      directions: { type: "string" },
      "skip-ceiling": { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(
      [
        "npx tsx bench/run.ts [options]   (npm run bench builds first)",
        "  --quick               200 × 4 KiB, 8 × 8 MiB, 64 MiB large file, 200 keys, 100 heads, 3 cold starts",
        "  --concurrency N       transfers in flight for every tool (default 16)",
        "  --only LIST           comma-separated subset of: small,large,huge,keys,head,cold",
        "  --repeats N           runs per transfer measurement, median reported (default 3)",
        "  --small-files N --large-files N --huge-mib N --keys N --heads N --colds N   override sizes",
        "  --timeout-s N         per-measurement time bound (default 900)",
        "  --out FILE            write the results there instead of bench/results.json",
        "  --latency-ms N        every client talks through a loopback proxy adding N ms each way (default 0)",
        "  --baseline-dist DIR   also run the MCP server of another build (DIR/cli.js): the 'before' column",
        "  --methods LIST        a subset of raw,rclone,lib,mcp,base (default: all that are available)",
        "  --directions LIST     upload, download or both (default) for the directory and large-file cases",
        "  --skip-ceiling        do not measure the server's ceiling first",
        "  --report [FILE]       print the table again from a results.json (default bench/results.json); measures nothing",
        "",
      ].join("\n"),
    );
    process.exit(0);
  }
  const int = (name: string, raw: string | undefined, fallback: number, min: number, max: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer from ${min} to ${max}; got ${raw}`);
    return n;
  };
  const quick = values.quick ?? false;
  let only = new Set<CaseName>(CASES);
  if (values.only !== undefined) {
    const names = values.only
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    for (const n of names)
      if (!(CASES as readonly string[]).includes(n)) throw new Error(`--only: unknown case ${n}; use ${CASES.join(",")}`);
    only = new Set(names as CaseName[]);
  }
  let methods: Set<Method> | undefined;
  if (values.methods !== undefined) {
    const names = values.methods
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    for (const n of names)
      if (!(METHODS as readonly string[]).includes(n)) throw new Error(`--methods: unknown method ${n}; use ${METHODS.join(",")}`);
    methods = new Set(names as Method[]);
  }
  let directions: Set<"upload" | "download"> | undefined;
  if (values.directions !== undefined) {
    const names = values.directions
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean);
    for (const n of names)
      if (n !== "upload" && n !== "download") throw new Error(`--directions: unknown direction ${n}; use upload,download`);
    directions = new Set(names as ("upload" | "download")[]);
  }
  const baselineDist = values["baseline-dist"] === undefined ? undefined : path.resolve(values["baseline-dist"]);
  if (baselineDist !== undefined && !existsSync(path.join(baselineDist, "cli.js")))
    throw new Error(`--baseline-dist: ${baselineDist}/cli.js is missing`);
  return {
    quick,
    skipCeiling: values["skip-ceiling"] ?? false,
    latencyMs: int("latency-ms", values["latency-ms"], 0, 0, 1000),
    ...(baselineDist !== undefined ? { baselineDist } : {}),
    ...(methods !== undefined ? { methods } : {}),
    ...(directions !== undefined ? { directions } : {}),
    // 64 is r2-mcp's max_workers limit.
    concurrency: int("concurrency", values.concurrency, 16, 1, 64),
    only,
    repeats: int("repeats", values.repeats, 3, 1, 50),
    smallFiles: int("small-files", values["small-files"], quick ? 200 : 1000, 1, 100_000),
    largeFiles: int("large-files", values["large-files"], quick ? 8 : 64, 1, 1000),
    hugeBytes: int("huge-mib", values["huge-mib"], quick ? 64 : 1024, 1, 8192) * MIB,
    heads: int("heads", values.heads, quick ? 100 : 500, 1, 100_000),
    colds: int("colds", values.colds, quick ? 3 : 10, 1, 100),
    keys: int("keys", values.keys, quick ? 200 : 1000, 1, 100_000),
    timeoutMs: int("timeout-s", values["timeout-s"], 900, 10, 86_400) * 1000,
    out: path.resolve(values.out ?? RESULTS),
  };
}

interface TransferOutcome {
  files: number;
  bytes: number;
  /** inner time where the tool measures it itself (workers); otherwise wall time is used */
  seconds?: number;
  clientCpuSeconds?: number;
  peakRssKiB?: number;
}

function cpuSecondsOfPid(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime are fields 14 and 15 (1-based), i.e. 11 and 12 after the ")" cut.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

function diffRequests(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) {
    const d = v - (a[k] ?? 0);
    if (d > 0) out[k] = d;
  }
  return out;
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

// ---------------------------------------------------------------------------------------------
// the benchmark

class Bench {
  readonly results: BenchResults = { rclone: {}, caseErrors: {} };
  private mcp: McpSession | undefined;
  private lib!: import("../src/index.js").R2Client;
  private readonly raw: S3Client;
  private rclone: Rclone | undefined;
  private readonly roots: string;
  private baseMcp: McpSession | undefined;

  constructor(
    readonly flags: Flags,
    readonly server: ServerProcess,
    readonly base: string,
    /** Where every client sends its requests: the server, or the latency proxy in front of it. */
    readonly endpoint: string,
  ) {
    this.raw = rawClient(endpoint, Math.max(64, flags.concurrency));
    this.roots = base;
  }

  private cli(method: Method): string {
    return method === "base" && this.flags.baselineDist ? path.join(this.flags.baselineDist, "cli.js") : CLI;
  }

  async init(): Promise<void> {
    await this.raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
    // What is measured is what ships: the built library.
    const { R2Client } = (await import(pathToFileURL(DIST_INDEX).href)) as typeof import("../src/index.js");
    this.lib = new R2Client({
      bucketName: BUCKET,
      endpointUrl: this.endpoint,
      accessKeyId: BENCH_CREDENTIALS.accessKeyId,
      secretAccessKey: BENCH_CREDENTIALS.secretAccessKey,
      regionName: BENCH_REGION,
    });
    const info = findRclone();
    if (info) {
      this.rclone = new Rclone(info, this.endpoint, this.base);
      this.results.rclone.version = info.version;
      const spawns: number[] = [];
      for (let i = 0; i < 3; i++) spawns.push((await this.rclone.run(["version"], 30_000)).seconds * 1000);
      this.results.rclone.spawnMs = median(spawns);
    } else {
      this.results.rclone.hint = RCLONE_HINT;
    }
  }

  /** The time bound of one measurement; shared by every request in flight, hence the listener limit. */
  private signal(): AbortSignal {
    const signal = AbortSignal.timeout(this.flags.timeoutMs);
    setMaxListeners(1000, signal);
    return signal;
  }

  private async session(method: "mcp" | "base" = "mcp"): Promise<McpSession> {
    if (method === "base") {
      if (!this.baseMcp) {
        this.baseMcp = await startMcp({ cliPath: this.cli("base"), endpoint: this.endpoint, bucket: BUCKET, root: this.roots });
        await this.baseMcp.client.listTools();
      }
      return this.baseMcp;
    }
    if (!this.mcp) {
      this.mcp = await startMcp({ cliPath: CLI, endpoint: this.endpoint, bucket: BUCKET, root: this.roots });
      await this.mcp.client.listTools();
    }
    return this.mcp;
  }

  /** An rclone command of a timed run: its own CPU time as the run's client CPU. */
  private async timedRclone(args: string[]): Promise<{ clientCpuSeconds?: number }> {
    const r = await this.rclone?.run(args, this.flags.timeoutMs);
    return r?.cpuSeconds !== undefined ? { clientCpuSeconds: r.cpuSeconds } : {};
  }

  /** One timed run with the server's request count and CPU time around it. */
  private async measure(fn: () => Promise<TransferOutcome>): Promise<Run> {
    const s0 = await this.server.stats();
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await fn();
    const wall = (performance.now() - t0) / 1000;
    const c1 = process.cpuUsage(c0);
    const s1 = await this.server.stats();
    const run: Run = {
      seconds: out.seconds ?? wall,
      files: out.files,
      bytes: out.bytes,
      serverCpuSeconds: (s1.cpu.user + s1.cpu.system - s0.cpu.user - s0.cpu.system) / 1e6,
      clientCpuSeconds: out.clientCpuSeconds ?? (c1.user + c1.system) / 1e6,
      requests: diffRequests(s0.requests, s1.requests),
      connections: s1.connections - s0.connections,
    };
    if (out.peakRssKiB !== undefined) run.peakRssKiB = out.peakRssKiB;
    return run;
  }

  private methods(): Method[] {
    const all: Method[] = this.rclone ? ["raw", "rclone", "lib", "mcp"] : ["raw", "lib", "mcp"];
    if (this.flags.baselineDist) all.push("base");
    return all.filter((m) => this.flags.methods?.has(m) ?? true);
  }

  private emptyDirection(): Direction {
    const d: Direction = {};
    for (const m of this.methods()) d[m] = { runs: [] };
    if (!this.rclone) d.rclone = { runs: [], error: RCLONE_HINT };
    return d;
  }

  /**
   * Untimed, before each run: writes out what earlier runs left in the page cache on the bench's
   * filesystem (`sync -f`), so that no run pays for another's unwritten bytes (a download that
   * flushes its files waits for the disk, which may still be busy writing the previous tool's).
   */
  private settleDisk(): void {
    if (process.platform === "linux") spawnSync("sync", ["-f", this.base], { stdio: "ignore" });
  }

  /** Runs `once` for every method, `repeats` times, rotating the order so no tool always goes first. */
  private async rounds(
    label: string,
    direction: Direction,
    once: (method: Method, rep: number) => Promise<Run>,
    repeats = this.flags.repeats,
  ): Promise<void> {
    // --directions: the transfer rounds are labelled "… upload" / "… download".
    const kind = / (upload|download)$/.exec(label)?.[1] as "upload" | "download" | undefined;
    if (kind !== undefined && this.flags.directions !== undefined && !this.flags.directions.has(kind)) return;
    const methods = this.methods();
    for (let rep = 0; rep < repeats; rep++) {
      for (let i = 0; i < methods.length; i++) {
        const method = methods[(i + rep) % methods.length] as Method;
        const slot = direction[method];
        if (!slot || slot.error) continue;
        this.settleDisk();
        try {
          const run = await once(method, rep);
          slot.runs.push(run);
          log(
            `${label} ${method} #${rep + 1}: ${run.seconds.toFixed(3)} s, server CPU ${fmt((run.serverCpuSeconds / run.seconds) * 100, 0)}%`,
          );
        } catch (err) {
          slot.error = err instanceof Error ? err.message : String(err);
          log(`${label} ${method} #${rep + 1} FAILED: ${slot.error}`);
        }
      }
    }
  }

  // --- checks ---------------------------------------------------------------------------------

  private async verifyUploaded(prefix: string, files: number, bytes: number): Promise<void> {
    const objects = await listAll(this.raw, BUCKET, prefix);
    const total = objects.reduce((n, o) => n + o.size, 0);
    if (objects.length !== files || total !== bytes) {
      throw new Error(`upload check: expected ${files} objects / ${bytes} bytes under ${prefix}, found ${objects.length} / ${total}`);
    }
  }

  private async verifyDownloaded(dir: string, files: number, bytes: number): Promise<void> {
    const found = (await walkFiles(dir)).filter((f) => !f.relative.includes(".r2-mcp-part"));
    const total = found.reduce((n, f) => n + f.size, 0);
    if (found.length !== files || total !== bytes) {
      throw new Error(`download check: expected ${files} files / ${bytes} bytes in ${dir}, found ${found.length} / ${total}`);
    }
  }

  // --- cases ----------------------------------------------------------------------------------

  async ceiling(): Promise<void> {
    log("server ceiling (raw SDK, bodies in memory)");
    this.results.ceiling = await measureServerCeiling(this.raw, BUCKET, {
      smallCount: this.flags.quick ? 300 : 1000,
      largeCount: this.flags.quick ? 8 : 32,
      concurrency: this.flags.concurrency,
      repeats: this.flags.quick ? 2 : 3,
      signal: this.signal(),
    });
  }

  /** Directory upload and download: N files of `size` bytes. */
  async directories(name: "small" | "large", files: number, size: number): Promise<void> {
    const n = this.flags.concurrency;
    const label = `${files} × ${fmtBytes(size)}`;
    log(`${label}: generating data`);
    const dir = await makeDirectory(path.join(this.base, "data", name), files, size);
    const bytes = files * size;
    const result: TransferCase = { files, fileBytes: size, upload: this.emptyDirection(), download: this.emptyDirection() };
    this.results[name] = result;
    const upload = async (method: Method, prefix: string): Promise<TransferOutcome> => {
      switch (method) {
        case "raw":
          return rawUploadDirectory(this.raw, BUCKET, dir, prefix, n, this.signal());
        case "lib": {
          const r = await this.lib.uploadDirectory(dir, prefix, { maxWorkers: n, overwrite: true, signal: this.signal() });
          return { files: r.transferred, bytes: r.bytes };
        }
        case "base":
        case "mcp": {
          const mcp = await this.session(method);
          const before = cpuSecondsOfPid(mcp.pid);
          const r = await mcp.call("upload_directory", { local_dir: dir, prefix, overwrite: true, max_workers: n }, this.flags.timeoutMs);
          const after = cpuSecondsOfPid(mcp.pid);
          return {
            files: Number(r.uploaded),
            bytes: Number(r.bytes),
            ...(before !== undefined && after !== undefined ? { clientCpuSeconds: after - before } : {}),
          };
        }
        case "rclone":
          return {
            files,
            bytes,
            ...(await this.timedRclone(["copy", "--transfers", String(n), "--checkers", String(n), dir, `bench:${BUCKET}/${prefix}`])),
          };
      }
    };
    const download = async (method: Method, prefix: string, target: string): Promise<TransferOutcome> => {
      switch (method) {
        case "raw":
          return rawDownloadDirectory(this.raw, BUCKET, prefix, target, n, this.signal());
        case "lib": {
          const r = await this.lib.downloadDirectory(prefix, target, { maxWorkers: n, overwrite: true, signal: this.signal() });
          return { files: r.transferred, bytes: r.bytes };
        }
        case "base":
        case "mcp": {
          const mcp = await this.session(method);
          const before = cpuSecondsOfPid(mcp.pid);
          const r = await mcp.call(
            "download_directory",
            { prefix, local_dir: target, overwrite: true, max_workers: n },
            this.flags.timeoutMs,
          );
          const after = cpuSecondsOfPid(mcp.pid);
          return {
            files: Number(r.downloaded),
            bytes: Number(r.bytes),
            ...(before !== undefined && after !== undefined ? { clientCpuSeconds: after - before } : {}),
          };
        }
        case "rclone":
          return {
            files,
            bytes,
            ...(await this.timedRclone(["copy", "--transfers", String(n), "--checkers", String(n), `bench:${BUCKET}/${prefix}`, target])),
          };
      }
    };

    // Small files: one untimed pass per tool first, so JIT warm-up and connection set-up are not
    // in the first timed run (for 8 MiB files the transfer dwarfs both).
    if (name === "small") {
      for (const method of this.methods()) {
        const prefix = `warm/${name}/${method}/`;
        await upload(method, prefix).catch((err: unknown) => log(`warm-up upload ${method} failed: ${String(err)}`));
        const target = path.join(this.base, "dl", `warm-${name}-${method}`);
        await download(method, prefix, target).catch((err: unknown) => log(`warm-up download ${method} failed: ${String(err)}`));
        await fs.rm(target, { recursive: true, force: true });
        await deletePrefix(this.raw, BUCKET, prefix);
      }
    }

    await this.rounds(`${label} upload`, result.upload, async (method, rep) => {
      const prefix = `up/${name}/${method}/${rep}/`;
      try {
        const run = await this.measure(() => upload(method, prefix));
        await this.verifyUploaded(prefix, files, bytes);
        return run;
      } finally {
        await deletePrefix(this.raw, BUCKET, prefix);
      }
    });

    const seed = `seed/${name}/`;
    await rawUploadDirectory(this.raw, BUCKET, dir, seed, n, this.signal());
    await this.rounds(`${label} download`, result.download, async (method, rep) => {
      const target = path.join(this.base, "dl", `${name}-${method}-${rep}`);
      try {
        const run = await this.measure(() => download(method, seed, target));
        await this.verifyDownloaded(target, files, bytes);
        return run;
      } finally {
        await fs.rm(target, { recursive: true, force: true });
      }
    });
    await deletePrefix(this.raw, BUCKET, seed);
    await fs.rm(dir, { recursive: true, force: true });
  }

  private async hugeWorker(mode: "raw-up" | "raw-down" | "lib-up" | "lib-down", key: string, file: string): Promise<TransferOutcome> {
    const job = {
      mode,
      endpoint: this.endpoint,
      bucket: BUCKET,
      key,
      file,
      dist: DIST_INDEX,
      accessKeyId: BENCH_CREDENTIALS.accessKeyId,
      secretAccessKey: BENCH_CREDENTIALS.secretAccessKey,
      region: BENCH_REGION,
      timeoutMs: this.flags.timeoutMs,
    };
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [HUGE_WORKER, JSON.stringify(job)], { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
      child.stderr.on("data", (c: Buffer) => (stderr = (stderr + c.toString("utf8")).slice(-4000)));
      const timer = setTimeout(() => child.kill("SIGKILL"), this.flags.timeoutMs + 30_000);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(stdout);
        else reject(new Error(`huge-worker ${mode} exited ${code}: ${stderr.trim()}`));
      });
    });
    const r = JSON.parse(out.trim().split("\n").pop() ?? "{}") as {
      seconds: number;
      cpuSeconds: number;
      bytes: number;
      maxRssKiB: number;
      vmHWMKiB: number;
    };
    return {
      files: 1,
      bytes: r.bytes,
      seconds: r.seconds,
      clientCpuSeconds: r.cpuSeconds,
      peakRssKiB: r.vmHWMKiB > 0 ? r.vmHWMKiB : r.maxRssKiB,
    };
  }

  /** One MCP tool call in a server process of its own, so its VmHWM is that call's peak. */
  private async mcpFresh(method: Method, tool: string, args: Record<string, unknown>): Promise<TransferOutcome> {
    const session = await startMcp({ cliPath: this.cli(method), endpoint: this.endpoint, bucket: BUCKET, root: this.roots });
    try {
      await session.client.listTools();
      const before = cpuSecondsOfPid(session.pid);
      const t0 = performance.now();
      const r = await session.call(tool, args, this.flags.timeoutMs);
      const seconds = (performance.now() - t0) / 1000;
      const after = cpuSecondsOfPid(session.pid);
      const peak = peakRssKiB(session.pid);
      return {
        files: 1,
        bytes: Number(r.size),
        seconds,
        ...(before !== undefined && after !== undefined ? { clientCpuSeconds: after - before } : {}),
        ...(peak > 0 ? { peakRssKiB: peak } : {}),
      };
    } finally {
      await session.close();
    }
  }

  async huge(): Promise<void> {
    const size = this.flags.hugeBytes;
    log(`${fmtBytes(size)} file: generating data`);
    const file = await makeFile(path.join(this.base, "data", "huge.bin"), size);
    const result: TransferCase = { files: 1, fileBytes: size, upload: this.emptyDirection(), download: this.emptyDirection() };
    this.results.huge = result;

    await this.rounds(`${fmtBytes(size)} upload`, result.upload, async (method, rep) => {
      const key = `up/huge/${method}-${rep}.bin`;
      try {
        const run = await this.measure(async () => {
          switch (method) {
            case "raw":
              return this.hugeWorker("raw-up", key, file);
            case "lib":
              return this.hugeWorker("lib-up", key, file);
            case "base":
            case "mcp":
              return this.mcpFresh(method, "upload_file", { local_path: file, key, overwrite: true });
            case "rclone":
              return {
                files: 1,
                bytes: size,
                ...(await this.timedRclone(
                  // fauxqs refuses single bodies over 11 MiB: go multipart from 8 MiB like the others.
                  [
                    "copyto",
                    "--s3-upload-cutoff",
                    "8M",
                    "--s3-chunk-size",
                    "8M",
                    "--s3-upload-concurrency",
                    "4",
                    file,
                    `bench:${BUCKET}/${key}`,
                  ],
                )),
              };
          }
        });
        const head = await this.raw.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
        if (head.ContentLength !== size) throw new Error(`upload check: ${key} is ${head.ContentLength} bytes, expected ${size}`);
        return run;
      } finally {
        await deletePrefix(this.raw, BUCKET, key);
      }
    });

    const seedKey = "seed/huge.bin";
    await this.hugeWorker("raw-up", seedKey, file);
    const samples = [0, Math.floor(size / 3), Math.max(0, size - 4096)];
    const expected = await readSamples(file, samples);
    await this.rounds(`${fmtBytes(size)} download`, result.download, async (method, rep) => {
      const target = path.join(this.base, "dl", `huge-${method}-${rep}.bin`);
      await fs.mkdir(path.dirname(target), { recursive: true });
      try {
        const run = await this.measure(async () => {
          switch (method) {
            case "raw":
              return this.hugeWorker("raw-down", seedKey, target);
            case "lib":
              return this.hugeWorker("lib-down", seedKey, target);
            case "base":
            case "mcp":
              return this.mcpFresh(method, "download_file", { key: seedKey, local_path: target, overwrite: true });
            case "rclone":
              return {
                files: 1,
                bytes: size,
                ...(await this.timedRclone(["copyto", "--multi-thread-streams", "8", `bench:${BUCKET}/${seedKey}`, target])),
              };
          }
        });
        const stat = await fs.stat(target);
        if (stat.size !== size) throw new Error(`download check: ${target} is ${stat.size} bytes, expected ${size}`);
        const got = await readSamples(target, samples);
        if (!got.every((b, i) => b.equals(expected[i] as Buffer))) throw new Error(`download check: ${target} differs from the source`);
        return run;
      } finally {
        await fs.rm(target, { force: true });
      }
    });
    await deletePrefix(this.raw, BUCKET, seedKey);
    await fs.rm(file, { force: true });
  }

  /**
   * Many small objects handled server-side: copy_objects of a prefix of N keys to another prefix
   * (raw SDK: a listing and one CopyObject per key; rclone: `copy` between two paths of the same
   * remote, which copies on the server), then delete_objects of a prefix of N keys (raw SDK: a
   * listing and DeleteObjects of up to 1000 keys; rclone: `delete`). Every delete run gets a
   * prefix of its own, seeded before the clock starts.
   */
  async keys(): Promise<void> {
    const n = this.flags.concurrency;
    const count = this.flags.keys;
    const size = 1024;
    const seed = "seed/keys/";
    const result: KeysCase = { keys: count, keyBytes: size, copy: this.emptyDirection(), delete: this.emptyDirection() };
    this.results.keys = result;
    log(`${count} keys: seeding`);
    await rawPutMany(this.raw, BUCKET, seed, count, size, n, this.signal());
    const mcpCall = async (method: "mcp" | "base", tool: string, args: Record<string, unknown>) => {
      const mcp = await this.session(method);
      const before = cpuSecondsOfPid(mcp.pid);
      const r = await mcp.call(tool, args, this.flags.timeoutMs);
      const after = cpuSecondsOfPid(mcp.pid);
      return { r, cpu: before !== undefined && after !== undefined ? { clientCpuSeconds: after - before } : {} };
    };

    // One untimed copy per tool first (server start, JIT warm-up, connections), as for small files.
    for (const method of this.methods()) {
      const to = `warm/keys/${method}/`;
      try {
        if (method === "raw") await rawCopyPrefix(this.raw, BUCKET, seed, to, n, this.signal());
        else if (method === "lib") await this.lib.copyObjects(seed, to, { recursive: true, maxWorkers: n, signal: this.signal() });
        else if (method === "mcp" || method === "base")
          await mcpCall(method, "copy_objects", { source: seed, destination: to, recursive: true, max_workers: n });
        else
          await this.rclone?.run(
            ["copy", "--transfers", String(n), `bench:${BUCKET}/${seed}`, `bench:${BUCKET}/${to}`],
            this.flags.timeoutMs,
          );
      } catch (err) {
        log(`warm-up copy ${method} failed: ${String(err)}`);
      }
      await deletePrefix(this.raw, BUCKET, to);
    }

    await this.rounds(`${count} keys copy_objects`, result.copy, async (method, rep) => {
      const to = `cp/${method}/${rep}/`;
      try {
        const run = await this.measure(async (): Promise<TransferOutcome> => {
          switch (method) {
            case "raw":
              return rawCopyPrefix(this.raw, BUCKET, seed, to, n, this.signal());
            case "lib": {
              const r = await this.lib.copyObjects(seed, to, { recursive: true, maxWorkers: n, signal: this.signal() });
              return { files: r.transferred, bytes: r.bytes };
            }
            case "base":
            case "mcp": {
              const { r, cpu } = await mcpCall(method, "copy_objects", { source: seed, destination: to, recursive: true, max_workers: n });
              return { files: Number(r.copied), bytes: Number(r.bytes), ...cpu };
            }
            case "rclone":
              return {
                files: count,
                bytes: count * size,
                ...(await this.timedRclone([
                  "copy",
                  "--transfers",
                  String(n),
                  "--checkers",
                  String(n),
                  `bench:${BUCKET}/${seed}`,
                  `bench:${BUCKET}/${to}`,
                ])),
              };
          }
        });
        await this.verifyUploaded(to, count, count * size);
        return run;
      } finally {
        await deletePrefix(this.raw, BUCKET, to);
      }
    });

    await this.rounds(`${count} keys delete_objects`, result.delete, async (method, rep) => {
      const prefix = `del/${method}/${rep}/`;
      await rawPutMany(this.raw, BUCKET, prefix, count, size, n, this.signal());
      try {
        const run = await this.measure(async (): Promise<TransferOutcome> => {
          switch (method) {
            case "raw":
              return { files: await deletePrefix(this.raw, BUCKET, prefix), bytes: count * size };
            case "lib": {
              const r = await this.lib.deleteObjects({ prefix }, { maxObjects: count, signal: this.signal() });
              return { files: r.deleted, bytes: r.bytes };
            }
            case "base":
            case "mcp": {
              const { r, cpu } = await mcpCall(method, "delete_objects", { prefix, max_objects: count });
              return { files: Number(r.deleted), bytes: Number(r.bytes), ...cpu };
            }
            case "rclone":
              return {
                files: count,
                bytes: count * size,
                ...(await this.timedRclone(["delete", "--checkers", String(n), `bench:${BUCKET}/${prefix}`])),
              };
          }
        });
        const left = await listAll(this.raw, BUCKET, prefix);
        if (left.length > 0) throw new Error(`delete check: ${left.length} objects left under ${prefix}`);
        return run;
      } finally {
        await deletePrefix(this.raw, BUCKET, prefix);
      }
    });
    await deletePrefix(this.raw, BUCKET, seed);
  }

  async head(): Promise<void> {
    const calls = this.flags.heads;
    const key = "seed/head/object.bin";
    await this.lib.uploadBytes(randomBytes(4 * KIB), key, { overwrite: true });
    const mcp = await this.session();
    const baseline = this.flags.baselineDist ? await this.session("base") : undefined;
    // The same server driven without the MCP SDK client: the client's share of the MCP column.
    const line = await startLineMcp({ cliPath: CLI, endpoint: this.endpoint, bucket: BUCKET, root: this.roots });
    const result: HeadResult = { calls, raw: [], lib: [], mcp: [], ping: [], line: [], ...(baseline ? { base: [] } : {}) };
    this.results.head = result;
    const one: Record<"raw" | "lib" | "mcp" | "ping" | "line" | "base", () => Promise<unknown>> = {
      raw: () => rawHead(this.raw, BUCKET, key),
      lib: () => this.lib.head(key),
      mcp: () => mcp.call("head_object", { key }, 30_000),
      // The MCP round trip with no tool and no S3 behind it: the stdio + JSON-RPC floor.
      ping: () => mcp.client.ping({ timeout: 30_000 }),
      base: () => (baseline as McpSession).call("head_object", { key }, 30_000),
      line: () => line.request("tools/call", { name: "head_object", arguments: { key } }),
    };
    const kinds = baseline ? (["raw", "lib", "mcp", "ping", "line", "base"] as const) : (["raw", "lib", "mcp", "ping", "line"] as const);
    log(`head_object: ${calls} calls each (sequential), interleaved in blocks of 50 (+ MCP ping, + head_object without the SDK client)`);
    try {
      for (const kind of kinds) for (let i = 0; i < 20; i++) await one[kind]();
      const deadline = performance.now() + Math.max(120_000, calls * 200);
      for (let done = 0; done < calls && performance.now() < deadline; ) {
        const block = Math.min(50, calls - done);
        for (const kind of kinds) {
          for (let i = 0; i < block; i++) {
            const t0 = performance.now();
            await one[kind]();
            result[kind]?.push(performance.now() - t0);
          }
        }
        done += block;
      }
    } finally {
      line.close();
    }
    await deletePrefix(this.raw, BUCKET, key);
  }

  async cold(): Promise<void> {
    const count = this.flags.colds;
    const result: ColdResult = { toolsList: [], initialize: [], bareNode: [], ...(this.flags.baselineDist ? { baseToolsList: [] } : {}) };
    this.results.cold = result;
    log(`cold start: ${count} spawns`);
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      const session = await startMcp({ cliPath: CLI, endpoint: this.endpoint, bucket: BUCKET, root: this.roots });
      const t1 = performance.now();
      await session.client.listTools();
      const t2 = performance.now();
      await session.close();
      result.initialize.push(t1 - t0);
      result.toolsList.push(t2 - t0);
      if (result.baseToolsList) {
        const b0 = performance.now();
        const before = await startMcp({ cliPath: this.cli("base"), endpoint: this.endpoint, bucket: BUCKET, root: this.roots });
        await before.client.listTools();
        result.baseToolsList.push(performance.now() - b0);
        await before.close();
      }
    }
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ["-e", "0"], { stdio: "ignore" });
        child.on("error", reject);
        child.on("close", () => resolve());
      });
      result.bareNode.push(performance.now() - t0);
    }
  }

  async close(): Promise<void> {
    const mcp = this.mcp;
    this.mcp = undefined;
    if (mcp) this.results.mcpServerStderr = mcp.stderr();
    await mcp?.close().catch(() => undefined);
    const baseMcp = this.baseMcp;
    this.baseMcp = undefined;
    await baseMcp?.close().catch(() => undefined);
    await this.lib?.close().catch(() => undefined);
    this.raw.destroy();
  }
}

/** Which source the measured dist/ was built from: commit and uncommitted changes under src/. */
function gitState(): { commit?: string; dirtySrc?: string[]; distBuiltAt?: string } {
  const git = (args: string[]) => spawnSync("git", args, { cwd: REPO, encoding: "utf8" });
  const commit = git(["rev-parse", "HEAD"]);
  const status = git(["status", "--porcelain", "--", "src"]);
  const out: { commit?: string; dirtySrc?: string[]; distBuiltAt?: string } = {};
  if (commit.status === 0) out.commit = commit.stdout.trim();
  if (status.status === 0) out.dirtySrc = status.stdout.split("\n").filter(Boolean);
  try {
    out.distBuiltAt = statSync(DIST_INDEX).mtime.toISOString();
  } catch {
    // reported as missing at start-up
  }
  return out;
}

async function readSamples(file: string, offsets: number[]): Promise<Buffer[]> {
  const handle = await fs.open(file, "r");
  try {
    const out: Buffer[] = [];
    for (const offset of offsets) {
      const buf = Buffer.alloc(4096);
      const { bytesRead } = await handle.read(buf, 0, buf.length, offset);
      out.push(buf.subarray(0, bytesRead));
    }
    return out;
  } finally {
    await handle.close();
  }
}

// ---------------------------------------------------------------------------------------------

/** `--report FILE`: prints the table again from a results.json, without measuring anything. */
async function reprint(file: string): Promise<void> {
  const saved = JSON.parse(await fs.readFile(file, "utf8")) as {
    date: string;
    durationSeconds: number;
    machine: MachineInfo & { loadAverageBefore: number[]; loadAverageAfter: number[] };
    flags: Omit<Flags, "only"> & { only: CaseName[] };
    results: BenchResults;
  };
  const flags: Flags = { ...saved.flags, only: new Set(saved.flags.only) };
  const load: [number, number] = [saved.machine.loadAverageBefore[0] ?? 0, saved.machine.loadAverageAfter[0] ?? 0];
  const report = buildReport(saved.results, flags, new Date(saved.date), saved.durationSeconds, load, saved.machine);
  process.stdout.write(`${report.markdown}\n`);
}

async function main(): Promise<void> {
  const reportIndex = process.argv.indexOf("--report");
  if (reportIndex !== -1) return reprint(process.argv[reportIndex + 1] ?? RESULTS);
  const flags = parseFlags(process.argv.slice(2));
  for (const needed of [DIST_INDEX, CLI]) {
    if (!existsSync(needed)) throw new Error(`${needed} is missing: run npm run build first (npm run bench does it)`);
  }
  const startedAt = new Date();
  const loadBefore = os.loadavg();
  // Others may rebuild dist/ while this runs (npm test builds); the report says so if it happened.
  const distAtStart = statSync(DIST_INDEX).mtime.toISOString();
  const t0 = performance.now();
  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "r2-mcp-bench-")));
  let server: ServerProcess | undefined;
  let proxy: LatencyProxy | undefined;
  let bench: Bench | undefined;
  const onSignal = () => {
    void (async () => {
      proxy?.stop();
      await server?.stop().catch(() => undefined);
      await fs.rm(base, { recursive: true, force: true }).catch(() => undefined);
      process.exit(130);
    })();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    server = await ServerProcess.start();
    log(`S3 server (pid ${server.pid}) at ${server.endpoint}; data in ${base}`);
    let endpoint = server.endpoint;
    if (flags.latencyMs > 0) {
      proxy = await LatencyProxy.start(server.endpoint, flags.latencyMs);
      endpoint = proxy.endpoint;
      log(`clients talk through a latency proxy (+${flags.latencyMs} ms each way) at ${endpoint}`);
    }
    bench = new Bench(flags, server, base, endpoint);
    await bench.init();
    if (!flags.skipCeiling) await bench.ceiling();
    const cases: Record<CaseName, () => Promise<void>> = {
      small: () => bench!.directories("small", flags.smallFiles, 4 * KIB),
      large: () => bench!.directories("large", flags.largeFiles, 8 * MIB),
      huge: () => bench!.huge(),
      keys: () => bench!.keys(),
      head: () => bench!.head(),
      cold: () => bench!.cold(),
    };
    for (const name of CASES) {
      if (!flags.only.has(name)) continue;
      // One case failing (e.g. its seed upload) is reported and the others still run.
      await cases[name]().catch((err: unknown) => {
        const message = err instanceof Error ? err.message : String(err);
        bench!.results.caseErrors[name] = message;
        log(`${name} FAILED: ${message}`);
      });
    }

    await bench.close();
    const seconds = (performance.now() - t0) / 1000;
    const machine = machineInfo();
    const loadAfter = os.loadavg();
    const distAtEnd = statSync(DIST_INDEX).mtime.toISOString();
    if (distAtEnd !== distAtStart)
      bench.results.distRebuiltDuringRun = `dist/ was rebuilt during the run (${distAtStart} → ${distAtEnd}); later cases measured the newer build`;
    const report = buildReport(bench.results, flags, startedAt, seconds, [loadBefore[0] ?? 0, loadAfter[0] ?? 0], machine);
    process.stdout.write(`\n${report.markdown}\n`);
    const results = {
      date: startedAt.toISOString(),
      durationSeconds: seconds,
      machine: { ...machine, loadAverageBefore: loadBefore, loadAverageAfter: loadAfter },
      flags: { ...flags, only: [...flags.only] },
      build: { ...gitState(), distBuiltAtStart: distAtStart },
      server: { name: "fauxqs", version: fauxqsVersion(), address: "127.0.0.1", process: "separate" },
      targets: { ratio: TARGET_RATIO, rssBytes: TARGET_RSS_BYTES, mcpOverheadMs: TARGET_MCP_OVERHEAD_MS },
      verdicts: report.verdicts,
      results: bench.results,
      table: report.markdown,
    };
    await fs.writeFile(flags.out, `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote ${path.relative(process.cwd(), flags.out)}`);
  } finally {
    await bench?.close().catch(() => undefined);
    proxy?.stop();
    await server?.stop().catch(() => undefined);
    await fs.rm(base, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
