/**
 * The one way every tier starts the server: the BUILT CLI (dist/cli.js) as a child process, and
 * the MCP SDK's own Client (v2) talking to it over stdio, exactly as an assistant's host would, in
 * either protocol era: pinned to 2026-07-28 (server/discover, a _meta envelope on every request,
 * input-required results) or opening with a 2025 `initialize` at a chosen revision. What the
 * server says is recorded at the transport (wire order, before the SDK dispatches it), stderr is
 * captured, and the client can offer MCP roots (a 2025 feature) and answer elicitations.
 */
import path from "node:path";
import { pathToFileURL } from "node:url";
import {
  type CallToolResult,
  Client,
  type ElicitRequestFormParams,
  type ElicitResult,
  type JSONRPCMessage,
  type LoggingLevel,
  type LoggingMessageNotification,
  type ProgressNotification,
} from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";
import { assertBuilt, CLI_PATH } from "./repo.js";
import { type S3TestServer, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "./s3-server.js";

/** The two stores the CLI can serve: the embedded local directory store, or S3 (fauxqs in tests). */
export const BACKENDS = ["local", "s3"] as const;
export type Backend = (typeof BACKENDS)[number];

/** A minimal environment: nothing from the developer's shell (no stray R2_* or AWS_* settings). */
export function baseEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ["PATH", "HOME", "TMPDIR", "SYSTEMROOT"]) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/** The command line and environment of one CLI child. */
export interface CliArgs {
  args: string[];
  env: Record<string, string>;
}

/** Arguments and environment to serve a fauxqs bucket. */
export function s3Cli(s3: Pick<S3TestServer, "bucket" | "endpoint" | "region">, extraArgs: string[] = []): CliArgs {
  return {
    args: ["--bucket", s3.bucket, "--endpoint", s3.endpoint, "--region", s3.region, ...extraArgs],
    env: baseEnv({ R2_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY }),
  };
}

/** Arguments to serve a local directory store. */
export function localCli(dir: string, extraArgs: string[] = []): CliArgs {
  return { args: ["--local", dir, ...extraArgs], env: baseEnv() };
}

/**
 * The protocol revisions the server serves from one process: 2026-07-28 and every 2025 revision.
 * A 2026-07-28 client never falls back; a 2025 client opens with `initialize` at that revision.
 */
export const ERAS = ["2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"] as const;
export type Era = (typeof ERAS)[number];

/**
 * The eras the e2e and security files run in (describe.each): the current revision and the newest
 * 2025 one. test/e2e/eras.test.ts walks every revision of ERAS through the tool contract.
 */
export const TEST_ERAS = ["2026-07-28", "2025-11-25"] as const satisfies readonly Era[];

/** Every backend in every era of TEST_ERAS: `describe.each(SERVED)("… %s backend, protocol %s", (backend, era) => …)`. */
export const SERVED = BACKENDS.flatMap((backend) => TEST_ERAS.map((era) => [backend, era] as const));

/** The era the helpers use when a test names none. */
export const DEFAULT_ERA: Era = "2026-07-28";

/** Whether a revision is of the 2025 era (roots, logging/setLevel, server→client requests). */
export function isLegacyEra(era: Era): boolean {
  return era !== "2026-07-28";
}

/** How the test client answers elicitation/create (2025) or an embedded elicitation (2026-07-28). */
export type ElicitationAnswer = (params: ElicitRequestFormParams) => ElicitResult | Promise<ElicitResult>;

/**
 * The SDK probes a server's era on a disposable sibling process when given its own
 * StdioClientTransport; a subclass probes in place, on the one child, so the test sees a single
 * process answer server/discover and then serve the session.
 */
class InPlaceStdioClientTransport extends StdioClientTransport {}

export interface StartOptions {
  /** The protocol revision the client speaks (default DEFAULT_ERA). */
  era?: Era;
  /**
   * When given, the client declares form elicitation and answers every question with this (each
   * question is also recorded in RunningServer.elicitations).
   */
  elicitation?: ElicitationAnswer;
  args: string[];
  cwd: string;
  /** The child's whole environment (the SDK adds only a few safe variables such as PATH and HOME); default baseEnv(). */
  env?: Record<string, string>;
  /** When given, the client declares the roots capability and offers these directories (see setRoots). */
  roots?: string[];
  /**
   * Appended to: every JSON-RPC message the server sends (as sent), every stderr chunk, and the
   * instructions and server info of the handshake. For checks that nothing the server says leaks.
   */
  transcript?: string[];
  /**
   * Asks the server for notifications/message at this level: logging/setLevel right after
   * connecting for a 2025 client; on every tool call's _meta envelope for a 2026-07-28 client.
   */
  logLevel?: LoggingLevel;
  /** Calls tools/list first, so the SDK client validates every structuredContent against the output schemas. */
  listTools?: boolean;
  /** The server's entry point; default the repository's dist/cli.js (the bundle test runs an unpacked one). */
  cliPath?: string;
  /**
   * Replaces the client's roots/list answer (needs options.roots): for clients whose answer is an
   * error or malformed. Throwing makes it a JSON-RPC error response.
   */
  rootsAnswer?: () => Promise<unknown>;
  /** Runs the CLI through another program (e.g. unshare), given the command and arguments it would run. */
  wrap?: (command: string, args: string[]) => { command: string; args: string[] };
}

/** What arrived on the client's stdin side, in wire order (bodies kept only for progress). */
export type Received =
  | { kind: "progress"; params: ProgressNotification["params"] }
  | { kind: "notification"; method: string }
  | { kind: "response"; id: string | number }
  | { kind: "request"; method: string };

export interface RunningServer {
  client: Client;
  /** The revision this client speaks. */
  era: Era;
  /** Every question the server asked (elicitation/create, or embedded in an input-required result). */
  elicitations: ElicitRequestFormParams[];
  /**
   * Every message from the server after initialization, recorded at the transport before the SDK
   * dispatches it. The SDK client handles notifications a microtask later than responses, so a
   * progress notification written just before its response can reach the caller's onprogress
   * after the handler is gone (modelcontextprotocol/typescript-sdk#2580); this log shows what
   * the server actually sent, and in which order.
   */
  received: Received[];
  /** Every notifications/message params received (sent only at the level asked for, see logLevel). */
  logMessages: LoggingMessageNotification["params"][];
  /** Everything the child wrote to stderr so far. */
  stderr(): string;
  /** Errors the client transport reported (e.g. a stdout line that is not JSON-RPC). */
  transportErrors: Error[];
  /** Calls a tool; the result comes with the text of its first text block. */
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult & { text: string }>;
  /** Replaces the roots the client offers and tells the server they changed (needs options.roots). */
  setRoots(paths: string[]): Promise<void>;
  /** Closes the client, which ends the child; idempotent. */
  close(): Promise<void>;
  /** The child's process id (to signal it), while it runs. */
  pid: number | undefined;
}

export async function startClient(options: StartOptions): Promise<RunningServer> {
  assertBuilt();
  const era = options.era ?? DEFAULT_ERA;
  const transcript = options.transcript;
  const cli = [options.cliPath ?? CLI_PATH, ...options.args];
  const command = options.wrap?.(process.execPath, cli) ?? { command: process.execPath, args: cli };
  const transport = new InPlaceStdioClientTransport({
    command: command.command,
    args: command.args,
    cwd: options.cwd,
    env: options.env ?? baseEnv(),
    stderr: "pipe",
  });
  let stderr = "";
  // The stream exists before start() (the SDK hands out a PassThrough at once).
  transport.stderr?.on("data", (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    stderr += text;
    transcript?.push(text);
  });
  let roots = options.roots ?? [];
  const client = new Client(
    { name: "r2-mcp-test", version: "1.0.0" },
    {
      capabilities: {
        ...(options.roots ? { roots: { listChanged: true } } : {}),
        ...(options.elicitation ? { elicitation: { form: {} } } : {}),
      },
      versionNegotiation: isLegacyEra(era) ? { mode: "legacy" } : { mode: { pin: era } },
      ...(isLegacyEra(era) ? { supportedProtocolVersions: [era] } : {}),
    },
  );
  if (options.roots) {
    const answer = options.rootsAnswer;
    client.setRequestHandler("roots/list", async () =>
      answer
        ? ((await answer()) as { roots: { uri: string }[] })
        : { roots: roots.map((dir) => ({ uri: pathToFileURL(dir).href, name: path.basename(dir) })) },
    );
  }
  const elicitations: ElicitRequestFormParams[] = [];
  const answer = options.elicitation;
  if (answer) {
    client.setRequestHandler("elicitation/create", async (request) => {
      const params = request.params as ElicitRequestFormParams;
      elicitations.push(params);
      return answer(params);
    });
  }
  const logMessages: LoggingMessageNotification["params"][] = [];
  client.setNotificationHandler("notifications/message", (n) => {
    logMessages.push(n.params);
  });
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
    transcript?.push(JSON.stringify(message));
    dispatch?.(message);
  };
  // The handshake went by before the recording above started.
  transcript?.push(JSON.stringify({ instructions: client.getInstructions(), server: client.getServerVersion() }));
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= client.close();
    return closing;
  };
  try {
    if (options.logLevel && isLegacyEra(era)) await client.setLoggingLevel(options.logLevel);
    if (options.listTools) await client.listTools();
  } catch (err) {
    await close();
    throw err;
  }
  if (options.logLevel && !isLegacyEra(era)) {
    // 2026-07-28 has no logging/setLevel: the level travels in each request's _meta envelope.
    const level = options.logLevel;
    const callTool = client.callTool.bind(client);
    client.callTool = (params, requestOptions) =>
      callTool({ ...params, _meta: { ...params._meta, "io.modelcontextprotocol/logLevel": level } }, requestOptions);
  }
  return {
    client,
    era,
    elicitations,
    received,
    logMessages,
    stderr: () => stderr,
    transportErrors,
    async call(name, args = {}) {
      const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
      return { ...result, text: textOf(result) };
    },
    async setRoots(paths) {
      if (!options.roots) throw new Error("setRoots needs a client started with options.roots");
      roots = paths;
      await client.sendRootsListChanged();
    },
    close,
    pid: transport.pid ?? undefined,
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

/** The text of a result's first text block ("" when it has none). */
export function textOf(result: CallToolResult): string {
  const block = result.content.find((c) => c.type === "text");
  return block && block.type === "text" ? block.text : "";
}
