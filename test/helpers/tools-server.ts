/**
 * The fixture of the per-tool e2e files: one CLI child per backend (the embedded local store, or
 * fauxqs on 127.0.0.1), its only root a fresh folder that is also its working directory, and a
 * folder outside that root. Each test works under its own key prefix and its own local folder.
 *
 * tools/list is called before any tool, so the SDK client validates every structuredContent
 * (successes and errors) against the tool's output schema.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Client, Tool } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, expect } from "vitest";
import { getObjectBytes } from "../../src/mcp/tools/get-object-bytes.js";
import { MIB } from "./bytes.js";
import { callOk } from "./calls.js";
import { type S3TestServer, startS3Server, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "./s3-server.js";
import {
  type Backend,
  DEFAULT_ERA,
  type Era,
  isLateProgressError,
  localCli,
  type RunningServer,
  s3Cli,
  startClient,
} from "./start-client.js";
import { makeTempDir, type TempDir, writeTree } from "./tmp.js";

export interface ToolsServer {
  backend: Backend;
  /** The protocol revision the client speaks. */
  era: Era;
  server: RunningServer;
  client: Client;
  /** tools/list as answered at start. */
  tools: Tool[];
  /** The server's only root (and its working directory). */
  root: string;
  /** A directory outside the root. */
  outside: string;
  /** A fresh local folder inside the root, holding `files`. */
  localDir(name: string, files?: Record<string, string | Buffer>): Promise<string>;
  /** An object's bytes read back through get_object_bytes, as UTF-8. */
  getText(key: string): Promise<string>;
}

/**
 * Starts the server in the calling describe's beforeAll and stops it in its afterAll; the fields
 * are set once beforeAll has run, so use them inside tests and hooks only.
 *
 * Before stopping, it checks that stdout carried only JSON-RPC and stderr no credential, over
 * everything this file's tests made the server do (they used to share one server for all tools).
 */
export function useToolsServer(backend: Backend, era: Era = DEFAULT_ERA): ToolsServer {
  const fixture = { backend, era } as ToolsServer;
  let tmp: TempDir | undefined;
  let s3: S3TestServer | undefined;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-e2e-");
    const root = path.join(tmp.path, "root");
    const outside = path.join(tmp.path, "outside");
    await mkdir(root);
    await mkdir(outside);
    const extra = ["--root", root, "--log-level", "info"];
    if (backend === "s3") s3 = await startS3Server();
    const cli = s3 ? s3Cli(s3, extra) : localCli(path.join(tmp.path, "store"), extra);
    const server = await startClient({ ...cli, cwd: root, era });
    const { tools } = await server.client.listTools();
    Object.assign(fixture, {
      server,
      client: server.client,
      tools,
      root,
      outside,
      async localDir(name: string, files: Record<string, string | Buffer> = {}) {
        const dir = path.join(root, name);
        await mkdir(dir, { recursive: true });
        await writeTree(dir, files);
        return dir;
      },
      async getText(key: string) {
        const got = await callOk(server.client, getObjectBytes, { key, encoding: "base64", max_bytes: 4 * MIB });
        return Buffer.from(got.data, "base64").toString("utf8");
      },
    } satisfies Omit<ToolsServer, "backend" | "era">);
  });

  afterAll(async () => {
    const server = fixture.server as RunningServer | undefined;
    try {
      if (server) {
        expect(server.transportErrors.filter((e) => !isLateProgressError(e))).toEqual([]);
        expect(server.stderr()).not.toContain("jsonrpc");
        expect(server.stderr()).not.toContain(TEST_SECRET_ACCESS_KEY);
        expect(server.stderr()).not.toContain(TEST_ACCESS_KEY_ID);
      }
    } finally {
      await server?.close();
      await s3?.close();
      await tmp?.cleanup();
    }
  });

  return fixture;
}
