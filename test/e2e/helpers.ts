/**
 * End-to-end helpers: start the BUILT CLI (dist/cli.js) as a child process and talk to it with
 * the MCP SDK's own Client over stdio, exactly as an assistant's host would.
 */
import { type ChildProcess, type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { CallToolResult, JSONRPCMessage, ProgressNotification } from "@modelcontextprotocol/sdk/types.js";
import { type S3TestServer, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI_PATH = path.join(REPO_ROOT, "dist", "cli.js");
export const PACKAGE_JSON = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { name: string; version: string };

/** The tools of SPEC.md "Tools" (and of 0.2 as they land), by name. */
export const SPEC_TOOLS = [
  "list_buckets",
  "list_objects",
  "summarize_prefix",
  "head_object",
  "get_object_bytes",
  "upload_bytes",
  "upload_file",
  "upload_directory",
  "download_file",
  "download_directory",
  "delete_object",
] as const;

/** The error codes of SPEC.md "Errors": every tool error text starts with one of them. */
export const SPEC_ERROR_CODES = [
  "invalid_argument",
  "not_found",
  "already_exists",
  "not_a_directory",
  "too_large",
  "outside_roots",
  "outside_allowed_prefix",
  "access_denied",
  "bucket_not_found",
  "throttled",
  "unavailable",
  "cancelled",
  "unsupported",
  "internal",
] as const;

export function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: the e2e tests run the built CLI. Run npm run build first (npm test does it for you).`);
  }
}

/** A minimal environment: nothing from the developer's shell (no stray R2_* or AWS_* settings). */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "SYSTEMROOT"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

export interface CliOptions {
  args: string[];
  cwd: string;
  /** The child's whole environment (the SDK adds only a few safe variables such as PATH and HOME). */
  env?: Record<string, string>;
}

/** What arrived on the client's stdin side, in wire order (bodies kept only for progress). */
export type Received =
  | { kind: "progress"; params: ProgressNotification["params"] }
  | { kind: "notification"; method: string }
  | { kind: "response"; id: string | number }
  | { kind: "request"; method: string };

export interface RunningServer {
  client: Client;
  /**
   * Every message from the server after initialization, recorded at the transport before the SDK
   * dispatches it. The SDK client handles notifications a microtask later than responses, so a
   * progress notification written just before its response can reach the caller's onprogress
   * after the handler is gone (modelcontextprotocol/typescript-sdk#2580); this log shows what
   * the server actually sent, and in which order.
   */
  received: Received[];
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
  /** Errors the client transport reported (e.g. a stdout line that is not JSON-RPC). */
  transportErrors: Error[];
  /** Closes the client, which ends the child; idempotent. */
  close(): Promise<void>;
}

export async function startCli(options: CliOptions): Promise<RunningServer> {
  assertBuilt();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_PATH, ...options.args],
    cwd: options.cwd,
    env: options.env ?? baseEnv(),
    stderr: "pipe",
  });
  let stderr = "";
  // The stream exists before start() (the SDK hands out a PassThrough at once).
  transport.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString("utf8");
  });
  const client = new Client({ name: "r2-mcp-e2e", version: "1.0.0" });
  const transportErrors: Error[] = [];
  client.onerror = (err) => transportErrors.push(err);
  try {
    await client.connect(transport);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new Error(`the CLI did not start: ${(err as Error).message}\nstderr:\n${stderr}`);
  }
  const received: Received[] = [];
  const dispatch = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage) => {
    received.push(summarize(message));
    dispatch?.(message);
  };
  let closing: Promise<void> | undefined;
  return {
    client,
    received,
    stderr: () => stderr,
    transportErrors,
    close() {
      closing ??= client.close();
      return closing;
    },
  };
}

function summarize(message: JSONRPCMessage): Received {
  if ("method" in message) {
    if ("id" in message) return { kind: "request", method: message.method };
    if (message.method === "notifications/progress") return { kind: "progress", params: message.params as ProgressNotification["params"] };
    return { kind: "notification", method: message.method };
  }
  return { kind: "response", id: message.id as string | number };
}

/** The SDK client's complaint about the race described at RunningServer.received, and only that. */
export function isLateProgressError(err: Error): boolean {
  return err.message.startsWith("Received a progress notification for an unknown token");
}

/** Arguments and environment to serve a fauxqs bucket. */
export function s3Cli(
  s3: Pick<S3TestServer, "bucket" | "endpoint" | "region">,
  extraArgs: string[] = [],
): { args: string[]; env: Record<string, string> } {
  return {
    args: ["--bucket", s3.bucket, "--endpoint", s3.endpoint, "--region", s3.region, ...extraArgs],
    env: baseEnv({ R2_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY }),
  };
}

/** Arguments to serve a local directory store. */
export function localCli(dir: string, extraArgs: string[] = []): { args: string[]; env: Record<string, string> } {
  return { args: ["--local", dir, ...extraArgs], env: baseEnv() };
}

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const liveChildren = new Set<ChildProcess>();

/**
 * Runs the CLI to completion with plain child_process (for --help, --version, start-up errors).
 * With closeStdin false the child's stdin stays open: a CLI that wrongly started serving would
 * then never exit, and the test would fail on its timeout instead of passing by accident.
 */
export function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; closeStdin?: boolean },
): Promise<ProcessResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: options.cwd,
      env: options.env ?? baseEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    liveChildren.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
    if (options.closeStdin ?? true) child.stdin.end();
  });
}

/** Spawns the CLI for a test that speaks raw JSON-RPC itself; the child is ended by killChildren. */
export function spawnCli(args: string[], options: { cwd: string; env?: Record<string, string> }): ChildProcessWithoutNullStreams {
  assertBuilt();
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: options.cwd,
    env: options.env ?? baseEnv(),
    stdio: ["pipe", "pipe", "pipe"],
  });
  liveChildren.add(child);
  child.on("close", () => liveChildren.delete(child));
  return child;
}

/** Kills the children runCli/spawnCli started that are still running (for afterAll). */
export async function killChildren(): Promise<void> {
  await Promise.all(
    [...liveChildren].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("close", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
  liveChildren.clear();
}

/** The text of a result's first text block. */
export function textOf(result: CallToolResult): string {
  const block = result.content.find((c) => c.type === "text");
  return block && block.type === "text" ? block.text : "";
}

/** Calls a tool and returns the result typed as CallToolResult. */
export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/** Calls a tool that must succeed and returns its structuredContent. */
export async function callOk<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown> = {}): Promise<T> {
  const result = await call(client, name, args);
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
  if (!result.structuredContent) throw new Error(`${name} returned no structuredContent`);
  return result.structuredContent as T;
}

/** Calls a tool that must fail and returns the result; its text must start with a SPEC error code. */
export async function callError(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CallToolResult & { text: string }> {
  const result = await call(client, name, args);
  if (!result.isError) throw new Error(`${name} was expected to fail but returned ${JSON.stringify(result.structuredContent)}`);
  const text = textOf(result);
  if (!SPEC_ERROR_CODES.some((code) => text.startsWith(`${code}: `))) {
    throw new Error(`${name} error text does not start with a SPEC error code: ${JSON.stringify(text)}`);
  }
  return { ...result, text };
}
