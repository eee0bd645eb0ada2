/**
 * notifications/cancelled over stdio: the SDK client aborts a long call (its request signal),
 * the server stops the transfer promptly, and leaves no partial local file and no multipart
 * upload behind. Runs against the built CLI and the suite's fauxqs server on 127.0.0.1.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import pMap from "p-map";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadDirectory } from "../../src/mcp/tools/download-directory.js";
import { headObject } from "../../src/mcp/tools/head-object.js";
import { uploadDirectory } from "../../src/mcp/tools/upload-directory.js";
import { uploadFile } from "../../src/mcp/tools/upload-file.js";
import { MIB } from "../helpers/bytes.js";
import { callOk } from "../helpers/calls.js";
import { type DurableS3Server, startDurableS3Server } from "../helpers/durable-s3.js";
import { killChildren } from "../helpers/run-cli.js";
import { type RunningServer, s3Cli, startClient, TEST_ERAS } from "../helpers/start-client.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

async function listFiles(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true }).catch(() => [])).map(String);
}

/**
 * The abort reaches the server as a notification, after the client has already given up: give it
 * up to 50 round trips (bounded, no sleeps) to finish cleaning up, then return what is on disk.
 */
async function settledFiles(cli: RunningServer, dir: string): Promise<string[]> {
  let files = await listFiles(dir);
  for (let i = 0; i < 50 && files.some((f) => f.endsWith(".r2-mcp-part")); i++) {
    await cli.client.listTools();
    files = await listFiles(dir);
  }
  return files;
}

describe.each(TEST_ERAS)("cancelling long tools over stdio, protocol %s", (era) => {
  // The durable server exposes its open multipart uploads (fauxqs does not answer ListMultipartUploads).
  let s3: DurableS3Server;
  let tmp: TempDir;
  let cli: RunningServer;

  beforeAll(async () => {
    s3 = await startDurableS3Server();
    tmp = await makeTempDir();
    const raw = s3.rawClient();
    await pMap(
      Array.from({ length: 40 }, (_, i) => i),
      (i) => raw.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `many/f${String(i).padStart(2, "0")}.bin`, Body: randomBytes(MIB) })),
      { concurrency: 8 },
    );
    await writeFile(path.join(tmp.path, "big.bin"), randomBytes(48 * MIB));
    cli = await startClient({ ...s3Cli(s3, ["--root", tmp.path]), cwd: tmp.path, era });
  });

  afterAll(async () => {
    await cli?.close();
    await killChildren();
    await s3?.close();
    await tmp?.cleanup();
  });

  it("download_directory stops, leaving only whole files and no temporary ones", async () => {
    const target = path.join(tmp.path, "out");
    const controller = new AbortController();
    const call = cli.client.callTool(
      { name: "download_directory", arguments: { prefix: "many/", local_dir: target, max_workers: 1 } },
      { signal: controller.signal, onprogress: () => controller.abort() },
    );
    await expect(call).rejects.toThrow(/abort/i);
    const files = await settledFiles(cli, target);
    expect(files.filter((f) => f.endsWith(".r2-mcp-part"))).toEqual([]);
    expect(files.length).toBeLessThan(40);
    for (const f of files) expect((await stat(path.join(target, f))).size).toBe(MIB);
    // Repeating the call finishes the job: the files already there are identical, so skipped.
    const again = await callOk(cli.client, downloadDirectory, {
      prefix: "many/",
      local_dir: target,
    });
    expect(again.downloaded + again.skipped.length).toBe(40);
  });

  it("many workers sharing one request's cancel signal raise no listener-leak warning", async () => {
    const target = path.join(tmp.path, "wide");
    const done = await callOk(cli.client, downloadDirectory, {
      prefix: "many/",
      local_dir: target,
      max_workers: 32,
    });
    expect(done.downloaded).toBe(40);
    const up = await callOk(cli.client, uploadDirectory, { local_dir: target, prefix: "wide/", max_workers: 32 });
    expect(up.uploaded).toBe(40);
    expect(cli.stderr()).not.toContain("MaxListenersExceededWarning");
  });

  it("upload_file of a multipart-sized file stops and aborts its multipart upload", async () => {
    const controller = new AbortController();
    const call = cli.client.callTool(
      { name: "upload_file", arguments: { local_path: path.join(tmp.path, "big.bin"), key: "cancel/big.bin" } },
      { signal: controller.signal, onprogress: () => controller.abort() },
    );
    await expect(call).rejects.toThrow(/abort/i);
    const head = await callOk(cli.client, headObject, { key: "cancel/big.bin" });
    expect(head.exists).toBe(false);
    // The abort reaches the server asynchronously: wait (bounded) until no upload is in progress.
    let uploads = s3.openUploads();
    for (let i = 0; i < 50 && uploads.length > 0; i++) {
      await callOk(cli.client, headObject, { key: "cancel/big.bin" }); // a round trip, not a sleep
      uploads = s3.openUploads();
    }
    expect(uploads).toEqual([]);
    expect((await callOk(cli.client, headObject, { key: "cancel/big.bin" })).exists).toBe(false);
  });

  it("a cancelled download_file leaves nothing at the target", async () => {
    await mkdir(path.join(tmp.path, "one"), { recursive: true });
    await callOk(cli.client, uploadFile, { local_path: path.join(tmp.path, "big.bin"), key: "whole/big.bin" });
    const controller = new AbortController();
    const call = cli.client.callTool(
      { name: "download_file", arguments: { key: "whole/big.bin", local_path: path.join(tmp.path, "one", "big.bin") } },
      { signal: controller.signal, onprogress: () => controller.abort() },
    );
    await expect(call).rejects.toThrow(/abort/i);
    expect(await settledFiles(cli, path.join(tmp.path, "one"))).toEqual([]);
  });
});
