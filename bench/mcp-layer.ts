/**
 * The MCP layer alone, in process: CPU per message of the server as cli.ts builds it (serveStdio,
 * LineStdioTransport, createServer) over in-memory streams, driven by a bare line client (JSON
 * lines in, JSON lines out: no SDK client), with a local store. No child process, no pipes and no
 * S3, so what is measured is the JavaScript between a request's bytes and its answer's bytes: the
 * part of head_object's overhead that r2-mcp's server code and the MCP SDK decide.
 *
 *   npx tsx bench/mcp-layer.ts [--calls 5000] [--rounds 5] [--era 2025|2026] [--profile]
 *
 * Kinds: `ping`; `transfer_status` (a tool call that touches no store: the tool-call path alone);
 * `head_object` on the local store. Rounds interleave the kinds; the table shows the median of
 * the rounds' CPU per call (process.cpuUsage, all threads; the line client's own share is a
 * JSON.stringify and a JSON.parse, a few µs).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { Session } from "node:inspector/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { parseArgs } from "node:util";
import { CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { serveStdio } from "@modelcontextprotocol/server/stdio";
import { DeferredS3Store } from "../src/core/s3/deferred.js";
import { GuardedStore, LocalStore } from "../src/index.js";
import { Buckets } from "../src/mcp/buckets.js";
import type { ToolContext } from "../src/mcp/context.js";
import { Jobs } from "../src/mcp/jobs.js";
import { createLog } from "../src/mcp/log.js";
import { runTool } from "../src/mcp/run-tool.js";
import { createServer } from "../src/mcp/server.js";
import { LineStdioTransport } from "../src/mcp/stdio.js";
import { headObject } from "../src/mcp/tools/head-object.js";
import { type CpuProfile, summarize } from "./cpuprofile.js";
import { BENCH_CREDENTIALS, BENCH_REGION, rawClient } from "./raw-sdk.js";
import { ServerProcess } from "./server.js";
import { fmt, markdownTable, median } from "./stats.js";

const MODERN = "2026-07-28";
const S3_BUCKET = "r2mcp-layer";

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      calls: { type: "string", default: "5000" },
      rounds: { type: "string", default: "5" },
      era: { type: "string", default: "2025" },
      profile: { type: "string" },
      s3: { type: "boolean", default: false },
    },
  });
  const calls = Number(values.calls);
  const rounds = Number(values.rounds);
  const modern = values.era === "2026";
  const base = await mkdtemp(path.join(os.tmpdir(), "r2-mcp-layer-"));
  await mkdir(path.join(base, "store", "seed"), { recursive: true });
  await writeFile(path.join(base, "store", "seed", "object.bin"), Buffer.alloc(4096, 7));
  const logging = createLog("warning", () => undefined);
  const s3 = values.s3 ? await ServerProcess.start() : undefined;
  if (s3) {
    const raw = rawClient(s3.endpoint, 4);
    await raw.send(new CreateBucketCommand({ Bucket: S3_BUCKET }));
    await raw.send(new PutObjectCommand({ Bucket: S3_BUCKET, Key: "seed/object.bin", Body: Buffer.alloc(4096, 7) }));
    raw.destroy();
  }
  const inner = s3
    ? new DeferredS3Store({
        bucket: S3_BUCKET,
        endpoint: s3.endpoint,
        region: BENCH_REGION,
        credentials: BENCH_CREDENTIALS,
        log: logging.log,
      })
    : await LocalStore.open(path.join(base, "store"));
  const store = new GuardedStore(inner, { name: s3 ? S3_BUCKET : "local" });
  const jobs = new Jobs(logging.log);
  const toolContext: ToolContext = {
    buckets: new Buckets([{ store, kind: "local" }]),
    localRoots: async () => [base],
    log: logging.log,
    jobs,
  };
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const handle = serveStdio(
    ({ era }) =>
      createServer({
        buckets: [s3 ? { store, kind: "s3", bucket: S3_BUCKET, endpoint: s3.endpoint } : { store, kind: "local" }],
        roots: [base],
        rootsExplicit: true,
        logging,
        era,
        jobs,
      }).server,
    { transport: new LineStdioTransport(stdin, stdout) },
  );
  let pending: ((line: string) => void) | undefined;
  let buffered = "";
  stdout.setEncoding("utf8");
  stdout.on("data", (chunk: string) => {
    buffered += chunk;
    for (let at = buffered.indexOf("\n"); at >= 0; at = buffered.indexOf("\n")) {
      const line = buffered.slice(0, at);
      buffered = buffered.slice(at + 1);
      const resolve = pending;
      pending = undefined;
      resolve?.(line);
    }
  });
  let id = 0;
  const meta = modern
    ? {
        _meta: {
          "io.modelcontextprotocol/protocolVersion": MODERN,
          "io.modelcontextprotocol/clientCapabilities": {},
          "io.modelcontextprotocol/clientInfo": { name: "bench", version: "0" },
        },
      }
    : {};
  const rpc = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<string>((resolve) => {
      pending = resolve;
      stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: ++id, method, params: { ...params, ...meta } })}\n`);
    }).then((line) => {
      const message = JSON.parse(line) as { error?: unknown; result?: { isError?: boolean } };
      if (message.error !== undefined || message.result?.isError) throw new Error(`${method} failed: ${line.slice(0, 300)}`);
      return message;
    });
  if (modern) await rpc("server/discover");
  else {
    await rpc("initialize", { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "bench", version: "0" } });
    stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
  }
  const kinds: { name: string; one: () => Promise<unknown>; cpu: number[] }[] = [
    { name: "ping", one: () => (modern ? rpc("server/discover") : rpc("ping")), cpu: [] },
    { name: "tools/call transfer_status (no store)", one: () => rpc("tools/call", { name: "transfer_status", arguments: {} }), cpu: [] },
    { name: "store.head alone (no MCP)", one: () => store.head("seed/object.bin"), cpu: [] },
    {
      // r2-mcp's own part of a call: argument checks, the tool, its result and text, no SDK.
      name: "runTool(head_object) alone (no SDK, no stdio)",
      one: () =>
        runTool(headObject, { key: "seed/object.bin" }, toolContext, {
          signal: new AbortController().signal,
          notify: async () => undefined,
          confirm: async () => undefined,
        }),
      cpu: [],
    },
    {
      name: `tools/call head_object (${s3 ? "S3 store, fauxqs in its own process" : "local store"})`,
      one: () => rpc("tools/call", { name: "head_object", arguments: { key: "seed/object.bin" } }),
      cpu: [],
    },
  ];
  const session = new Session();
  session.connect();
  const profiles: CpuProfile[] = [];
  try {
    for (const kind of kinds) for (let i = 0; i < 500; i++) await kind.one();
    if (values.profile) {
      await session.post("Profiler.enable");
      await session.post("Profiler.setSamplingInterval", { interval: 100 });
    }
    for (let r = 0; r < rounds; r++) {
      for (const kind of kinds) {
        if (values.profile && kind.name.includes(values.profile)) await session.post("Profiler.start");
        const c0 = process.cpuUsage();
        for (let i = 0; i < calls; i++) await kind.one();
        const c = process.cpuUsage(c0);
        kind.cpu.push((c.user + c.system) / calls);
        if (values.profile && kind.name.includes(values.profile))
          profiles.push((await session.post("Profiler.stop")).profile as unknown as CpuProfile);
      }
    }
    const rows = kinds.map((k) => [k.name, fmt(median(k.cpu), 1), k.cpu.map((c) => c.toFixed(0)).join(" ")]);
    process.stdout.write(
      `${markdownTable(["kind", "CPU µs per call (median)", "per round"], rows)}\n${calls} calls per kind per round, ${rounds} rounds, protocol ${modern ? MODERN : "2025-11-25"}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}\n`,
    );
    if (values.profile) {
      const s = summarize(profiles, 40);
      process.stdout.write(
        `${markdownTable(
          ["function", "where", "ms", "share"],
          s.topSelf.map((f) => [f.name, f.where, fmt(f.ms, 0), `${(f.share * 100).toFixed(1)}%`]),
        )}\n`,
      );
      const out = path.join(os.tmpdir(), `r2-mcp-layer-${Date.now()}.cpuprofile`);
      await writeFile(out, JSON.stringify(profiles[profiles.length - 1]));
      process.stdout.write(`profile: ${out}\n`);
    }
  } finally {
    session.disconnect();
    await handle.close();
    await jobs.stop();
    await store.close();
    await s3?.stop();
    await rm(base, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`mcp-layer failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
