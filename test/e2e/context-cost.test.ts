/**
 * What the server costs an assistant's context before any tool runs (issue 16, item 8), measured
 * over the real CLI on stdio: tools/list for the ten tools of 0.1 under 13 KB and for every tool
 * under 26 KB, with no safe-integer bounds and no repeated $schema; resources/list under 15 KB for
 * a bucket of 200 objects, each entry only a name, URI, size and type.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Tool } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { localCli, type RunningServer, s3Cli, startClient } from "../helpers/start-client.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

const TOOLS_OF_0_1 = [
  "list_objects",
  "head_object",
  "get_object_bytes",
  "upload_bytes",
  "upload_file",
  "upload_directory",
  "download_file",
  "download_directory",
  "delete_object",
  "presign_url",
];

const bytesOf = (value: unknown) => Buffer.byteLength(JSON.stringify(value), "utf8");

describe("context cost over stdio", () => {
  let tmp: TempDir | undefined;
  let server: RunningServer | undefined;
  let s3: S3TestServer | undefined;
  let tools: Tool[] = [];

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-cost-");
    const store = path.join(tmp.path, "store");
    // 200 objects, written as the local store keeps them (a file per key).
    for (let i = 0; i < 200; i++) {
      const file = path.join(store, "datasets", "mnist", "test", `img_${String(i).padStart(4, "0")}.bin`);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, Buffer.alloc(784 + i));
    }
    const work = path.join(tmp.path, "work");
    await mkdir(work);
    server = await startClient({ ...localCli(store, ["--root", work]), cwd: work });
    // Every tool is registered over S3 (presign_url needs a bucket that can make links).
    s3 = await startS3Server();
    const overS3 = await startClient({ ...s3Cli(s3, ["--root", work]), cwd: work });
    try {
      ({ tools } = await overS3.client.listTools());
    } finally {
      await overS3.close();
    }
  });
  afterAll(async () => {
    await server?.close();
    await s3?.close();
    await tmp?.cleanup();
  });

  // Issue 16's budgets, for what describes a tool to the model: everything tools/list carries but
  // the icons (MCP's display data for the host's interface, an SVG data URI of ~440 bytes per
  // tool since SDK v2, which issue 16's measure predates). Measured with every tool of 0.2 (list
  // filters, include/exclude, background and its job_id, prefix_objects, copy_objects, unverified):
  // the ten 12,978 bytes, all seventeen 25,352 (before the trims, the ten 16,208 and sixteen
  // without copy_objects 29,893). A field or a description that grows them past the budget fails here:
  // trim something else, or say why not.
  it("tools/list without icons: the ten tools of 0.1 under 13 KB, the whole set under 26 KB", () => {
    const described = tools.map(({ icons: _, ...tool }) => tool);
    const ten = described.filter((t) => TOOLS_OF_0_1.includes(t.name));
    expect(ten.map((t) => t.name).sort()).toEqual([...TOOLS_OF_0_1].sort());
    expect(bytesOf({ tools: ten })).toBeLessThan(13_000);
    expect(bytesOf({ tools: described })).toBeLessThan(26_000);
  });

  // The whole message, icons included (measured: the ten 16,938 bytes, all seventeen 32,126), held
  // where it is so that icons grow no more than descriptions do.
  it("tools/list as sent, icons included: the ten under 17.5 KB, the whole set under 33 KB", () => {
    for (const tool of tools) expect(bytesOf(tool.icons ?? []), tool.name).toBeLessThan(500);
    expect(bytesOf({ tools: tools.filter((t) => TOOLS_OF_0_1.includes(t.name)) })).toBeLessThan(17_500);
    expect(bytesOf({ tools })).toBeLessThan(33_000);
  });

  it("tools/list carries no safe-integer bounds and no $schema", () => {
    const text = JSON.stringify(tools);
    expect(text).not.toContain("9007199254740991");
    expect(text).not.toContain("$schema");
  });

  it("resources/list: under 15 KB for 200 objects, each entry a name, URI, size and type only", async () => {
    const { resources } = await (server as RunningServer).client.listResources();
    expect(resources.length).toBeGreaterThan(50);
    expect(bytesOf({ resources })).toBeLessThan(15_000);
    for (const r of resources) {
      expect(Object.keys(r).sort()).toEqual(expect.arrayContaining(["name", "size", "uri"]));
      for (const field of Object.keys(r)) expect(["name", "uri", "size", "mimeType"]).toContain(field);
      expect(r.uri).toBe(`r2://local/${r.name}`);
    }
    expect(resources[0]).toEqual({
      name: "datasets/mnist/test/img_0000.bin",
      uri: "r2://local/datasets/mnist/test/img_0000.bin",
      size: 784,
    });
  });
});
