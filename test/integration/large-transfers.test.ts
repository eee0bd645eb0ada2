/**
 * Large objects over S3 against the real local server (fauxqs on 127.0.0.1): multipart uploads,
 * parallel ranged downloads, resuming a directory upload whose big file went multipart,
 * progress, and cancellation that leaves no partial file and no multipart upload behind.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageError } from "../../src/core/errors.js";
import { S3Store } from "../../src/core/s3/store.js";
import { downloadDirectory, downloadFile, type TransferProgress, uploadDirectory, uploadFile } from "../../src/core/transfer/index.js";
import { MIB, md5Hex } from "../helpers/bytes.js";
import { type DurableS3Server, startDurableS3Server } from "../helpers/durable-s3.js";
import { makeS3Client } from "../helpers/s3-server.js";
import { makeTempDir, partFiles, type TempDir } from "../helpers/tmp.js";

describe("large transfers over S3", () => {
  // The durable server exposes its open multipart uploads (fauxqs does not answer ListMultipartUploads).
  let server: DurableS3Server;
  let store: S3Store;
  let tmp: TempDir;
  // 21 MiB + a tail: above the 16 MiB ranged-download threshold and 5 parts of 5 MiB on upload.
  const big = randomBytes(21 * MIB + 4321);

  beforeAll(async () => {
    server = await startDurableS3Server();
    tmp = await makeTempDir();
    store = new S3Store({
      bucket: server.bucket,
      endpoint: server.endpoint,
      region: server.region,
      credentials: server.credentials,
      multipartThreshold: 5 * MIB,
    });
    await writeFile(path.join(tmp.path, "big.bin"), big);
  });

  afterAll(async () => {
    await store?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  it("uploads multipart and downloads in parallel ranges, byte for byte, with progress reaching the total", async () => {
    const up: TransferProgress[] = [];
    const put = await uploadFile(store, path.join(tmp.path, "big.bin"), "large/big.bin", { onProgress: (p) => up.push(p) });
    expect(put.etag).toMatch(/-5$/); // 5 parts of 5 MiB: it really went multipart
    expect(up.at(-1)).toMatchObject({ bytesDone: big.length, bytesTotal: big.length, filesDone: 1 });

    const down: TransferProgress[] = [];
    const target = path.join(tmp.path, "copy", "big.bin");
    const got = await downloadFile(store, "large/big.bin", target, { onProgress: (p) => down.push(p) });
    expect(got.size).toBe(big.length);
    expect(md5Hex(await readFile(target))).toBe(md5Hex(big));
    expect(down.at(-1)).toMatchObject({ bytesDone: big.length, bytesTotal: big.length, filesDone: 1 });
    // Ranges arrive in parallel: progress is reported many times, never above the total.
    expect(down.length).toBeGreaterThan(3);
    expect(down.every((p) => p.bytesDone <= big.length)).toBe(true);
    expect(await partFiles(tmp.path)).toEqual([]);
  });

  it("through a caller's own SDK client (the library's s3Client) too: parts streamed from the file, byte for byte", async () => {
    const client = makeS3Client(server.endpoint, server.region);
    const own = new S3Store({ bucket: server.bucket, client, multipartThreshold: 5 * MIB });
    try {
      const put = await uploadFile(own, path.join(tmp.path, "big.bin"), "own-client/big.bin");
      expect(put.etag).toMatch(/-5$/);
      const target = path.join(tmp.path, "own-client", "big.bin");
      await downloadFile(own, "own-client/big.bin", target);
      expect(md5Hex(await readFile(target))).toBe(md5Hex(big));
      expect(server.openUploads()).toEqual([]);
    } finally {
      await own.close();
      client.destroy();
    }
  });

  it("repeating a directory upload recognises a multipart object holding the same bytes and skips it", async () => {
    const dir = path.join(tmp.path, "tree");
    await mkdir(dir, { recursive: true });
    await writeFile(path.join(dir, "big.bin"), big);
    await writeFile(path.join(dir, "small.txt"), "small");
    await uploadFile(store, path.join(dir, "big.bin"), "resume/big.bin"); // "interrupted" after the big one
    const result = await uploadDirectory(store, dir, "resume");
    expect(result.skipped).toEqual(["resume/big.bin"]);
    expect(result.items).toEqual(["resume/small.txt"]);
  });

  it("a changed multipart object with the same size is a conflict, not a skip", async () => {
    const dir = path.join(tmp.path, "tree2");
    await mkdir(dir, { recursive: true });
    const changed = Buffer.from(big);
    changed[12 * MIB] = changed[12 * MIB]! ^ 0xff;
    await writeFile(path.join(dir, "big.bin"), changed);
    await uploadFile(store, path.join(tmp.path, "big.bin"), "conflict/big.bin");
    const err = await uploadDirectory(store, dir, "conflict").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).kind).toBe("already_exists");
    expect((err as StorageError).details?.conflicts).toEqual(["conflict/big.bin"]);
  });

  it("downloading a directory with a large object ranges it and skips it when repeated", async () => {
    const out = path.join(tmp.path, "dl");
    const first = await downloadDirectory(store, "large/", out);
    expect(first.transferred).toBe(1);
    expect(md5Hex(await readFile(path.join(out, "big.bin")))).toBe(md5Hex(big));
    const again = await downloadDirectory(store, "large/", out);
    expect(again.transferred).toBe(0);
    expect(again.skipped).toEqual([path.join(out, "big.bin")]);
  });

  it("cancelling a download leaves no file and no temporary file", async () => {
    const controller = new AbortController();
    const target = path.join(tmp.path, "cancel", "big.bin");
    const err = await downloadFile(store, "large/big.bin", target, {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.bytesDone > 2 * MIB) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).kind).toBe("cancelled");
    expect(await readdir(path.dirname(target))).toEqual([]);
  });

  it("cancelling a multipart upload aborts it: no object, no multipart upload left", async () => {
    const controller = new AbortController();
    const err = await uploadFile(store, path.join(tmp.path, "big.bin"), "cancelled/big.bin", {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.bytesDone > 0) controller.abort();
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).kind).toBe("cancelled");
    expect(await store.head("cancelled/big.bin")).toBeUndefined();
    expect(server.openUploads()).toEqual([]);
  });
});
