/**
 * The r2-mcp server as an assistant's host runs it: `node dist/cli.js` spawned with stdio pipes,
 * driven by the MCP SDK's Client over StdioClientTransport.
 */
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Readable, Writable } from "node:stream";
import { type CallToolResult, Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { BENCH_CREDENTIALS, BENCH_REGION } from "./raw-sdk.js";

export interface McpServerOptions {
  cliPath: string;
  endpoint: string;
  bucket: string;
  /** the one local root the server may read and write */
  root: string;
  /** node flags before the script (e.g. --cpu-prof, which NODE_OPTIONS does not accept) */
  nodeArgs?: string[];
}

export interface McpSession {
  client: Client;
  pid: number;
  stderr(): string;
  /** structuredContent of a successful call; throws with the error text otherwise */
  call(name: string, args: Record<string, unknown>, timeoutMs: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

function serverEnv(): Record<string, string> {
  // Only what the server needs: nothing from the developer's shell (no stray R2_* / AWS_*).
  const env: Record<string, string> = {
    R2_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
    R2_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
  };
  for (const name of ["PATH", "HOME", "TMPDIR"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return env;
}

function serverArgs(opts: McpServerOptions): string[] {
  return [
    ...(opts.nodeArgs ?? []),
    opts.cliPath,
    "--bucket",
    opts.bucket,
    "--endpoint",
    opts.endpoint,
    "--region",
    BENCH_REGION,
    "--root",
    opts.root,
  ];
}

/** Spawns the server and completes the MCP handshake (initialize); does not list tools. */
export async function startMcp(opts: McpServerOptions): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: serverArgs(opts),
    env: serverEnv(),
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString("utf8")).slice(-8000);
  });
  const client = new Client({ name: "r2-mcp-bench", version: "0.0.0" });
  await client.connect(transport);
  const pid = transport.pid;
  if (pid === null) throw new Error(`r2-mcp did not start: ${stderr}`);
  return {
    client,
    pid,
    stderr: () => stderr,
    async call(name, args, timeoutMs) {
      const result = (await client.callTool({ name, arguments: args }, { timeout: timeoutMs })) as CallToolResult;
      if (result.isError) {
        const text = result.content.map((c) => (c.type === "text" ? c.text : `[${c.type}]`)).join(" ");
        throw new Error(`${name} failed: ${text}`);
      }
      return (result.structuredContent ?? {}) as Record<string, unknown>;
    },
    async close() {
      await client.close();
    },
  };
}

/**
 * A process driven by bare JSON lines on its stdio, one request at a time: no MCP SDK client, so
 * what a call costs the client is a JSON.stringify and a JSON.parse (bench/README.md, "head_object
 * overhead": the SDK client's own share of the MCP row).
 */
export class LineSession {
  private buffered = "";
  private pending: ((line: string) => void) | undefined;
  private id = 0;

  constructor(readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (chunk: string) => {
      this.buffered += chunk;
      for (let at = this.buffered.indexOf("\n"); at >= 0; at = this.buffered.indexOf("\n")) {
        const line = this.buffered.slice(0, at);
        this.buffered = this.buffered.slice(at + 1);
        const resolve = this.pending;
        this.pending = undefined;
        resolve?.(line);
      }
    });
  }

  static spawn(args: string[], env: Record<string, string> = {}): LineSession {
    return new LineSession(
      spawn(process.execPath, args, { stdio: ["pipe", "pipe", "ignore"], env: { PATH: process.env.PATH ?? "", ...env } }),
    );
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** The result of one request; throws on an error response or an error result. */
  async request(method: string, params?: Record<string, unknown>, timeoutMs = 30_000): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const line = await Promise.race([
      new Promise<string>((resolve) => {
        this.pending = resolve;
        this.child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: ++this.id, method, ...(params ? { params } : {}) })}\n`);
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${method}: no answer within ${timeoutMs} ms`)), timeoutMs);
      }),
    ]).finally(() => clearTimeout(timer));
    const message = JSON.parse(line) as { error?: unknown; result?: { isError?: boolean } };
    if (message.error !== undefined || message.result?.isError) throw new Error(`${method} failed: ${line.slice(0, 300)}`);
    return message.result;
  }

  /** The 2025 handshake the SDK client does by default. */
  async initialize(): Promise<void> {
    await this.request("initialize", {
      protocolVersion: "2025-11-25",
      capabilities: {},
      clientInfo: { name: "r2-mcp-bench", version: "0.0.0" },
    });
    this.child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`);
  }

  close(): void {
    this.child.stdin.end();
    this.child.kill();
  }
}

/** The server as startMcp spawns it, driven by a LineSession (initialized). */
export async function startLineMcp(opts: McpServerOptions): Promise<LineSession> {
  const session = LineSession.spawn(serverArgs(opts), serverEnv());
  await session.initialize();
  return session;
}

/** Peak resident set (VmHWM) of a live process, in KiB; -1 where /proc is not available. */
export function peakRssKiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}
