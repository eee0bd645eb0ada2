/**
 * copy_objects across buckets with different policies, over stdio: a read-only local bucket with
 * an allow-list (from --config), a writable S3 bucket (fauxqs) and a writable local store. Policy
 * holds on both sides (source read, destination write, a moved source deleted), every refusal
 * changes nothing anywhere, and a bucket that is not configured is never reached.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoSecrets } from "../helpers/assert.js";
import { snapshotAll } from "../helpers/bucket.js";
import { type ExpectedCode, expectError } from "../helpers/calls.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { type RunningServer, s3Cli, startClient } from "../helpers/start-client.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

describe("copy_objects between buckets of different policies", () => {
  let tmp: TempDir;
  let s3: S3TestServer;
  let raw: S3Client;
  let server: RunningServer;
  const transcript: string[] = [];

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-sec-copy-");
    s3 = await startS3Server();
    raw = s3.rawClient();
    const archive = path.join(tmp.path, "archive");
    await mkdir(path.join(archive, "datasets"), { recursive: true });
    await writeFile(path.join(archive, "datasets", "mnist.csv"), "label,pixels\n");
    await writeFile(path.join(archive, "notes.txt"), "not in the allow-list");
    const config = path.join(tmp.path, "r2-mcp.json");
    await writeFile(
      config,
      JSON.stringify({ buckets: [{ name: "archive", local: archive, read_only: true, allow_prefixes: ["datasets/"] }] }),
    );
    const cli = s3Cli(s3, ["--config", config, "--local", path.join(tmp.path, "scratch"), "--root", tmp.path, "--log-level", "debug"]);
    server = await startClient({ ...cli, cwd: tmp.path, transcript, listTools: true });
    const put = await server.call("upload_bytes", { bucket: s3.bucket, key: "runs/a.txt", data: "results" });
    expect(put.isError).toBeFalsy();
  });

  afterAll(async () => {
    await server?.close();
    raw?.destroy();
    await s3?.close();
    await tmp?.cleanup();
  });

  const cases: { name: string; args: Record<string, unknown>; code: ExpectedCode; mentions: string[] }[] = [
    {
      name: "into the read-only bucket",
      args: { source: "runs/", destination: "datasets/runs/", recursive: true, source_bucket: "S3", bucket: "archive" },
      code: "access_denied",
      mentions: ['bucket "archive" is read-only'],
    },
    {
      name: "a move out of the read-only bucket (its sources cannot be deleted)",
      args: { source: "datasets/", destination: "imported/", recursive: true, source_bucket: "archive", bucket: "S3", move: true },
      code: "access_denied",
      mentions: ["archive"],
    },
    {
      name: "out of the read-only bucket, outside its allow-list",
      args: { source: "notes.txt", destination: "notes.txt", source_bucket: "archive", bucket: "local" },
      code: "outside_allowed_prefix",
      mentions: ["source", "datasets/"],
    },
    {
      name: "out of the read-only bucket through a .. segment",
      args: { source: "datasets/../notes.txt", destination: "notes.txt", source_bucket: "archive", bucket: "local" },
      code: "outside_allowed_prefix",
      mentions: [],
    },
    {
      name: "a source bucket that is not configured",
      args: { source: "runs/a.txt", destination: "a.txt", source_bucket: "../scratch", bucket: "local" },
      code: "invalid_argument",
      mentions: ["source_bucket", '"archive"'],
    },
  ];

  it.each(cases.map((c) => [c.name, c] as const))("refuses %s and changes nothing", async (_name, c) => {
    const args = Object.fromEntries(Object.entries(c.args).map(([k, v]) => [k, v === "S3" ? s3.bucket : v]));
    const before = await snapshotAll(tmp.path, { client: raw, server: s3 });
    const result = await server.call("copy_objects", args);
    expectError(result, c.code);
    for (const mention of c.mentions) expect(result.text).toContain(mention);
    expect(await snapshotAll(tmp.path, { client: raw, server: s3 })).toEqual(before);
  });

  it("copies out of the read-only bucket under its allow-list (reading is allowed), streamed into another store", async () => {
    const result = await server.call("copy_objects", {
      source: "datasets/",
      destination: "datasets/",
      recursive: true,
      source_bucket: "archive",
      bucket: s3.bucket,
    });
    expect(result.isError, result.text).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ copied: 1, server_side: false, bucket: s3.bucket });
  });

  it("no credential in anything the server said", () => {
    expectNoSecrets(transcript);
  });
});
