/**
 * copy_objects over the real stdio transport: a prefix copy, a dry run, the all-or-nothing
 * conflict rule and a move, on both backends; then over S3 with two buckets on one endpoint
 * (server-side) and the copy race through the conditional proxy (the stand-in for R2's 412).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { copyObjects } from "../../src/mcp/tools/copy-objects.js";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { uploadBytes } from "../../src/mcp/tools/upload-bytes.js";
import { callError, callOk, expectError } from "../helpers/calls.js";
import { type ConditionalProxy, startConditionalProxy } from "../helpers/conditional-proxy.js";
import { killChildren } from "../helpers/run-cli.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { type RunningServer, SERVED, s3Cli, startClient } from "../helpers/start-client.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";
import { useToolsServer } from "../helpers/tools-server.js";

const FILES = { "a.csv": "1,2\n", "sub/b.txt": "bravo", "sub/deep/c.json": '{"c":3}' };

describe.each(SERVED)("copy_objects over stdio, %s backend, protocol %s", (backend, era) => {
  const fx = useToolsServer(backend, era);
  const seed = async (prefix: string) => {
    for (const [name, data] of Object.entries(FILES)) await callOk(fx.client, uploadBytes, { key: `${prefix}${name}`, data });
  };
  const keysUnder = async (prefix: string) => (await callOk(fx.client, listObjects, { prefix })).objects.map((o) => o.key).sort();

  it("copies a prefix keeping its structure; a dry run first says what it would do and writes nothing", async () => {
    await seed("cp/exp42/");
    const dry = await callOk(fx.client, copyObjects, { source: "cp/exp42", destination: "cp/exp43", recursive: true, dry_run: true });
    expect(dry).toMatchObject({ copied: 0, planned: 3, dry_run: true, conflicts: [], skipped: [] });
    expect(await keysUnder("cp/exp43/")).toEqual([]);
    const done = await callOk(fx.client, copyObjects, { source: "cp/exp42", destination: "cp/exp43", recursive: true });
    expect(done).toMatchObject({ copied: 3, bytes: 4 + 5 + 7, planned: 3, moved: 0, server_side: true });
    expect(await keysUnder("cp/exp43/")).toEqual(["cp/exp43/a.csv", "cp/exp43/sub/b.txt", "cp/exp43/sub/deep/c.json"]);
    expect(await fx.getText("cp/exp43/sub/deep/c.json")).toBe('{"c":3}');
  });

  it("refuses the whole copy on a conflict, writing nothing; overlapping prefixes are invalid_argument", async () => {
    await seed("cf/src/");
    await callOk(fx.client, uploadBytes, { key: "cf/dst/sub/b.txt", data: "other" });
    const conflict = await callError(fx.client, "copy_objects", { source: "cf/src/", destination: "cf/dst/", recursive: true });
    expectError(conflict, "already_exists");
    expect(conflict.text).toContain('"cf/dst/sub/b.txt"');
    expect(await keysUnder("cf/dst/")).toEqual(["cf/dst/sub/b.txt"]);
    const overlap = await callError(fx.client, "copy_objects", { source: "cf/src/", destination: "cf/src/inner/", recursive: true });
    expectError(overlap, "invalid_argument");
  });

  it("moves a prefix: every source deleted once its copy is confirmed", async () => {
    await seed("mv/old/");
    const moved = await callOk(fx.client, copyObjects, { source: "mv/old/", destination: "mv/new/", recursive: true, move: true });
    expect(moved).toMatchObject({ copied: 3, moved: 3 });
    expect(await keysUnder("mv/old/")).toEqual([]);
    expect(await keysUnder("mv/new/")).toHaveLength(3);
  });
});

describe("copy_objects over stdio, S3: two buckets on one endpoint, and the race", () => {
  let s3: S3TestServer;
  let proxy: ConditionalProxy;
  let tmp: TempDir;
  let cli: RunningServer;

  beforeAll(async () => {
    s3 = await startS3Server();
    await s3.createBucket("second");
    // fauxqs ignores If-None-Match and copy-source-if-match; the proxy answers 412 like R2.
    proxy = await startConditionalProxy(s3.endpoint);
    tmp = await makeTempDir();
    cli = await startClient({ ...s3Cli({ ...s3, endpoint: proxy.endpoint }, ["--bucket", "second", "--root", tmp.path]), cwd: tmp.path });
    await cli.client.listTools();
  });

  afterAll(async () => {
    await cli?.close();
    await killChildren();
    await proxy?.close();
    await s3?.close();
    await tmp?.cleanup();
  });

  it("copies between the two buckets on the server (CopyObject), naming both", async () => {
    for (const [name, data] of Object.entries(FILES)) await callOk(cli.client, uploadBytes, { key: `runs/${name}`, data });
    const copiesBefore = proxy.stats.copies;
    const result = await cli.call("copy_objects", {
      source: "runs/",
      destination: "imported/",
      recursive: true,
      source_bucket: s3.bucket,
      bucket: "second",
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ copied: 3, server_side: true, bucket: "second" });
    expect(result.text).toContain(`from ${s3.bucket}:"runs/" to second:"imported/"`);
    expect(proxy.stats.copies - copiesBefore).toBe(3);
    const listed = await callOk(cli.client, listObjects, { prefix: "imported/", bucket: "second" });
    expect(listed.objects.map((o) => o.key).sort()).toEqual(["imported/a.csv", "imported/sub/b.txt", "imported/sub/deep/c.json"]);
  });

  it("16 concurrent copy_objects to one destination key without overwrite: exactly one succeeds", async () => {
    const sources = Array.from({ length: 16 }, (_, i) => `race/src-${i}.txt`);
    for (const [i, key] of sources.entries()) await callOk(cli.client, uploadBytes, { key, data: `writer ${i}` });
    const results = await Promise.all(sources.map((source) => cli.call("copy_objects", { source, destination: "race/target.txt" })));
    const winners = results.flatMap((r, i) => (r.isError ? [] : [i]));
    expect(winners).toHaveLength(1);
    for (const r of results.filter((r) => r.isError)) expect(r.text).toMatch(/^already_exists: /);
    const stored = await cli.call("get_object_bytes", { key: "race/target.txt" });
    expect((stored.structuredContent as { data: string }).data).toBe(`writer ${winners[0]}`);
  });
});
