/**
 * The r2-mcp server as an assistant's host runs it: `node dist/cli.js` spawned with stdio pipes,
 * driven by the MCP SDK's Client over StdioClientTransport.
 */
import { readFileSync } from "node:fs";
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

/** Spawns the server and completes the MCP handshake (initialize); does not list tools. */
export async function startMcp(opts: McpServerOptions): Promise<McpSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [
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
    ],
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

/** Peak resident set (VmHWM) of a live process, in KiB; -1 where /proc is not available. */
export function peakRssKiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}
