/**
 * Harness of the security suite: the built CLI over stdio with the SDK client (optionally offering
 * MCP roots), a transcript of everything the server ever said (every JSON-RPC message, every
 * stderr byte) for the secrets check, and byte-exact snapshots of the local tree and the bucket.
 */
import { createHash } from "node:crypto";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import {
  type CallToolResult,
  type JSONRPCMessage,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { expect } from "vitest";
import { assertBuilt, CLI_PATH, type SPEC_ERROR_CODES, textOf } from "../e2e/helpers.js";
import { type S3TestServer, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { snapshotTree } from "../helpers/tmp.js";

export type Backend = "local" | "s3";
export type SpecErrorCode = (typeof SPEC_ERROR_CODES)[number];
/** "sdk": an error the MCP SDK itself answers (unknown tool, schema violation): `MCP error -32602: …`. */
export type ExpectedCode = SpecErrorCode | "sdk";

/** Everything servers said during this test file: JSON-RPC messages (as sent) and stderr. */
export const transcript: string[] = [];

export interface Session {
  client: Client;
  /** Every notifications/message params received (the client asks for debug level). */
  logMessages: unknown[];
  stderr(): string;
  /** Replaces the roots the client offers and tells the server they changed. */
  setRoots(paths: string[]): Promise<void>;
  call(name: string, args?: Record<string, unknown>): Promise<CallToolResult & { text: string }>;
  close(): Promise<void>;
}

export interface SessionOptions {
  args: string[];
  env: Record<string, string>;
  cwd: string;
  /** When given, the client declares the roots capability and offers these directories. */
  roots?: string[];
}

export async function startSession(options: SessionOptions): Promise<Session> {
  assertBuilt();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [CLI_PATH, ...options.args],
    cwd: options.cwd,
    env: options.env,
    stderr: "pipe",
  });
  let stderr = "";
  transport.stderr?.on("data", (chunk: Buffer) => {
    const text = chunk.toString("utf8");
    stderr += text;
    transcript.push(text);
  });
  let roots = options.roots ?? [];
  const client = new Client(
    { name: "r2-mcp-security", version: "1.0.0" },
    options.roots ? { capabilities: { roots: { listChanged: true } } } : {},
  );
  if (options.roots) {
    client.setRequestHandler(ListRootsRequestSchema, async () => ({
      roots: roots.map((dir) => ({ uri: pathToFileURL(dir).href, name: path.basename(dir) })),
    }));
  }
  const logMessages: unknown[] = [];
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logMessages.push(n.params);
  });
  try {
    await client.connect(transport);
  } catch (err) {
    await client.close().catch(() => undefined);
    throw new Error(`the CLI did not start: ${(err as Error).message}\nstderr:\n${stderr}`);
  }
  // Recorded at the transport, so nothing the server sends escapes the secrets check.
  const dispatch = transport.onmessage;
  transport.onmessage = (message: JSONRPCMessage) => {
    transcript.push(JSON.stringify(message));
    dispatch?.(message);
  };
  transcript.push(JSON.stringify({ instructions: client.getInstructions(), server: client.getServerVersion() }));
  await client.setLoggingLevel("debug");
  // Listing first makes the SDK client validate every structuredContent against the output schemas.
  await client.listTools();
  let closing: Promise<void> | undefined;
  return {
    client,
    logMessages,
    stderr: () => stderr,
    async setRoots(paths) {
      roots = paths;
      await client.sendRootsListChanged();
    },
    async call(name, args = {}) {
      const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
      return { ...result, text: textOf(result) };
    },
    close() {
      closing ??= client.close();
      return closing;
    },
  };
}

/** Asserts a failed call: the exact code first in the text, and in structuredContent.error when present. */
export function expectError(result: CallToolResult & { text: string }, code: ExpectedCode): void {
  expect(result.isError, `expected ${code}, got success: ${JSON.stringify(result.structuredContent)}`).toBe(true);
  if (code === "sdk") {
    expect(result.text).toMatch(/^MCP error -32602: /);
    return;
  }
  expect(result.text.slice(0, result.text.indexOf(":")), result.text).toBe(code);
  const structured = result.structuredContent as { error?: { code?: string } } | undefined;
  if (structured?.error) expect(structured.error.code).toBe(code);
}

/** Asserts that neither test credential occurs anywhere in `texts`. */
export function expectNoSecrets(texts: readonly string[]): void {
  const all = texts.join("\n");
  for (const secret of [TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY]) {
    const at = all.indexOf(secret);
    expect(at, `a credential leaked: …${all.slice(Math.max(0, at - 200), at + 100)}…`).toBe(-1);
  }
}

async function sha256(stream: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of stream) hash.update(chunk);
  return hash.digest("hex");
}

/** Every key of the bucket with the sha256 of its bytes, read with the raw SDK client. */
export async function snapshotBucket(s3: S3Client, bucket: string): Promise<Record<string, string>> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((o) => o.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  const hashes = await Promise.all(
    keys.map(async (Key) => sha256((await s3.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body as AsyncIterable<Uint8Array>)),
  );
  return Object.fromEntries(keys.map((key, i) => [key, hashes[i]!]));
}

/** The local tree and (for S3) the bucket, byte for byte. */
export async function snapshotAll(dir: string, s3?: { client: S3Client; server: S3TestServer }) {
  return {
    tree: await snapshotTree(dir),
    bucket: s3 ? await snapshotBucket(s3.client, s3.server.bucket) : {},
  };
}

/** Writes files (relative "/"-separated paths) and symlinks (value `{ link: target }`) under dir. */
export async function plant(dir: string, entries: Record<string, string | Buffer | { link: string }>): Promise<void> {
  for (const [relative, content] of Object.entries(entries)) {
    const target = path.join(dir, ...relative.split("/"));
    await mkdir(path.dirname(target), { recursive: true });
    if (typeof content === "object" && "link" in content) await symlink(content.link, target);
    else await writeFile(target, content);
  }
}

/** Objects put straight into the bucket, bypassing r2-mcp (hostile keys included). */
export async function plantObjects(s3: S3Client, bucket: string, objects: Record<string, string | Buffer>): Promise<void> {
  for (const [Key, Body] of Object.entries(objects)) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body }));
}
