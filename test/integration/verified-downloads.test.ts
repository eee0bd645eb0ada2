/**
 * Every download is checked against the object's ETag, against the real local server (fauxqs on
 * 127.0.0.1): single-part objects by their MD5, multipart ones by the MD5 of their parts' MD5s,
 * the ranges of a large download following the part size. Bytes that do not match fail the file
 * and leave nothing at the target; a multipart object whose part size nobody can tell is written
 * and reported as unverified.
 *
 * Corruption is made by flipping a byte of an object inside the server's own storage after it was
 * written (the server then sends bytes that no longer match its ETag: bit rot, or a bad hop).
 * fauxqs does not answer HEAD ?partNumber=1; where a test needs a server that does, it goes
 * through the parts stand-in (test/helpers/part-number-proxy.ts), and says so.
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Upload } from "@aws-sdk/lib-storage";
import { buildApp } from "fauxqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Store as FauxqsStorage } from "../../node_modules/fauxqs/dist/s3/s3Store.js";
import { StorageError } from "../../src/core/errors.js";
import { S3Store } from "../../src/core/s3/store.js";
import { downloadDirectory, downloadFile, uploadFile } from "../../src/core/transfer/index.js";
import { MIB, md5Hex } from "../helpers/bytes.js";
import { type PartNumberProxy, startPartNumberProxy } from "../helpers/part-number-proxy.js";
import { makeS3Client, TEST_ACCESS_KEY_ID, TEST_REGION, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

const BUCKET = "r2mcp-verify";

describe("verified downloads over S3", () => {
  const storage = new FauxqsStorage();
  let app: ReturnType<typeof buildApp>;
  let endpoint: string;
  let parts: PartNumberProxy;
  let tmp: TempDir;
  const stores: S3Store[] = [];

  const storeAt = (at: string) => {
    const store = new S3Store({
      bucket: BUCKET,
      endpoint: at,
      region: TEST_REGION,
      credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY },
    });
    stores.push(store);
    return store;
  };
  /** Flips one byte of a stored object in the server's memory; its ETag stays as it was. */
  const rot = (key: string, offset: number) => {
    const objects = (storage as unknown as { buckets: Map<string, Map<string, { body: Buffer }>> }).buckets.get(BUCKET);
    const object = objects?.get(key);
    if (!object) throw new Error(`no stored object ${key}`);
    object.body[offset] = (object.body[offset] ?? 0) ^ 0xff;
  };
  const leftovers = async (dir: string) => (await readdir(dir)).filter((n) => n.endsWith(".r2-mcp-part"));

  beforeAll(async () => {
    storage.createBucket(BUCKET);
    app = buildApp({ logger: false, defaultRegion: TEST_REGION, stores: { s3Store: storage } as never });
    await app.listen({ host: "127.0.0.1", port: 0 });
    endpoint = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    parts = await startPartNumberProxy(endpoint);
    tmp = await makeTempDir();
  });

  afterAll(async () => {
    for (const s of stores) await s.close();
    await parts?.close();
    await app?.close();
    await tmp?.cleanup();
  });

  it("a single-part object whose bytes do not match its MD5 fails, and nothing is left at the target", async () => {
    const store = storeAt(endpoint);
    const data = randomBytes(300 * 1024);
    await store.put("rot/small.bin", { kind: "bytes", data }, { mode: "create" });
    rot("rot/small.bin", 1234);
    const dir = path.join(tmp.path, "single");
    const target = path.join(dir, "small.bin");
    const err = await downloadFile(store, "rot/small.bin", target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).kind).toBe("unavailable");
    expect((err as StorageError).message).toMatch(/corrupted/);
    await expect(readFile(target)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await leftovers(dir).catch(() => [])).toEqual([]);
  });

  it("a directory download fails on the rotten file: it is not written, and no temporary file is left", async () => {
    const store = storeAt(endpoint);
    await store.put("tree/good.txt", { kind: "bytes", data: randomBytes(5000) }, { mode: "create" });
    await store.put("tree/bad.txt", { kind: "bytes", data: randomBytes(5000) }, { mode: "create" });
    rot("tree/bad.txt", 0);
    const dir = path.join(tmp.path, "tree");
    const err = await downloadDirectory(store, "tree", dir, { maxWorkers: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).details?.failed).toEqual([path.join(dir, "bad.txt")]);
    // Listed in key order and one at a time: bad.txt fails first and good.txt never starts.
    expect((err as StorageError).details?.notStarted).toEqual([path.join(dir, "good.txt")]);
    expect(await readdir(dir)).toEqual([]);
  });

  it("a multipart object fetched in ranges is verified by the MD5 of its parts' MD5s", async () => {
    const store = storeAt(endpoint);
    const data = randomBytes(17 * MIB + 99); // 3 parts of 8 MiB (r2-mcp's own), above the 16 MiB range threshold
    const source = path.join(tmp.path, "multi.bin");
    await writeFile(source, data);
    const put = await uploadFile(store, source, "multi/ok.bin");
    expect(put.etag).toMatch(/-3$/);
    const target = path.join(tmp.path, "multi-ok.bin");
    const got = await downloadFile(store, "multi/ok.bin", target);
    expect(got).not.toHaveProperty("unverified");
    expect(md5Hex(await readFile(target))).toBe(md5Hex(data));
  });

  it("a server that tells the part size (the parts stand-in): ranges follow it, and a rotten part fails the file", async () => {
    const store = storeAt(parts.endpoint);
    const data = randomBytes(18 * MIB + 7);
    // 6 MiB parts: not a size anyone would guess for 4 parts of 18 MiB.
    const upload = new Upload({
      client: makeS3Client(parts.endpoint),
      partSize: 6 * MIB,
      params: { Bucket: BUCKET, Key: "told/six.bin", Body: data },
    });
    const out = await upload.done();
    expect(out.ETag).toMatch(/-4"?$/);
    const before = parts.stats.partHeads;
    const ok = path.join(tmp.path, "six.bin");
    const got = await downloadFile(store, "told/six.bin", ok);
    expect(parts.stats.partHeads).toBeGreaterThan(before);
    expect(got).not.toHaveProperty("unverified");
    expect(md5Hex(await readFile(ok))).toBe(md5Hex(data));

    rot("told/six.bin", 13 * MIB);
    const dir = path.join(tmp.path, "told");
    const target = path.join(dir, "six.bin");
    const err = await downloadFile(store, "told/six.bin", target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).message).toMatch(/corrupted/);
    await expect(readFile(target)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await leftovers(dir).catch(() => [])).toEqual([]);
  });

  it("ranges of several parts each (a large object): every part is checked on its own, and a rotten one inside a range fails the file", async () => {
    const store = storeAt(parts.endpoint);
    // 14 parts of 5 MiB, the last one short: two ranges of 7 parts each, hashed part by part;
    // above 64 MiB, so its pages also go to disk while it downloads (datasync every 64 MiB).
    const data = randomBytes(65 * MIB + 4321);
    const upload = new Upload({
      client: makeS3Client(parts.endpoint),
      partSize: 5 * MIB,
      params: { Bucket: BUCKET, Key: "told/five-many.bin", Body: data },
    });
    const out = await upload.done();
    expect(out.ETag).toMatch(/-14"?$/);
    const ok = path.join(tmp.path, "five-many.bin");
    let last = 0;
    const got = await downloadFile(store, "told/five-many.bin", ok, {
      onProgress: (p) => {
        last = p.bytesDone;
      },
    });
    expect(got).not.toHaveProperty("unverified");
    expect(last).toBe(data.length);
    expect(md5Hex(await readFile(ok))).toBe(md5Hex(data));

    // The fifth part, inside the first range: the range arrives whole, that part does not match.
    rot("told/five-many.bin", 20 * MIB + 17);
    const dir = path.join(tmp.path, "told-many");
    const target = path.join(dir, "five-many.bin");
    const err = await downloadFile(store, "told/five-many.bin", target).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).message).toMatch(/corrupted/);
    await expect(readFile(target)).rejects.toMatchObject({ code: "ENOENT" });
    expect(await leftovers(dir).catch(() => [])).toEqual([]);
  });

  it("a server that does not tell the part size: an unguessable multipart object is written and reported unverified", async () => {
    const store = storeAt(endpoint);
    const data = randomBytes(18 * MIB + 7);
    const upload = new Upload({
      client: makeS3Client(endpoint),
      partSize: 6 * MIB,
      params: { Bucket: BUCKET, Key: "untold/six.bin", Body: data },
    });
    await upload.done();
    const target = path.join(tmp.path, "untold-six.bin");
    const got = (await downloadFile(store, "untold/six.bin", target)) as { unverified?: string };
    expect(got.unverified).toMatch(/part size/);
    expect(md5Hex(await readFile(target))).toBe(md5Hex(data));
  });

  it("a small multipart object in one GET is verified by its likeliest part size (5 MiB parts)", async () => {
    const store = storeAt(endpoint);
    const data = randomBytes(11 * MIB + 5);
    const upload = new Upload({
      client: makeS3Client(endpoint),
      partSize: 5 * MIB,
      params: { Bucket: BUCKET, Key: "small-multi/five.bin", Body: data },
    });
    const out = await upload.done();
    expect(out.ETag).toMatch(/-3"?$/);
    const target = path.join(tmp.path, "five.bin");
    const got = await downloadFile(store, "small-multi/five.bin", target);
    expect(got).not.toHaveProperty("unverified");
    expect(md5Hex(await readFile(target))).toBe(md5Hex(data));
  });
});
