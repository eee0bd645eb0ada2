/**
 * The r2-mcp process as a whole, started from the built CLI: --help and --version, start-up errors
 * (one stderr line, never a secret), --read-only, and stdout carrying nothing but JSON-RPC even
 * when stdin carries garbage (a raw JSON-RPC conversation, no SDK client).
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { LATEST_PROTOCOL_VERSION } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { call, callOk, expectProtocolError } from "../helpers/calls.js";
import { PACKAGE_JSON } from "../helpers/repo.js";
import { killChildren, runCli, spawnCli } from "../helpers/run-cli.js";
import { type S3TestServer, startS3Server, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { SPEC_TOOLS } from "../helpers/spec.js";
import { baseEnv, startClient } from "../helpers/start-client.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

const ALL_TOOLS: string[] = [...SPEC_TOOLS];
/** SPEC.md "Beyond the tools": may be registered next to the nine. */
const OPTIONAL_TOOLS = ["presign_url"];

describe("the r2-mcp process", () => {
  let tmp: TempDir;
  let s3: S3TestServer;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-e2e-cli-");
    s3 = await startS3Server();
  });

  afterAll(async () => {
    await killChildren();
    await s3?.close();
    await tmp?.cleanup();
  });

  it("prints --help and --version to stdout and exits 0 without starting a server", async () => {
    const [help, version] = await Promise.all([
      runCli(["--help"], { cwd: tmp.path, closeStdin: false }),
      runCli(["--version"], { cwd: tmp.path, closeStdin: false }),
    ]);
    expect(help).toMatchObject({ code: 0, stderr: "" });
    expect(help.stdout).toMatch(/^Usage:/m);
    expect(help.stdout).toContain("--local DIR");
    expect(help.stdout).toContain("--read-only");
    expect(help.stdout).not.toContain("jsonrpc");
    expect(version).toMatchObject({ code: 0, stderr: "" });
    expect(version.stdout.trim()).toBe(`${PACKAGE_JSON.name} ${PACKAGE_JSON.version}`);
  });

  it("stops at start-up with one stderr line naming the missing setting, never the secret", async () => {
    const credentials = { R2_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY };
    const cases: { args: string[]; env: Record<string, string>; names: string[] }[] = [
      { args: ["--endpoint", s3.endpoint], env: baseEnv(credentials), names: ["R2_BUCKET", "R2_BUCKET_NAME", "--bucket"] },
      {
        args: ["--bucket", s3.bucket, "--endpoint", s3.endpoint],
        env: baseEnv({ R2_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID }),
        names: ["R2_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"],
      },
      { args: ["--bucket", "Not_A_Bucket", "--endpoint", s3.endpoint], env: baseEnv(credentials), names: ["--bucket", "R2_BUCKET"] },
    ];
    const runs = await Promise.all(cases.map((c) => runCli(c.args, { cwd: tmp.path, env: c.env })));
    cases.forEach((c, i) => {
      const run = runs[i]!;
      const label = c.names[0]!;
      expect(run.code, label).not.toBe(0);
      expect(run.code, label).not.toBeNull();
      expect(run.stdout, label).toBe("");
      const lines = run.stderr.split("\n").filter((l) => l !== "");
      expect(lines, label).toHaveLength(1);
      for (const name of c.names) expect(lines[0], label).toContain(name);
      expect(run.stderr, label).not.toContain(TEST_SECRET_ACCESS_KEY);
    });
  });

  it("registers no tool that changes the bucket with --read-only (or R2_MCP_READ_ONLY=1)", async () => {
    const store = path.join(tmp.path, "ro-store");
    for (const [args, env] of [
      [["--local", store, "--read-only"], baseEnv()],
      [["--local", store], baseEnv({ R2_MCP_READ_ONLY: "1" })],
    ] as const) {
      const server = await startClient({ args: [...args], env, cwd: tmp.path });
      try {
        const names = (await server.client.listTools()).tools.map((t) => t.name).filter((n) => !OPTIONAL_TOOLS.includes(n));
        expect(names.sort()).toEqual([
          "cancel_transfer",
          "compare_directory",
          "download_directory",
          "download_file",
          "get_object_bytes",
          "head_object",
          "list_buckets",
          "list_objects",
          "summarize_prefix",
          "transfer_status",
        ]);
        expect(await expectProtocolError(call(server.client, "upload_bytes", { key: "a.txt", data: "x" }))).toContain("not found");
        expect((await callOk(server.client, listObjects, {})).objects).toEqual([]);
      } finally {
        await server.close();
      }
    }
  });

  it("writes only JSON-RPC to stdout, logs to stderr, and survives malformed input", async () => {
    const root = path.join(tmp.path, "raw");
    await mkdir(root);
    const child = spawnCli(["--local", path.join(root, "store"), "--root", root, "--log-level", "debug"], { cwd: root });
    const lines: string[] = [];
    const waiting = new Map<number, (message: Record<string, unknown>) => void>();
    let pending = "";
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.stdout.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        lines.push(line);
        try {
          const message = JSON.parse(line) as Record<string, unknown>;
          if (typeof message.id === "number" && !("method" in message)) waiting.get(message.id)?.(message);
        } catch {
          // Recorded in lines; the assertions below report it.
        }
      }
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const send = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`);
    const request = (id: number, method: string, params: Record<string, unknown> = {}) =>
      new Promise<Record<string, unknown>>((resolve) => {
        waiting.set(id, resolve);
        send({ jsonrpc: "2.0", id, method, params });
      });

    const init = await request(1, "initialize", {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: "raw-e2e", version: "0" },
    });
    expect(init.result).toMatchObject({ serverInfo: { name: PACKAGE_JSON.name, version: PACKAGE_JSON.version } });
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    child.stdin.write("{ this is not json\n");
    send({ jsonrpc: "2.0", hello: "not a JSON-RPC message" });
    const list = await request(2, "tools/list");
    const listed = (list.result as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(listed).toEqual(expect.arrayContaining(ALL_TOOLS));
    const created = await request(3, "tools/call", { name: "upload_bytes", arguments: { key: "a.txt", data: "x" } });
    expect(created.result).toMatchObject({ structuredContent: { key: "a.txt", replaced: false } });
    const refused = await request(4, "tools/call", { name: "upload_bytes", arguments: { key: "a.txt", data: "y" } });
    expect(refused.result).toMatchObject({ isError: true });
    const unknownMethod = await request(5, "no/such/method");
    expect(unknownMethod.error).toMatchObject({ code: -32601 });
    child.stdin.end();
    expect(await exited).toBe(0);

    expect(pending).toBe("");
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) {
      let message: unknown;
      expect(() => (message = JSON.parse(line)), line).not.toThrow();
      expect(message, line).toMatchObject({ jsonrpc: "2.0" });
    }
    expect(stderr).toMatch(/^r2-mcp info: serving local store /m);
    expect(stderr).toMatch(/^r2-mcp info: uploaded bytes /m);
    expect(
      stderr
        .split("\n")
        .filter((l) => l !== "")
        .every((l) => l.startsWith("r2-mcp ")),
    ).toBe(true);
  });
});
