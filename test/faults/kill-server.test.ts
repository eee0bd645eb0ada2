/**
 * The S3 server killed in the middle of a transfer (fauxqs closes its listener and cuts every
 * open connection, mid-body included), then restarted on the same port with its storage intact,
 * as a real server would be (see durable-s3.ts for why not test/helpers/s3-server.ts). The client
 * talks to the server directly: no proxy.
 */
import { randomBytes } from "node:crypto";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Store } from "../../src/core/s3/store.js";
import { downloadDirectory, uploadFile } from "../../src/core/transfer/index.js";
import { failureOf } from "../helpers/assert.js";
import { MIB, md5Hex, readAll } from "../helpers/bytes.js";
import { type DurableS3Server, startDurableS3Server } from "../helpers/durable-s3.js";
import { makeTempDir, partFiles, snapshotTree, type TempDir } from "../helpers/tmp.js";
import { captureLog, storeConfig } from "./setup.js";

let server: DurableS3Server;
let raw: S3Client;
let tmp: TempDir;

beforeAll(async () => {
  server = await startDurableS3Server();
  raw = server.rawClient();
  tmp = await makeTempDir("r2mcp-kill-");
});
afterAll(async () => {
  raw?.destroy();
  await server?.close();
  await tmp?.cleanup();
});

function directStore(log?: ReturnType<typeof captureLog>["log"]): S3Store {
  return new S3Store({ ...storeConfig(server, server.endpoint), maxAttempts: 2, ...(log ? { log } : {}) });
}

describe("the server dies in the middle of a transfer", () => {
  it("a directory download: unavailable, exactly the completed files on disk, no temporary file; after a restart the same call finishes", async () => {
    const names = Array.from({ length: 12 }, (_, i) => `part-${String(i).padStart(2, "0")}.bin`);
    const contents = new Map(names.map((n) => [n, randomBytes(512 * 1024)]));
    for (const n of names) await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: `killdl/${n}`, Body: contents.get(n) }));
    const store = directStore();
    const out = path.join(tmp.path, "killdl");
    let killed: Promise<void> | undefined;
    try {
      const err = await failureOf(
        downloadDirectory(store, "killdl", out, {
          maxWorkers: 3,
          onProgress: (p) => {
            if (p.bytesDone > 0) killed ??= server.kill();
          },
        }),
      );
      await killed;
      expect(err.kind).toBe("unavailable");
      expect(err.message).toMatch(/repeat the call/);
      const { completed, failed, notStarted } = err.details as { completed: string[]; failed: string[]; notStarted: string[] };
      expect(failed.length).toBeGreaterThan(0);
      expect([...completed, ...failed, ...notStarted].sort()).toEqual(names.map((n) => path.join(out, n)));
      const files = Object.entries(await snapshotTree(out))
        .filter(([, v]) => v !== "dir")
        .map(([p]) => path.join(out, p));
      expect(files.sort()).toEqual([...completed].sort());
      for (const p of completed) expect(md5Hex(await readFile(p))).toBe(md5Hex(contents.get(path.basename(p))!));
      expect(await partFiles(out, { missingOk: true })).toEqual([]);

      await server.restart();
      const again = await downloadDirectory(store, "killdl", out, { maxWorkers: 3 });
      expect([...again.skipped].sort()).toEqual([...completed].sort());
      expect(again.transferred).toBe(names.length - completed.length);
      for (const n of names) expect(md5Hex(await readFile(path.join(out, n)))).toBe(md5Hex(contents.get(n)!));
    } finally {
      await server.restart();
      await store.close();
    }
  });

  it("a large (multipart) upload: unavailable, no object; the upload that could not be aborted while the server was down is aborted by the next upload", async () => {
    const data = randomBytes(26 * MIB);
    const file = path.join(tmp.path, "large.bin");
    await writeFile(file, data);
    const key = "killup/large.bin";
    const { log, entries } = captureLog();
    const store = directStore(log);
    let killed: Promise<void> | undefined;
    try {
      const err = await failureOf(
        uploadFile(store, file, key, {
          onProgress: (p) => {
            if (p.bytesDone > 0) killed ??= server.kill();
          },
        }),
      );
      await killed;
      expect(err.kind).toBe("unavailable");
      expect(err.message).toMatch(
        /check the endpoint URL.*multipart upload could not be aborted either; it is aborted before this connection's next upload/,
      );
      const uploadId = err.details?.uploadId;
      expect(typeof uploadId).toBe("string");

      await server.restart();
      expect(await store.head(key)).toBeUndefined();
      // The server kept the unfinished upload across its restart: nobody could abort it while it was down.
      expect(server.openUploads()).toEqual([{ key, uploadId }]);

      // Repeating the call cleans it up first, then uploads.
      const again = await uploadFile(store, file, key);
      expect(again.etag).toMatch(/-6$/);
      expect(server.openUploads()).toEqual([]);
      expect(md5Hex(await readAll((await store.get(key)).body))).toBe(md5Hex(data));
      expect(entries.some((e) => e.message.startsWith(`aborted the unfinished multipart upload of "${key}"`))).toBe(true);
    } finally {
      await server.restart();
      await store.close();
    }
  });
});
