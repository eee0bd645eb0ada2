/**
 * Several buckets in one server, over stdio: an S3 bucket from --bucket, the embedded store from
 * --local, and a read-only local bucket with an allow-list from --config. Every object tool takes
 * `bucket`; results and errors name the bucket acted on; nothing outside the configuration is
 * reachable.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getObjectBytes } from "../../src/mcp/tools/get-object-bytes.js";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { call, callError, callOk } from "../helpers/calls.js";
import { type S3TestServer, startS3Server, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { type RunningServer, s3Cli, startClient, TEST_ERAS, textOf } from "../helpers/start-client.js";
import { makeTempDir, snapshotTree, type TempDir } from "../helpers/tmp.js";

interface BucketRow {
  name: string;
  kind: string;
  bucket?: string;
  endpoint?: string;
  read_only: boolean;
  allow_prefixes: string[];
  default: boolean;
}

describe.each(TEST_ERAS)("several buckets in one server, protocol %s", (era) => {
  let tmp: TempDir;
  let s3: S3TestServer;
  let server: RunningServer;
  let archiveDir: string;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-buckets-");
    s3 = await startS3Server();
    archiveDir = path.join(tmp.path, "archive");
    await mkdir(path.join(archiveDir, "datasets"), { recursive: true });
    await writeFile(path.join(archiveDir, "datasets", "mnist.csv"), "label,pixels\n");
    await writeFile(path.join(archiveDir, "notes.txt"), "not in the allow-list");
    const configFile = path.join(tmp.path, "r2-mcp.json");
    await writeFile(
      configFile,
      JSON.stringify({ buckets: [{ name: "archive", local: archiveDir, read_only: true, allow_prefixes: ["datasets/"] }] }),
    );
    const cli = s3Cli(s3, ["--config", configFile, "--local", path.join(tmp.path, "scratch"), "--root", tmp.path]);
    server = await startClient({ ...cli, cwd: tmp.path, era });
  });

  afterAll(async () => {
    await server?.close();
    await s3?.close();
    await tmp?.cleanup();
  });

  it("list_buckets describes every configured bucket from configuration alone, never a credential", async () => {
    const result = await call(server.client, "list_buckets", {});
    const { buckets } = result.structuredContent as { buckets: BucketRow[] };
    expect(buckets).toEqual([
      { name: "archive", kind: "local", read_only: true, allow_prefixes: ["datasets/"], default: true },
      {
        name: s3.bucket,
        kind: "s3",
        bucket: s3.bucket,
        endpoint: new URL(s3.endpoint).origin,
        read_only: false,
        allow_prefixes: [],
        default: false,
      },
      { name: "local", kind: "local", read_only: false, allow_prefixes: [], default: false },
    ]);
    expect(JSON.stringify(result)).not.toContain(TEST_SECRET_ACCESS_KEY);
    expect(textOf(result)).toContain("archive (default): local store, read-only, keys under datasets/");
  });

  it("routes each call to the bucket named, and names it in the result", async () => {
    const put = await call(server.client, "upload_bytes", { bucket: s3.bucket, key: "runs/a.txt", data: "to s3" });
    expect(put.structuredContent).toMatchObject({ key: "runs/a.txt", bucket: s3.bucket, replaced: false });
    expect(textOf(put)).toMatch(new RegExp(`^bucket "${s3.bucket}": created "runs/a.txt"`));
    await call(server.client, "upload_bytes", { bucket: "local", key: "runs/a.txt", data: "to local" });
    const fromS3 = await callOk(server.client, getObjectBytes, {
      bucket: s3.bucket,
      key: "runs/a.txt",
    });
    const fromLocal = await callOk(server.client, getObjectBytes, {
      bucket: "local",
      key: "runs/a.txt",
    });
    expect([fromS3.data, fromS3.bucket, fromLocal.data, fromLocal.bucket]).toEqual(["to s3", s3.bucket, "to local", "local"]);
    const listing = await callOk(server.client, listObjects, { prefix: "datasets/" });
    expect(listing).toMatchObject({ bucket: "archive", objects: [{ key: "datasets/mnist.csv" }] });
  });

  it("a write to the read-only bucket is access_denied naming it, and nothing changes", async () => {
    const before = await snapshotTree(archiveDir);
    const err = await callError(server.client, "upload_bytes", { bucket: "archive", key: "datasets/new.csv", data: "x" });
    expect(err.text).toMatch(/^access_denied: .*bucket "archive" is read-only/);
    const del = await callError(server.client, "delete_object", { key: "datasets/mnist.csv" });
    expect(del.text).toMatch(/^access_denied: .*\(bucket "archive"\)$/);
    expect(await snapshotTree(archiveDir)).toEqual(before);
  });

  it("the read-only bucket's allow-list holds: outside_allowed_prefix naming it", async () => {
    const err = await callError(server.client, "get_object_bytes", { bucket: "archive", key: "notes.txt" });
    expect(err.text).toMatch(/^outside_allowed_prefix: .*\(bucket "archive"\)$/);
  });

  it("a bucket not configured is invalid_argument listing the configured names", async () => {
    for (const bucket of ["other", "../scratch", "", s3.bucket.toUpperCase()]) {
      const err = await callError(server.client, "head_object", { bucket, key: "runs/a.txt" });
      expect(err.text, bucket).toMatch(/^invalid_argument: bucket .* is not a bucket of this server/);
      expect(err.text, bucket).toContain(`"archive", "${s3.bucket}", "local"`);
    }
  });

  it("resources are addressed by the configured name", async () => {
    const read = await server.client.readResource({ uri: "r2://local/runs/a.txt" });
    expect(read.contents[0]).toMatchObject({ text: "to local" });
    const fromS3 = await server.client.readResource({ uri: `r2://${s3.bucket}/runs/a.txt` });
    expect(fromS3.contents[0]).toMatchObject({ text: "to s3" });
    await expect(server.client.readResource({ uri: "r2://nowhere/runs/a.txt" })).rejects.toThrow(/not_found/);
    const listed = await server.client.listResources();
    expect(listed.resources.map((r) => r.uri)).toEqual(
      expect.arrayContaining(["r2://archive/datasets/mnist.csv", `r2://${s3.bucket}/runs/a.txt`, "r2://local/runs/a.txt"]),
    );
  });

  it("presign_url is listed beside an S3 bucket, and answers unsupported for a local bucket, naming it", async () => {
    expect((await server.client.listTools()).tools.map((t) => t.name)).toContain("presign_url");
    const err = await callError(server.client, "presign_url", { bucket: "local", key: "runs/a.txt" });
    expect(err.text).toMatch(/^unsupported: the local store has no URLs to share.*\(bucket "local"\)$/);
    const link = await call(server.client, "presign_url", { bucket: s3.bucket, key: "runs/a.txt" });
    expect(link.isError).toBeFalsy();
  });

  it("the instructions name the buckets and their policies", () => {
    const instructions = server.client.getInstructions() ?? "";
    expect(instructions).toContain(`Buckets (pass bucket to choose; default "archive"): "archive" (read-only), "${s3.bucket}", "local"`);
    expect(instructions).toContain('Only keys under these prefixes may be used in bucket "archive": "datasets/"');
  });
});
