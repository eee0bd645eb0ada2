/** The Markdown report: one table of every measurement against its target, then the context. */
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { fmt, fmtBytes, fmtRatio, markdownTable, median, percentile, ratio } from "./stats.js";
import {
  type BenchResults,
  type Direction,
  type Flags,
  METHODS,
  type Method,
  type MethodResult,
  type Run,
  SERVER_BOUND_UTILISATION,
  TARGET_MCP_OVERHEAD_MS,
  TARGET_RATIO,
  TARGET_RSS_BYTES,
} from "./types.js";

const MIB = 1024 * 1024;
const REPO = fileURLToPath(new URL("../", import.meta.url));

interface Row {
  cells: string[];
  verdict?: { met: boolean; text: string };
}

const medianOf = (r: MethodResult | undefined, f: (run: Run) => number): number | undefined =>
  r && !r.error && r.runs.length > 0 ? median(r.runs.map(f)) : undefined;

function throughput(r: MethodResult | undefined, unit: "files" | "MiB"): number | undefined {
  return medianOf(r, (run) => (unit === "files" ? run.files : run.bytes / MIB) / run.seconds);
}

function serverUtil(r: MethodResult | undefined): number | undefined {
  return medianOf(r, (run) => run.serverCpuSeconds / run.seconds);
}

function cell(r: MethodResult | undefined, value: number | undefined, digits = 1): string {
  if (r?.error) return r.error.startsWith("rclone not installed") ? "not installed" : "failed (see notes)";
  return fmt(value, digits);
}

function transferRow(label: string, d: Direction, unit: "files" | "MiB", requireRclone: boolean): Row {
  const v = Object.fromEntries(METHODS.map((m) => [m, throughput(d[m], unit)])) as Record<Method, number | undefined>;
  const u = Object.fromEntries(METHODS.map((m) => [m, serverUtil(d[m])])) as Record<Method, number | undefined>;
  const libRaw = ratio(v.lib, v.raw);
  const mcpRaw = ratio(v.mcp, v.raw);
  const libRclone = ratio(v.lib, v.rclone);
  const mcpRclone = ratio(v.mcp, v.rclone);
  const mcpBase = ratio(v.mcp, v.base);
  const misses: string[] = [];
  if (libRaw === undefined || libRaw < TARGET_RATIO) misses.push(`library ${fmtRatio(libRaw)} raw`);
  if (mcpRaw === undefined || mcpRaw < TARGET_RATIO) misses.push(`MCP ${fmtRatio(mcpRaw)} raw`);
  let rcloneNote = "";
  if (requireRclone) {
    if (v.rclone === undefined) rcloneNote = " (rclone part not checked)";
    else {
      if (libRclone === undefined || libRclone <= 1) misses.push(`library ${fmtRatio(libRclone)} rclone`);
      if (mcpRclone === undefined || mcpRclone <= 1) misses.push(`MCP ${fmtRatio(mcpRclone)} rclone`);
    }
  }
  const pct = (x: number | undefined) => (x === undefined ? "—" : `${Math.round(x * 100)}%`);
  const bound =
    (u.raw ?? 0) >= SERVER_BOUND_UTILISATION && Math.max(u.lib ?? 0, u.mcp ?? 0) >= SERVER_BOUND_UTILISATION ? " **server-bound**" : "";
  const target = requireRclone ? `≥ ${TARGET_RATIO}× raw, > rclone` : `≥ ${TARGET_RATIO}× raw`;
  const met = misses.length === 0;
  return {
    cells: [
      label,
      cell(d.raw, v.raw),
      cell(d.rclone, v.rclone),
      cell(d.lib, v.lib),
      cell(d.mcp, v.mcp),
      fmtRatio(libRaw),
      fmtRatio(mcpRaw),
      fmtRatio(libRclone),
      fmtRatio(mcpRclone),
      cell(d.base, v.base),
      fmtRatio(mcpBase),
      `${pct(u.raw)} / ${pct(u.rclone)} / ${pct(u.lib)} / ${pct(u.mcp)}${bound}`,
      target,
      (met ? "met" : `MISSED: ${misses.join("; ")}`) + rcloneNote,
    ],
    verdict: { met, text: misses.join("; ") },
  };
}

function rssRow(label: string, d: Direction): Row {
  const mb = (r: MethodResult | undefined) => medianOf(r, (run) => ((run.peakRssKiB ?? Number.NaN) * 1024) / 1e6);
  const lib = mb(d.lib);
  const mcp = mb(d.mcp);
  const base = mb(d.base);
  const misses: string[] = [];
  if (lib === undefined || !(lib < TARGET_RSS_BYTES / 1e6)) misses.push(`library ${fmt(lib, 0)} MB`);
  if (mcp === undefined || !(mcp < TARGET_RSS_BYTES / 1e6)) misses.push(`MCP server ${fmt(mcp, 0)} MB`);
  return {
    cells: [
      label,
      cell(d.raw, mb(d.raw), 0),
      d.rclone?.error?.startsWith("rclone not installed") ? "not installed" : "not measured",
      cell(d.lib, lib, 0),
      cell(d.mcp, mcp, 0),
      "",
      "",
      "",
      "",
      cell(d.base, base, 0),
      "",
      "",
      "< 150 MB",
      misses.length ? `MISSED: ${misses.join("; ")}` : "met",
    ],
    verdict: { met: misses.length === 0, text: misses.join("; ") },
  };
}

export interface MachineInfo {
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string | undefined;
  totalMemoryBytes: number;
}

export function machineInfo(): MachineInfo {
  return {
    node: process.version,
    platform: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    totalMemoryBytes: os.totalmem(),
  };
}

export function buildReport(
  r: BenchResults,
  flags: Flags,
  startedAt: Date,
  seconds: number,
  load: [number, number],
  machine: MachineInfo,
): { markdown: string; verdicts: Record<string, boolean> } {
  const rows: Row[] = [];
  const verdicts: Record<string, boolean> = {};
  const add = (id: string, row: Row) => {
    rows.push(row);
    if (row.verdict) verdicts[id] = row.verdict.met;
  };
  if (r.small) {
    const l = `${r.small.files} × ${fmtBytes(r.small.fileBytes)}`;
    add("small.upload", transferRow(`${l} upload (files/s)`, r.small.upload, "files", true));
    add("small.download", transferRow(`${l} download (files/s)`, r.small.download, "files", true));
  }
  if (r.large) {
    const l = `${r.large.files} × ${fmtBytes(r.large.fileBytes)}`;
    add("large.upload", transferRow(`${l} upload (MiB/s)`, r.large.upload, "MiB", true));
    add("large.download", transferRow(`${l} download (MiB/s)`, r.large.download, "MiB", true));
  }
  if (r.huge) {
    const l = `${fmtBytes(r.huge.fileBytes)} file`;
    add("huge.upload", transferRow(`${l} upload (MiB/s)`, r.huge.upload, "MiB", false));
    add("huge.download", transferRow(`${l} download (MiB/s)`, r.huge.download, "MiB", false));
    add("huge.upload.rss", rssRow(`peak RSS, ${l} upload (MB)`, r.huge.upload));
    add("huge.download.rss", rssRow(`peak RSS, ${l} download (MB)`, r.huge.download));
  }
  if (r.keys) {
    const l = `${r.keys.keys} keys of ${fmtBytes(r.keys.keyBytes)}:`;
    add("keys.copy", transferRow(`${l} copy_objects (keys/s)`, r.keys.copy, "files", true));
    add("keys.delete", transferRow(`${l} delete_objects (keys/s)`, r.keys.delete, "files", true));
  }
  if (r.head) {
    const h = r.head;
    const p50 = { raw: percentile(h.raw, 50), lib: percentile(h.lib, 50), mcp: percentile(h.mcp, 50) };
    const p99 = { raw: percentile(h.raw, 99), lib: percentile(h.lib, 99), mcp: percentile(h.mcp, 99) };
    const overhead = p50.mcp - p50.raw;
    const met = overhead < TARGET_MCP_OVERHEAD_MS;
    const n = h.mcp.length;
    add("head.p50", {
      cells: [
        `head_object p50, ${n} calls (ms)`,
        fmt(p50.raw, 2),
        "—",
        fmt(p50.lib, 2),
        fmt(p50.mcp, 2),
        "",
        "",
        "",
        "",
        h.base ? fmt(percentile(h.base, 50), 2) : "",
        "",
        "",
        `MCP − SDK < ${TARGET_MCP_OVERHEAD_MS} ms`,
        `${met ? "met" : "MISSED"}: ${signed(overhead)} ms (MCP − library ${signed(p50.mcp - p50.lib)} ms)`,
      ],
      verdict: { met, text: `${signed(overhead)} ms` },
    });
    if (h.line?.length) {
      const line = percentile(h.line, 50);
      rows.push({
        cells: [
          `head_object p50 without the SDK client (bare JSON lines), ${h.line.length} calls (ms)`,
          fmt(p50.raw, 2),
          "—",
          fmt(p50.lib, 2),
          fmt(line, 2),
          "",
          "",
          "",
          "",
          "",
          "",
          "",
          "— (the SDK client's share of the row above)",
          `${signed(line - p50.raw)} ms; SDK client ${signed(p50.mcp - line)} ms`,
        ],
      });
    }
    rows.push({
      cells: [
        `head_object p99, ${n} calls (ms)`,
        fmt(p99.raw, 2),
        "—",
        fmt(p99.lib, 2),
        fmt(p99.mcp, 2),
        "",
        "",
        "",
        "",
        h.base ? fmt(percentile(h.base, 99), 2) : "",
        "",
        "",
        "—",
        `${signed(p99.mcp - p99.raw)} ms`,
      ],
    });
    rows.push({
      cells: [
        `MCP ping round trip (no tool, no S3) p50 / p99 (ms)`,
        "—",
        "—",
        "—",
        `${fmt(percentile(h.ping, 50), 2)} / ${fmt(percentile(h.ping, 99), 2)}`,
        "",
        "",
        "",
        "",
        "",
        "",
        "",
        "—",
        "the stdio + JSON-RPC floor",
      ],
    });
  }
  if (r.cold) {
    const c = r.cold;
    rows.push({
      cells: [
        `cold start: spawn → tools/list, median of ${c.toolsList.length} (ms)`,
        "—",
        "—",
        "—",
        fmt(median(c.toolsList), 0),
        "",
        "",
        "",
        "",
        c.baseToolsList ? fmt(median(c.baseToolsList), 0) : "",
        "",
        "",
        "< 300 ms",
        `${median(c.toolsList) < 300 ? "met" : "MISSED"} (bare \`node -e 0\`: ${fmt(median(c.bareNode), 0)} ms; initialize: ${fmt(median(c.initialize), 0)} ms)`,
      ],
    });
  }
  const header = [
    "measurement",
    "raw SDK",
    "rclone",
    "r2-mcp library",
    "r2-mcp MCP",
    "library / raw",
    "MCP / raw",
    "library / rclone",
    "MCP / rclone",
    "MCP before",
    "MCP / before",
    "server CPU (raw / rclone / lib / MCP)",
    "target",
    "verdict",
  ];
  const lines: string[] = [];
  lines.push(
    `### r2-mcp benchmark — ${startedAt.toISOString()} (${flags.quick ? "--quick" : "full set"}, concurrency ${flags.concurrency}, ${flags.latencyMs > 0 ? `+${flags.latencyMs} ms each way, ` : ""}median of ${flags.repeats}, ${Math.round(seconds)} s)`,
  );
  lines.push("");
  lines.push(
    `Node ${machine.node}, ${machine.cpus} × ${machine.cpuModel ?? "cpu"}, ${Math.round(machine.totalMemoryBytes / 2 ** 30)} GiB RAM, ${machine.platform}; ` +
      `server: fauxqs ${fauxqsVersion()} in its own process on 127.0.0.1 (in memory); rclone: ${r.rclone.version ?? r.rclone.hint ?? "—"}; ` +
      `1-min load average ${load[0].toFixed(1)} before, ${load[1].toFixed(1)} after.`,
  );
  if (Math.max(...load) > machine.cpus * 0.75) {
    lines.push("");
    lines.push(
      `**Warning:** the machine was busy with other work (load average above ${machine.cpus * 0.75} on ${machine.cpus} CPUs); absolute numbers are noisy, the interleaved ratios less so.`,
    );
  }
  lines.push("");
  lines.push(
    markdownTable(
      header,
      rows.map((row) => row.cells),
    ),
  );
  lines.push("");
  lines.push(
    'Throughput is higher-is-better; ratios are r2-mcp ÷ baseline. "server CPU" is the S3 server\'s CPU time ÷ wall time during the run (one event loop: ~100% means the server is saturated); a row is **server-bound** when both the raw SDK and r2-mcp keep it ≥ 85% busy, so the ratio there says more about the server than the client.',
  );
  if (r.ceiling) {
    const c = r.ceiling;
    lines.push("");
    lines.push(
      `Server ceiling (raw SDK, bodies in memory, no disk, best of runs): 4 KiB PUT ${fmt(c.put4kPerSec, 0)}/s, GET ${fmt(c.get4kPerSec, 0)}/s, HEAD ${fmt(c.headPerSec, 0)}/s at concurrency 64; ` +
        `8 MiB PUT ${fmt(c.put8mMiBps, 0)} MiB/s, GET ${fmt(c.get8mMiBps, 0)} MiB/s at concurrency ${flags.concurrency}.`,
    );
  }
  const reqTable = requestsTable(r);
  if (reqTable) {
    lines.push("");
    lines.push("Requests the server saw per file, and TCP connections it accepted per file (middle run):");
    lines.push("");
    lines.push(reqTable);
  }
  const cpuTable = clientCpuTable(r);
  if (cpuTable) {
    lines.push("");
    lines.push(
      "Client CPU time per run, seconds (median; the process doing the transfer: this one for raw/library directories, the worker for the large file, the r2-mcp server for MCP, the rclone process from its start):",
    );
    lines.push("");
    lines.push(cpuTable);
  }
  lines.push("");
  lines.push("What each column does:");
  lines.push(
    `- raw SDK: @aws-sdk/client-s3 with a keep-alive agent; directories: walk + one PutObject per file streamed from disk / ListObjectsV2 + one GetObject per key piped to its file, p-map with concurrency ${flags.concurrency}, no HEAD, no temp file, no fsync. Large file: @aws-sdk/lib-storage Upload (8 MiB parts, queueSize 4) / HEAD + ranged GETs of 8 MiB, 8 in flight, positional writes. The large-file runs happen in a child process (peak RSS column).`,
  );
  lines.push(
    `- rclone: \`rclone copy --transfers ${flags.concurrency} --checkers ${flags.concurrency}\` (large file: \`copyto --s3-upload-cutoff 8M --s3-chunk-size 8M --s3-upload-concurrency 4\` / \`copyto --multi-thread-streams 8\`), remote configured by environment only (provider Other, path style, no bucket check); its time includes process start (~${fmt(r.rclone.spawnMs, 0)} ms for \`rclone version\`).${r.rclone.hint ? ` **${r.rclone.hint}**; its columns are empty.` : ""}`,
  );
  lines.push(
    `- r2-mcp library: the built dist/index.js, \`R2Client.uploadDirectory/downloadDirectory({ maxWorkers: ${flags.concurrency}, overwrite: true })\`, \`uploadFile/downloadFile\` (the large file in a child process, for its peak RSS).`,
  );
  lines.push(
    `- r2-mcp MCP: \`node dist/cli.js\` over stdio with the MCP SDK client: upload_directory / download_directory (max_workers ${flags.concurrency}, overwrite true), upload_file / download_file (a fresh server per large-file call; peak RSS is its VmHWM), head_object.`,
  );
  lines.push(
    "- head_object: sequential calls, 20 warm-up each, then blocks of 50 interleaved raw SDK HeadObject / R2Client.head / MCP head_object (SDK client, tools listed, so it checks each result against the output schema) / MCP ping / head_object through a second server process driven by bare JSON lines (no SDK client).",
  );
  lines.push("- cold start: spawn of `node dist/cli.js` → initialize → tools/list answered.");
  if (r.keys)
    lines.push(
      `- keys: copy_objects of a prefix of ${r.keys.keys} keys to a new prefix (raw SDK: ListObjectsV2 + one CopyObject per key, p-map with concurrency ${flags.concurrency}; rclone: \`copy\` between two paths of the same remote, which copies on the server; library: \`R2Client.copyObjects({ recursive: true })\`; MCP: copy_objects), then delete_objects of a fresh prefix of ${r.keys.keys} keys, seeded untimed (raw SDK: ListObjectsV2 + DeleteObjects of up to 1000 keys; rclone: \`delete --checkers ${flags.concurrency}\`; library: \`R2Client.deleteObjects({ prefix })\`; MCP: delete_objects).`,
    );
  if (flags.baselineDist)
    lines.push(
      `- MCP before: the same MCP calls against the server built in \`${flags.baselineDist}\`, interleaved with the others in the same run.`,
    );
  if (flags.latencyMs > 0)
    lines.push(
      `- every client (raw SDK, rclone, library, MCP) reached the server through a loopback proxy delaying every byte by ${flags.latencyMs} ms each way.`,
    );
  const failures: string[] = [];
  for (const { name, dirs } of directions(r)) {
    for (const [dir, d] of dirs) {
      for (const m of METHODS) {
        const e = d[m]?.error;
        if (e && !e.startsWith("rclone not installed")) failures.push(`- ${name} ${dir} ${m}: ${e}${explain(e)}`);
      }
    }
  }
  const warnings = [
    ...new Set(
      (r.mcpServerStderr ?? "")
        .split("\n")
        .filter((l) => /Warning/.test(l) && !/NodeVersionSupport/.test(l))
        .map((l) => l.replace(/^\(node:\d+\) /, "")),
    ),
  ];
  if (warnings.length)
    failures.push(
      `- the r2-mcp server printed on stderr: ${warnings
        .slice(0, 3)
        .map((w) => `\`${w.slice(0, 160)}\``)
        .join("; ")}`,
    );
  if (r.distRebuiltDuringRun) failures.push(`- ${r.distRebuiltDuringRun}`);
  for (const [name, e] of Object.entries(r.caseErrors)) failures.push(`- case ${name} did not complete: ${e}`);
  if (failures.length) {
    lines.push("");
    lines.push("Failures and warnings:");
    lines.push(...failures);
  }
  return { markdown: lines.join("\n"), verdicts };
}

/** Every measured case with its directions (upload/download, or copy/delete) and its count of files or keys. */
function directions(r: BenchResults): { name: string; files: number; dirs: [string, Direction][] }[] {
  const out: { name: string; files: number; dirs: [string, Direction][] }[] = [];
  for (const name of ["small", "large", "huge"] as const) {
    const c = r[name];
    if (c)
      out.push({
        name,
        files: c.files,
        dirs: [
          ["upload", c.upload],
          ["download", c.download],
        ],
      });
  }
  if (r.keys)
    out.push({
      name: "keys",
      files: r.keys.keys,
      dirs: [
        ["copy", r.keys.copy],
        ["delete", r.keys.delete],
      ],
    });
  return out;
}

function requestsTable(r: BenchResults): string | undefined {
  const rows: string[][] = [];
  const abbreviations: Record<string, string> = {
    PutObject: "PUT",
    UploadPart: "PART",
    CreateMultipartUpload: "CREATE",
    CompleteMultipartUpload: "COMPLETE",
    GetObject: "GET",
    HeadObject: "HEAD",
    ListObjects: "LIST",
    CopyObject: "COPY",
    DeleteObject: "DELETE",
    DeleteObjects: "DELETE-BATCH",
  };
  for (const { name, files, dirs } of directions(r)) {
    for (const [dir, d] of dirs) {
      const cells = METHODS.map((m) => {
        const res = d[m];
        if (!res || res.error || res.runs.length === 0) return "—";
        const run = res.runs[Math.floor(res.runs.length / 2)] as Run;
        const perFile = (n: number) => fmt(n / files, n / files < 10 ? 2 : 0);
        const ops = Object.entries(run.requests).map(([op, n]) => `${abbreviations[op] ?? op} ${perFile(n)}`);
        return `${ops.join(", ")}; new TCP connections ${perFile(run.connections)}`;
      });
      rows.push([`${name} ${dir}`, ...cells]);
    }
  }
  return rows.length ? markdownTable(["case", ...METHODS.map(methodName)], rows) : undefined;
}

function clientCpuTable(r: BenchResults): string | undefined {
  const rows: string[][] = [];
  for (const { name, dirs } of directions(r)) {
    for (const [dir, d] of dirs) {
      rows.push([
        `${name} ${dir}`,
        ...METHODS.map((m) =>
          fmt(
            medianOf(d[m], (run) => run.clientCpuSeconds ?? Number.NaN),
            2,
          ),
        ),
        ...METHODS.map((m) =>
          fmt(
            medianOf(d[m], (run) => run.seconds),
            2,
          ),
        ),
      ]);
    }
  }
  const names = METHODS.map(methodName);
  return rows.length ? markdownTable(["case", ...names.map((n) => `${n} CPU s`), ...names.map((n) => `${n} wall s`)], rows) : undefined;
}

/** Known causes of failures seen with this server, so the table does not just say "failed". */
function explain(error: string): string {
  if (error.includes("InvalidPart") && error.includes("rclone")) {
    return " — known fauxqs 1.9.2 limitation: rclone (Go's XML encoder) writes the part ETags' quotes as `&#34;` in CompleteMultipartUpload and fauxqs only decodes `&quot;`, so no rclone multipart upload can complete on this server (single PUTs are capped at 11 MiB by fauxqs).";
  }
  if (error.includes("broken pipe") && error.includes("rclone")) {
    return " — fauxqs refuses single request bodies over 11 MiB by closing the connection.";
  }
  return "";
}

function signed(x: number): string {
  return `${x >= 0 ? "+" : "−"}${fmt(Math.abs(x), 2)}`;
}

function methodName(m: Method): string {
  return { raw: "raw SDK", rclone: "rclone", lib: "library", mcp: "MCP", base: "MCP before" }[m];
}

export function fauxqsVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(REPO, "node_modules", "fauxqs", "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
}
