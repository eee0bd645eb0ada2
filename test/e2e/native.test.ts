/**
 * What makes r2-mcp fit MCP clients, over stdio against the built CLI: presigned sharing links,
 * objects as resources, MCP logging, the published inspector CLI, and the README's scripting
 * example. S3 cases run against the suite's fauxqs server on 127.0.0.1.
 */

import { execFile } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getObjectBytes } from "../../src/mcp/tools/get-object-bytes.js";
import { headObject } from "../../src/mcp/tools/head-object.js";
import { presignUrl } from "../../src/mcp/tools/presign-url.js";
import { uploadBytes } from "../../src/mcp/tools/upload-bytes.js";
import { call, callError, callOk, expectProtocolError } from "../helpers/calls.js";
import { type ConditionalProxy, startConditionalProxy } from "../helpers/conditional-proxy.js";
import { CLI_PATH, REPO_ROOT } from "../helpers/repo.js";
import { killChildren } from "../helpers/run-cli.js";
import { type S3TestServer, startS3Server, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { localCli, type RunningServer, s3Cli, startClient, textOf } from "../helpers/start-client.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

const run = promisify(execFile);

describe("native MCP features over S3", () => {
  let s3: S3TestServer;
  let proxy: ConditionalProxy;
  let tmp: TempDir;
  let cli: RunningServer;

  beforeAll(async () => {
    s3 = await startS3Server();
    // The conditional proxy stands in for R2's If-None-Match support, which fauxqs lacks, so that
    // presigned create-only PUT links can be shown to refuse an existing key.
    proxy = await startConditionalProxy(s3.endpoint);
    tmp = await makeTempDir();
    const settings = s3Cli({ ...s3, endpoint: proxy.endpoint }, ["--root", tmp.path]);
    cli = await startClient({ ...settings, cwd: tmp.path });
    await callOk(cli.client, uploadBytes, { key: "share/report.txt", data: "shared results\n" });
  });

  afterAll(async () => {
    await cli?.close();
    await killChildren();
    await proxy?.close();
    await s3?.close();
    await tmp?.cleanup();
  });

  it("presign_url GET gives a link that downloads the object", async () => {
    const out = await callOk(cli.client, presignUrl, { key: "share/report.txt" });
    expect(out.method).toBe("GET");
    expect(out.headers).toEqual({});
    const expires = Date.parse(out.expires_at) - Date.now();
    expect(expires).toBeGreaterThan(3500_000);
    expect(expires).toBeLessThanOrEqual(3600_000);
    expect(new URL(out.url).searchParams.get("X-Amz-Expires")).toBe("3600");
    const res = await fetch(out.url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("shared results\n");
  });

  it("presign_url PUT without overwrite is create-only: it needs If-None-Match and cannot replace", async () => {
    const fresh = await callOk(cli.client, presignUrl, {
      key: "share/incoming.txt",
      method: "PUT",
    });
    expect(fresh.headers).toEqual({ "If-None-Match": "*" });
    expect(new URL(fresh.url).searchParams.get("X-Amz-SignedHeaders")).toContain("if-none-match");
    const created = await fetch(fresh.url, { method: "PUT", headers: fresh.headers, body: "from a teammate" });
    expect(created.status).toBe(200);
    const head = await callOk(cli.client, headObject, { key: "share/incoming.txt" });
    expect(head).toMatchObject({ exists: true, size: 15 });

    const existing = await callOk(cli.client, presignUrl, {
      key: "share/report.txt",
      method: "PUT",
    });
    const refused = await fetch(existing.url, { method: "PUT", headers: existing.headers, body: "overwritten!" });
    expect(refused.status).toBe(412);
    const text = await callOk(cli.client, getObjectBytes, { key: "share/report.txt" });
    expect(text.data).toBe("shared results\n");
  });

  it("presign_url PUT with overwrite: true needs no condition", async () => {
    const out = await callOk(cli.client, presignUrl, {
      key: "share/report.txt",
      method: "PUT",
      overwrite: true,
    });
    expect(out.headers).toEqual({});
    expect(new URL(out.url).searchParams.get("X-Amz-SignedHeaders")).not.toContain("if-none-match");
  });

  it("presign_url refuses expiries outside 1 s .. 7 days", async () => {
    for (const expires_in of [0, 604_801]) {
      const err = await callError(cli.client, "presign_url", { key: "share/report.txt", expires_in });
      expect(err.text).toMatch(/^invalid_argument: expires_in/);
    }
    await callOk(cli.client, presignUrl, { key: "share/report.txt", expires_in: 604_800 });
  });

  it("exposes objects as resources: template, listing and reads with the get_object_bytes cap", async () => {
    const templates = await cli.client.listResourceTemplates();
    expect(templates.resourceTemplates.map((t) => t.uriTemplate)).toEqual(["r2://{bucket}/{+key}"]);
    await callOk(cli.client, uploadBytes, { key: "res/dir with space/ü.json", data: '{"a":1}' });
    await callOk(cli.client, uploadBytes, {
      key: "res/blob.bin",
      data: Buffer.from([0xff, 0x00, 0x80]).toString("base64"),
      encoding: "base64",
    });
    await callOk(cli.client, uploadBytes, { key: "res/big.txt", data: "x".repeat(64 * 1024 + 1) });
    const listed = await cli.client.listResources();
    const uri = listed.resources.find((r) => r.name === "res/dir with space/ü.json")?.uri;
    expect(uri).toBe(`r2://${s3.bucket}/res/dir%20with%20space/%C3%BC.json`);

    const text = await cli.client.readResource({ uri: uri! });
    expect(text.contents).toEqual([{ uri: uri!, mimeType: "application/json", text: '{"a":1}' }]);
    const blob = await cli.client.readResource({ uri: `r2://${s3.bucket}/res/blob.bin` });
    expect(blob.contents[0]).toMatchObject({ blob: Buffer.from([0xff, 0x00, 0x80]).toString("base64") });

    await expect(cli.client.readResource({ uri: `r2://${s3.bucket}/res/big.txt` })).rejects.toThrow(/too_large/);
    await expect(cli.client.readResource({ uri: `r2://other-bucket/res/blob.bin` })).rejects.toThrow(/not_found/);
    await expect(cli.client.readResource({ uri: `r2://${s3.bucket}/res/missing.txt` })).rejects.toThrow(/not_found/);
    expect((await cli.client.listTools()).tools.length).toBeGreaterThan(0);
  });

  it("logs transfers as notifications/message at the level a 2026-07-28 client puts on each request, without secrets", async () => {
    const logs = cli.logMessages;
    const logLevel = (level: string) => ({ "io.modelcontextprotocol/logLevel": level });
    logs.length = 0;
    await cli.client.callTool({ name: "upload_bytes", arguments: { key: "logs/one.txt", data: "1" }, _meta: logLevel("info") });
    expect(logs.some((l) => l.level === "info" && JSON.stringify(l.data).includes("logs/one.txt"))).toBe(true);

    logs.length = 0;
    await cli.client.callTool({ name: "upload_bytes", arguments: { key: "logs/two.txt", data: "2" }, _meta: logLevel("error") });
    // No level on the request: no messages for it (2026-07-28 has no session-wide level).
    await cli.client.callTool({ name: "upload_bytes", arguments: { key: "logs/three.txt", data: "3" } });
    await cli.client.listTools(); // a round trip after the calls: their notifications would have arrived
    expect(logs).toEqual([]);
  });

  it("logs transfers as notifications/message at the level a 2025 client sets with logging/setLevel, without secrets", async () => {
    const legacy = await startClient({
      ...s3Cli({ ...s3, endpoint: proxy.endpoint }, ["--root", tmp.path]),
      cwd: tmp.path,
      era: "2025-11-25",
    });
    try {
      const logs = legacy.logMessages;
      await legacy.client.setLoggingLevel("info");
      logs.length = 0;
      await callOk(legacy.client, uploadBytes, { key: "logs/four.txt", data: "4" });
      await legacy.client.listTools();
      expect(logs.some((l) => l.level === "info" && JSON.stringify(l.data).includes("logs/four.txt"))).toBe(true);

      await legacy.client.setLoggingLevel("error");
      logs.length = 0;
      await callOk(legacy.client, uploadBytes, { key: "logs/five.txt", data: "5" });
      await legacy.client.listTools();
      expect(logs).toEqual([]);
      expect(JSON.stringify(legacy.logMessages)).not.toContain(TEST_SECRET_ACCESS_KEY);
    } finally {
      await legacy.close();
    }
  });
});

describe("native MCP features over the local store", () => {
  let tmp: TempDir;
  let cli: RunningServer;

  beforeAll(async () => {
    tmp = await makeTempDir();
    cli = await startClient({ ...localCli(path.join(tmp.path, "store"), ["--root", tmp.path]), cwd: tmp.path });
  });

  afterAll(async () => {
    await cli?.close();
    await killChildren();
    await tmp?.cleanup();
  });

  it("presign_url is not listed with only a local store, where it could only answer unsupported", async () => {
    await callOk(cli.client, uploadBytes, { key: "a.txt", data: "a" });
    expect((await cli.client.listTools()).tools.map((t) => t.name)).not.toContain("presign_url");
    expect(await expectProtocolError(call(cli.client, "presign_url", { key: "a.txt" }))).toMatch(/Tool presign_url not found/);
  });

  it("resources use the bucket name local", async () => {
    const listed = await cli.client.listResources();
    expect(listed.resources.map((r) => r.uri)).toContain("r2://local/a.txt");
    const read = await cli.client.readResource({ uri: "r2://local/a.txt" });
    expect(read.contents[0]).toMatchObject({ text: "a" });
  });
});

describe("presign_url in read-only mode", () => {
  let s3: S3TestServer;
  let tmp: TempDir;
  let cli: RunningServer;

  beforeAll(async () => {
    s3 = await startS3Server();
    tmp = await makeTempDir();
    cli = await startClient({ ...s3Cli(s3, ["--read-only", "--root", tmp.path]), cwd: tmp.path });
  });

  afterAll(async () => {
    await cli?.close();
    await killChildren();
    await s3?.close();
    await tmp?.cleanup();
  });

  it("gives GET links and refuses PUT links", async () => {
    const tools = (await cli.client.listTools()).tools.map((t) => t.name);
    expect(tools).toContain("presign_url");
    await s3.rawClient().send(new PutObjectCommand({ Bucket: s3.bucket, Key: "any.txt", Body: "any" }));
    const get = await call(cli.client, "presign_url", { key: "any.txt" });
    expect(get.isError).toBeFalsy();
    const put = await callError(cli.client, "presign_url", { key: "any.txt", method: "PUT" });
    expect(put.text).toMatch(/^access_denied: .*read-only/);
    expect(textOf(put)).not.toContain("X-Amz");
  });
});

describe("the published MCP inspector CLI", () => {
  let tmp: TempDir;
  beforeAll(async () => {
    tmp = await makeTempDir();
  });
  afterAll(async () => {
    await tmp?.cleanup();
  });

  // inspector-cli 1.x looks for "../package.json" relative to the working directory before
  // importing its own; run it from a folder whose parent has one (the repo's test/).
  const inspector = (args: string[]) =>
    run(
      process.execPath,
      [
        path.join(REPO_ROOT, "node_modules/@modelcontextprotocol/inspector-cli/build/cli.js"),
        "--cli",
        process.execPath,
        CLI_PATH,
        "--local",
        path.join(tmp.path, "store"),
        ...args,
      ],
      {
        cwd: path.join(REPO_ROOT, "test"),
        timeout: 60_000,
      },
    );

  it("lists the tools and calls one through it", async () => {
    const listed = await inspector(["--method", "tools/list"]);
    const tools = (JSON.parse(listed.stdout.slice(listed.stdout.indexOf("{"))) as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(tools).toEqual(expect.arrayContaining(["list_objects", "upload_bytes", "download_directory"]));

    const called = await inspector([
      "--method",
      "tools/call",
      "--tool-name",
      "upload_bytes",
      "--tool-arg",
      "key=hello.txt",
      "--tool-arg",
      "data=hi",
    ]);
    const result = JSON.parse(called.stdout.slice(called.stdout.indexOf("{"))) as { structuredContent: { key: string; size: number } };
    expect(result.structuredContent).toMatchObject({ key: "hello.txt", size: 2 });
  });
});

describe("the README's scripting example", () => {
  it("runs as shown", async () => {
    const tmp = await makeTempDir();
    try {
      await mkdir(path.join(tmp.path, "data"));
      const { stdout } = await run(process.execPath, [path.join(REPO_ROOT, "examples/list-bucket.mjs"), path.join(tmp.path, "data")], {
        cwd: REPO_ROOT,
        timeout: 60_000,
      });
      expect(stdout).toContain("notes/hello.txt\t20");
      expect(stdout).toContain("hello from a script");
    } finally {
      await tmp.cleanup();
    }
  });
});
