/**
 * The MCP server in process: createServer over a real store (a LocalStore in a temp directory, or
 * an S3Store against fauxqs on 127.0.0.1) and the SDK's own Client over the in-memory transport.
 * No build, no child process; what the client sees is what a stdio client would see, because
 * every message crosses as JSON.
 */
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { type CallToolResult, Client, InMemoryTransport } from "@modelcontextprotocol/client";
import { afterAll, afterEach, beforeAll, expect } from "vitest";
import * as z from "zod";
import type { LogLevel } from "../../src/config/index.js";
import { ERROR_CODES, type ErrorCode, GuardedStore, LocalStore, type ObjectStore, S3Store } from "../../src/index.js";
import { createLog } from "../../src/mcp/log.js";
import { createServer } from "../../src/mcp/server.js";
import type { Tool } from "../../src/mcp/tool.js";
import { type S3TestServer, startS3Server } from "./s3-server.js";
import { makeTempDir } from "./tmp.js";

export type Backend = "local" | "s3";
export const BACKENDS = ["local", "s3"] as const satisfies readonly Backend[];

export interface InProcessOptions {
  backend: Backend;
  readOnly?: boolean;
  allowPrefixes?: string[];
  /** Local roots; default [root]. A function gets the directories made for this server. */
  roots?: string[] | ((dirs: { base: string; root: string; outside: string }) => string[]);
  /** Default true: the roots came from --root, so client roots do not replace them. */
  rootsExplicit?: boolean;
  /** The client declares the roots capability and offers these directories. */
  clientRoots?: string[];
  /** A running fauxqs to put a fresh bucket on; without it one is started (and closed by close()). */
  s3?: S3TestServer;
  /** stderr threshold of createLog (default debug: every line lands in `logs`). */
  logLevel?: LogLevel;
  /**
   * More buckets after the first, by name: "s3" is another bucket on the same fauxqs (one endpoint
   * and credentials), "local" a LocalStore of its own; each with its own policy.
   */
  moreBuckets?: { name: string; backend: Backend; readOnly?: boolean; allowPrefixes?: string[] }[];
}

export interface InProcessServer {
  client: Client;
  store: GuardedStore;
  /** A temp directory holding root/, outside/ and, on the local backend, store/. */
  base: string;
  /** The local root (real path), empty at start. */
  root: string;
  /** A directory outside every root, empty at start. */
  outside: string;
  /** The local store's directory (local backend only). */
  storeDir?: string;
  s3?: S3TestServer;
  /** What went to stderr through createLog, one entry per line. */
  logs: string[];
  /** The guarded store of every bucket (the first and moreBuckets), by name. */
  stores: Record<string, GuardedStore>;
  /** Writes an object past every policy (to set up a test), through the store's own put. */
  seed(key: string, data: string | Uint8Array, contentType?: string): Promise<void>;
  /** Every object, key → bytes as UTF-8, read beside the store (raw S3 client, or the files). */
  objects(): Promise<Record<string, string>>;
  /** Changes the roots the client offers (with clientRoots) and tells the server. */
  setClientRoots(paths: string[]): Promise<void>;
  close(): Promise<void>;
}

let buckets = 0;

/** Messages cross as JSON, as on stdio: a value that would not survive serialization fails here too. */
function overJson(transport: InMemoryTransport): InMemoryTransport {
  const send = transport.send.bind(transport);
  transport.send = (message, options) => send(JSON.parse(JSON.stringify(message)), options);
  return transport;
}

export async function startInProcessServer(options: InProcessOptions): Promise<InProcessServer> {
  const tmp = await makeTempDir("r2mcp-mcp-");
  const root = path.join(tmp.path, "root");
  const outside = path.join(tmp.path, "outside");
  const storeDir = options.backend === "local" ? path.join(tmp.path, "store") : undefined;
  await mkdir(root);
  await mkdir(outside);
  const ownS3 = options.backend === "s3" && options.s3 === undefined ? await startS3Server() : undefined;
  const s3 = options.backend === "s3" ? (options.s3 ?? ownS3) : undefined;
  const logs: string[] = [];
  const logging = createLog(options.logLevel ?? "debug", (line) => logs.push(line.trimEnd()));

  let inner: ObjectStore;
  if (s3) {
    // A fresh bucket per server: listings are exact without per-test prefixes.
    const bucket = `mcp-${process.pid}-${++buckets}`;
    await s3.createBucket(bucket);
    inner = new S3Store({
      bucket,
      endpoint: s3.endpoint,
      region: s3.region,
      credentials: s3.credentials,
      maxAttempts: 2,
      log: logging.log,
    });
  } else {
    inner = await LocalStore.open(storeDir!);
  }
  const store = new GuardedStore(inner, { readOnly: options.readOnly, allowPrefixes: options.allowPrefixes });
  const more: { store: GuardedStore; kind: Backend }[] = [];
  for (const b of options.moreBuckets ?? []) {
    if (b.backend === "s3" && !s3) throw new Error("an extra s3 bucket needs the s3 backend");
    let extra: ObjectStore;
    if (b.backend === "s3" && s3) {
      const bucket = `mcp-${process.pid}-${++buckets}`;
      await s3.createBucket(bucket);
      extra = new S3Store({
        bucket,
        endpoint: s3.endpoint,
        region: s3.region,
        credentials: s3.credentials,
        maxAttempts: 2,
        log: logging.log,
      });
    } else {
      extra = await LocalStore.open(path.join(tmp.path, `store-${b.name}`), { name: b.name });
    }
    more.push({ store: new GuardedStore(extra, { name: b.name, readOnly: b.readOnly, allowPrefixes: b.allowPrefixes }), kind: b.backend });
  }
  const stores = Object.fromEntries([store, ...more.map((m) => m.store)].map((s) => [s.name, s]));
  const { server } = createServer({
    buckets: [{ store, kind: s3 ? "s3" : "local" }, ...more],
    roots: typeof options.roots === "function" ? options.roots({ base: tmp.path, root, outside }) : (options.roots ?? [root]),
    rootsExplicit: options.rootsExplicit ?? true,
    logging,
  });

  let clientRoots = options.clientRoots;
  const client = new Client(
    { name: "r2-mcp-in-process", version: "1.0.0" },
    clientRoots ? { capabilities: { roots: { listChanged: true } } } : {},
  );
  if (clientRoots) {
    client.setRequestHandler("roots/list", async () => ({
      roots: (clientRoots ?? []).map((dir) => ({ uri: pathToFileURL(dir).href })),
    }));
  }
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(overJson(serverSide));
  await client.connect(overJson(clientSide));
  // Listing first makes the SDK client validate every structuredContent against the output schemas.
  await client.listTools();

  let closing: Promise<void> | undefined;
  return {
    client,
    store,
    base: tmp.path,
    root,
    outside,
    storeDir,
    s3,
    logs,
    stores,
    async seed(key, data, contentType) {
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      await inner.put(key, { kind: "bytes", data: bytes }, { mode: "overwrite", contentType });
    },
    objects: () => (s3 ? bucketObjects(s3, store.name) : storeFiles(storeDir!)),
    async setClientRoots(paths) {
      clientRoots = paths;
      await client.sendRootsListChanged();
    },
    close() {
      closing ??= (async () => {
        await client.close();
        await server.close();
        await store.close();
        for (const m of more) await m.store.close();
        await ownS3?.close();
        await tmp.cleanup();
      })();
      return closing;
    },
  };
}

async function bucketObjects(s3: S3TestServer, bucket: string): Promise<Record<string, string>> {
  const raw = s3.rawClient();
  try {
    const out: Record<string, string> = {};
    let token: string | undefined;
    do {
      const page = await raw.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
      for (const { Key } of page.Contents ?? []) {
        const got = await raw.send(new GetObjectCommand({ Bucket: bucket, Key }));
        out[Key!] = (await got.Body?.transformToString("utf8")) ?? "";
      }
      token = page.NextContinuationToken;
    } while (token);
    return out;
  } finally {
    raw.destroy();
  }
}

/** The local store's objects are its files, apart from its own .r2-mcp-* folders. */
async function storeFiles(dir: string): Promise<Record<string, string>> {
  // Its temporary files come and go while a write is running or being cancelled: never read them.
  return filesUnder(dir, (relative) => relative.startsWith(".r2-mcp-"));
}

/** Every regular file under `dir`: "/"-separated relative path → content as UTF-8, sorted. */
export async function filesUnder(dir: string, skip: (relative: string) => boolean = () => false): Promise<Record<string, string>> {
  const out: [string, string][] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    const relative = path.relative(dir, file).split(path.sep).join("/");
    if (skip(relative)) continue;
    out.push([relative, await readFile(file, "utf8")]);
  }
  return Object.fromEntries(out.sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Writes files (relative path → content) under `dir`, creating folders. */
export async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(dir, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

/**
 * For a describe block: start() gives a server on a fresh bucket or store, closed after its test;
 * on S3 every server of the block shares one fauxqs.
 */
export function useInProcess(backend: Backend): { start(options?: Omit<InProcessOptions, "backend" | "s3">): Promise<InProcessServer> } {
  let s3: S3TestServer | undefined;
  const started: InProcessServer[] = [];
  beforeAll(async () => {
    if (backend === "s3") s3 = await startS3Server();
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    await s3?.close();
  });
  return {
    async start(options = {}) {
      const server = await startInProcessServer({ ...options, backend, s3 });
      started.push(server);
      return server;
    },
  };
}

type ToolShape<O extends z.ZodRawShape> = Pick<Tool<z.ZodRawShape, O>, "name" | "output">;

/** The text of a result's first text block. */
export function textOf(result: CallToolResult): string {
  const block = result.content.find((c) => c.type === "text");
  return block?.type === "text" ? block.text : "";
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

export interface Ok<O extends z.ZodRawShape> {
  /** structuredContent, parsed with the tool's own output schema (strict: no field it does not declare). */
  structured: z.output<z.ZodObject<O>>;
  text: string;
  content: CallToolResult["content"];
}

/** Calls a tool that must succeed. */
export async function callOk<O extends z.ZodRawShape>(
  client: Client,
  tool: ToolShape<O>,
  args: Record<string, unknown> = {},
): Promise<Ok<O>> {
  const result = await call(client, tool.name, args);
  if (result.isError) throw new Error(`${tool.name} failed: ${textOf(result)}`);
  const structured = z.strictObject(tool.output).parse(result.structuredContent) as z.output<z.ZodObject<O>>;
  return { structured, text: textOf(result), content: result.content };
}

export interface Failure<O extends z.ZodRawShape> {
  code: ErrorCode;
  text: string;
  /** structuredContent when the tool's schema admits an error shape (the directory tools), parsed. */
  structured: z.output<z.ZodObject<O>> | undefined;
}

/**
 * Calls a tool that must fail with one of the stable codes: isError, the text starting with
 * "<code>: ", and structuredContent.error (when present) agreeing with the text.
 */
export async function callError<O extends z.ZodRawShape>(
  client: Client,
  tool: ToolShape<O>,
  args: Record<string, unknown> = {},
): Promise<Failure<O>> {
  const result = await call(client, tool.name, args);
  const text = textOf(result);
  expect(result.isError, `${tool.name} succeeded: ${text}`).toBe(true);
  const code = /^([a-z_]+): /.exec(text)?.[1] as ErrorCode | undefined;
  expect(ERROR_CODES, `no stable code first in: ${text}`).toContain(code);
  let structured: z.output<z.ZodObject<O>> | undefined;
  if (result.structuredContent !== undefined) {
    structured = z.strictObject(tool.output).parse(result.structuredContent) as z.output<z.ZodObject<O>>;
    expect((result.structuredContent as { error?: unknown }).error).toMatchObject({ code, message: text.slice(`${code}: `.length) });
  }
  return { code: code!, text, structured };
}
