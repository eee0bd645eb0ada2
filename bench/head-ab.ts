/**
 * Where head_object's overhead over the SDK goes, and the A/B behind the per-call levers of the MCP
 * layer (bench/README.md, issue 15), in one interleaved run against one out-of-process fauxqs.
 * Blocks of sequential calls alternate between:
 *   - `raw SDK`: HeadObject from this process (what the bench's head row subtracts);
 *   - `library`: R2Client.head from this process (the store path the server runs, without MCP);
 *   - per build (`--dist`, several for an A/B), a server spawned as a host would:
 *     `MCP`: head_object through the MCP SDK Client over stdio, tools listed first (what the bench's
 *       head row measures: the client then checks each result against the tool's output schema);
 *     `MCP …, tools not listed` (first build only): the same client without tools/list, so without
 *       that check;
 *     `line`: head_object through a bare line client (JSON lines in and out, no SDK client), so
 *       the SDK client's own work drops out;
 *     `line ping`: ping through the bare line client (the server's per-message floor);
 *     `line transfer_status`: a tool call that reaches no store (the tool-call path alone);
 *   - `library … behind JSON lines`: R2Client.head in a process of its own, answering JSON lines:
 *     the server's process layout without MCP;
 *   - `echo`: a trivial Node process answering JSON lines on stdio: the floor of a round trip
 *     between two processes on this machine.
 * Per kind: wall p50, the server's CPU per call (all threads, /proc/<pid>/task/<tid>/schedstat:
 * waiting for a core is not counted) and this process's CPU per call (the client's side).
 *
 *   npx tsx bench/head-ab.ts [--dist dist] [--dist /tmp/before/dist] [--calls 1000] [--block 50] [--kinds "line ping,line head"]
 */
import { readdirSync, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { LineSession, type McpSession, startLineMcp, startMcp } from "./mcp.js";
import { BENCH_CREDENTIALS, BENCH_REGION, rawClient, rawHead } from "./raw-sdk.js";
import { ServerProcess } from "./server.js";
import { fmt, markdownTable, median, percentile } from "./stats.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const BUCKET = "r2mcp-head-ab";
const KEY = "seed/head/object.bin";

/** A JSON-lines echo server: the cheapest possible answer to each request. */
const ECHO = `let buf = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buf += d;
  for (let i = buf.indexOf("\\n"); i >= 0; i = buf.indexOf("\\n")) {
    const m = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    process.stdout.write(JSON.stringify({ result: { content: [{ type: "text", text: m.method }] }, jsonrpc: "2.0", id: m.id }) + "\\n");
  }
});`;

/**
 * R2Client.head behind JSON lines in a process of its own: the server's process layout (a client
 * process, this process, fauxqs) without MCP, to tell what the MCP layer costs from what the
 * extra process costs.
 */
const LIBRARY_LINES = `const { R2Client } = await import(process.env.R2MCP_INDEX);
const lib = new R2Client({ bucketName: process.env.R2MCP_BUCKET, endpointUrl: process.env.R2MCP_ENDPOINT, accessKeyId: process.env.R2_ACCESS_KEY_ID, secretAccessKey: process.env.R2_SECRET_ACCESS_KEY, regionName: process.env.R2MCP_REGION });
let buf = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (d) => {
  buf += d;
  for (let i = buf.indexOf("\\n"); i >= 0; i = buf.indexOf("\\n")) {
    const m = JSON.parse(buf.slice(0, i));
    buf = buf.slice(i + 1);
    lib.head(m.params?.key ?? "").then((info) => process.stdout.write(JSON.stringify({ result: { info }, jsonrpc: "2.0", id: m.id }) + "\\n"));
  }
});`;

/** CPU time of every thread of a process so far, in ms (0 where /proc is not available). */
function processCpuMs(pid: number): number {
  let ns = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`))
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
  } catch {
    return 0;
  }
  return ns / 1e6;
}

const selfCpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

interface Kind {
  name: string;
  pid?: number;
  one: () => Promise<unknown>;
  walls: number[];
  serverCpu: number[];
  clientCpu: number[];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dist: { type: "string", multiple: true },
      calls: { type: "string", default: "1000" },
      block: { type: "string", default: "50" },
      kinds: { type: "string" },
    },
  });
  const dists = values.dist ?? ["dist"];
  const calls = Number(values.calls);
  const block = Number(values.block);
  const server = await ServerProcess.start();
  const raw = rawClient(server.endpoint, 4);
  const root = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "r2-mcp-head-ab-")));
  const { R2Client } = (await import(pathToFileURL(path.join(REPO, "dist", "index.js")).href)) as typeof import("../src/index.js");
  const lib = new R2Client({ bucketName: BUCKET, endpointUrl: server.endpoint, ...BENCH_CREDENTIALS, regionName: BENCH_REGION });
  const sessions: McpSession[] = [];
  const lines: LineSession[] = [];
  try {
    await raw.send(new CreateBucketCommand({ Bucket: BUCKET }));
    await raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: KEY, Body: Buffer.alloc(4096, 7) }));
    const kind = (name: string, one: () => Promise<unknown>, pid?: number): Kind => ({
      name,
      one,
      pid,
      walls: [],
      serverCpu: [],
      clientCpu: [],
    });
    const kinds: Kind[] = [kind("raw SDK HeadObject", () => rawHead(raw, BUCKET, KEY)), kind("library R2Client.head", () => lib.head(KEY))];
    const echo = LineSession.spawn(["-e", ECHO]);
    lines.push(echo);
    kinds.push(kind("echo (bare node, JSON lines)", () => echo.request("ping"), echo.pid));
    const library = LineSession.spawn(["--input-type=module", "-e", LIBRARY_LINES], {
      R2MCP_INDEX: pathToFileURL(path.join(REPO, "dist", "index.js")).href,
      R2MCP_BUCKET: BUCKET,
      R2MCP_ENDPOINT: server.endpoint,
      R2MCP_REGION: BENCH_REGION,
      R2_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
      R2_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
    });
    lines.push(library);
    kinds.push(
      kind("library R2Client.head behind JSON lines (own process, no MCP)", () => library.request("head", { key: KEY }), library.pid),
    );
    for (const [i, dist] of dists.entries()) {
      const label = dists.length > 1 ? ` [${String.fromCharCode(65 + i)}: ${dist}]` : "";
      const cli = path.resolve(dist, "cli.js");
      const session = await startMcp({ cliPath: cli, endpoint: server.endpoint, bucket: BUCKET, root });
      sessions.push(session);
      // As the bench's head row: the client has listed the tools, so it checks each result's
      // structuredContent against the tool's output schema.
      await session.client.listTools();
      // The same client without tools/list: it has no output schema to check results against.
      const unlisted = i === 0 ? await startMcp({ cliPath: cli, endpoint: server.endpoint, bucket: BUCKET, root }) : undefined;
      if (unlisted) sessions.push(unlisted);
      const line = await startLineMcp({ cliPath: cli, endpoint: server.endpoint, bucket: BUCKET, root });
      lines.push(line);
      kinds.push(
        kind(`MCP head_object, SDK client${label}`, () => session.call("head_object", { key: KEY }, 30_000), session.pid),
        kind(`MCP ping, SDK client${label}`, () => session.client.ping({ timeout: 30_000 }), session.pid),
        ...(unlisted
          ? [
              kind(
                `MCP head_object, SDK client, tools not listed${label}`,
                () => unlisted.call("head_object", { key: KEY }, 30_000),
                unlisted.pid,
              ),
            ]
          : []),
        kind(`line head_object${label}`, () => line.request("tools/call", { name: "head_object", arguments: { key: KEY } }), line.pid),
        kind(`line ping${label}`, () => line.request("ping"), line.pid),
        kind(
          `line transfer_status (a tool call that reaches no store)${label}`,
          () => line.request("tools/call", { name: "transfer_status", arguments: {} }),
          line.pid,
        ),
      );
    }
    // --kinds "line ping,MCP ping": only the kinds whose name contains one of these (the raw SDK always runs).
    const wanted = values.kinds?.split(",").map((w) => w.trim());
    if (wanted) kinds.splice(1, kinds.length, ...kinds.slice(1).filter((k) => wanted.some((w) => k.name.includes(w))));
    for (const k of kinds) for (let i = 0; i < 50; i++) await k.one();
    const deadline = performance.now() + Math.max(300_000, calls * 100);
    for (let done = 0; done < calls && performance.now() < deadline; done += block) {
      for (const k of kinds) {
        const s0 = k.pid ? processCpuMs(k.pid) : 0;
        const c0 = selfCpuMs();
        for (let i = 0; i < block; i++) {
          const t0 = performance.now();
          await k.one();
          k.walls.push(performance.now() - t0);
        }
        k.clientCpu.push((selfCpuMs() - c0) / block);
        if (k.pid) k.serverCpu.push((processCpuMs(k.pid) - s0) / block);
      }
    }
    const rawP50 = median(kinds[0]?.walls ?? []);
    const us = (ms: number) => fmt(ms * 1000, 0);
    const rows = kinds.map((k) => [
      k.name,
      us(median(k.walls)),
      us(percentile(k.walls, 99)),
      k.name.includes("head_object") ? `+${us(median(k.walls) - rawP50)}` : "",
      k.pid ? us(median(k.serverCpu)) : "",
      us(median(k.clientCpu)),
    ]);
    process.stdout.write(
      `${markdownTable(["kind", "p50 µs", "p99 µs", "p50 − raw SDK µs", "server CPU µs/call", "this process CPU µs/call"], rows)}\n` +
        `${kinds[0]?.walls.length ?? 0} sequential calls each, interleaved in blocks of ${block}; CPU per call is the median over blocks; load average ${os
          .loadavg()
          .map((l) => l.toFixed(1))
          .join(" ")}\n`,
    );
  } finally {
    for (const s of sessions) await s.close().catch(() => undefined);
    for (const l of lines) l.close();
    await lib.close();
    raw.destroy();
    await server.stop();
    await fs.rm(root, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`head-ab failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
