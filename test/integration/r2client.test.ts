/**
 * R2Client, the library API, over both backends: a LocalStore in a temp directory and S3Store
 * against a real local S3 server (fauxqs on 127.0.0.1). Every transfer is checked byte for byte
 * on disk and in the store.
 */
import { randomBytes } from "node:crypto";
import { lstat, mkdir, readdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import pMap from "p-map";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStore } from "../../src/core/local/store.js";
import { S3Store } from "../../src/core/s3/store.js";
import type { TransferProgress } from "../../src/core/transfer/index.js";
import { R2Client, type R2ClientOptions } from "../../src/library/r2-client.js";
import { rejectionOf } from "../helpers/assert.js";
import { MIB } from "../helpers/bytes.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { makeTempDir, partFiles, snapshotTree, type TempDir, writeTree } from "../helpers/tmp.js";

interface ClientBackend {
  /** A client on the shared backend; readOnly as asked. */
  makeClient(options?: { readOnly?: boolean }): R2Client;
  cleanup(): Promise<void>;
}

/** Key → etag of everything under a prefix: compares the bucket before and after a call. */
async function bucketState(client: R2Client, prefix: string): Promise<Record<string, string>> {
  const { objects } = await client.list(prefix);
  return Object.fromEntries(objects.map((o) => [o.key, `${o.size}:${o.etag}`]));
}

function lastProgress(events: TransferProgress[]): TransferProgress {
  expect(events.length).toBeGreaterThan(0);
  return events[events.length - 1]!;
}

function clientSuite(name: string, setup: () => Promise<ClientBackend>): void {
  describe(`R2Client over ${name}`, () => {
    let backend: ClientBackend;
    let client: R2Client;
    let tmp: TempDir;
    /** A fresh local directory per use, inside the suite's temp dir. */
    let dirCount = 0;
    const freshDir = async (label: string) => {
      const dir = path.join(tmp.path, `${label}-${++dirCount}`);
      await mkdir(dir, { recursive: true });
      return dir;
    };

    beforeAll(async () => {
      backend = await setup();
      client = backend.makeClient();
      tmp = await makeTempDir();
    });
    afterAll(async () => {
      await client?.close();
      await backend?.cleanup();
      await tmp?.cleanup();
    });

    describe("list, head, exists, getObjectBytes", () => {
      it("list follows pages to the end (> 1000 keys), recursively and by level", async () => {
        const keys = Array.from({ length: 1105 }, (_, i) => `many/k${String(i).padStart(5, "0")}.txt`);
        const nested = ["many/sub/a.txt", "many/sub/deeper/b.txt", "many/zz/c.txt"];
        await pMap([...keys, ...nested], (key) => client.uploadBytes(key, key), { concurrency: 32 });

        const all = await client.list("many/");
        const listed = all.objects.map((o) => o.key);
        expect(listed).toHaveLength(keys.length + nested.length);
        expect(new Set(listed)).toEqual(new Set([...keys, ...nested]));
        expect(all.prefixes).toEqual([]);
        const one = all.objects.find((o) => o.key === "many/k00042.txt")!;
        expect(one.size).toBe(Buffer.byteLength("many/k00042.txt"));
        expect(one.lastModified).toBeInstanceOf(Date);

        const level = await client.list("many/", { recursive: false });
        expect(level.objects.map((o) => o.key)).toEqual(keys);
        expect(level.prefixes).toEqual(["many/sub/", "many/zz/"]);
        // The default is recursive, and the default prefix is the whole bucket.
        expect((await client.list()).objects.length).toBeGreaterThanOrEqual(keys.length + nested.length);
      }, 180_000);

      it("exists and head: metadata for a key, false / null for a missing one", async () => {
        const put = await client.uploadBytes("hello, world", "meta/hello.txt");
        expect(await client.exists("meta/hello.txt")).toBe(true);
        expect(await client.exists("meta/nope.txt")).toBe(false);
        expect(await client.head("meta/nope.txt")).toBeNull();
        const head = await client.head("meta/hello.txt");
        expect(head).toMatchObject({ key: "meta/hello.txt", size: 12, etag: put.etag });
        expect(head!.contentType).toMatch(/^text\/plain/);
      });

      it("getObjectBytes reads whole objects and ranges, refuses bad ranges and missing keys", async () => {
        const data = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        await client.uploadBytes(data, "get/all.bin");
        expect((await client.getObjectBytes("get/all.bin")).equals(data)).toBe(true);
        expect((await client.getObjectBytes("get/all.bin", { range: { offset: 250 } })).equals(data.subarray(250))).toBe(true);
        expect((await client.getObjectBytes("get/all.bin", { range: { offset: 2, length: 3 } })).equals(data.subarray(2, 5))).toBe(true);
        expect((await client.getObjectBytes("get/all.bin", { range: { offset: 254, length: 10 } })).equals(data.subarray(254))).toBe(true);
        for (const range of [{ offset: 256 }, { offset: -1 }, { offset: 0, length: 0 }, { offset: 1.5 }]) {
          expect((await rejectionOf(client.getObjectBytes("get/all.bin", { range }))).kind).toBe("invalid_argument");
        }
        const missing = await rejectionOf(client.getObjectBytes("get/missing.bin"));
        expect(missing.code).toBe("ENOENT");
      });
    });

    describe("uploads", () => {
      it("uploadBytes creates, refuses an existing key with EEXIST, replaces with overwrite", async () => {
        const first = await client.uploadBytes("first", "up/bytes.txt");
        expect(first).toMatchObject({ key: "up/bytes.txt", size: 5, replaced: false });
        const err = await rejectionOf(client.uploadBytes("second", "up/bytes.txt"));
        expect(err.code).toBe("EEXIST");
        expect(err.kind).toBe("already_exists");
        expect((await client.getObjectBytes("up/bytes.txt")).toString()).toBe("first");
        const second = await client.uploadBytes(new TextEncoder().encode("second"), "up/bytes.txt", { overwrite: true });
        expect(second.replaced).toBe(true);
        expect((await client.getObjectBytes("up/bytes.txt")).toString()).toBe("second");
      });

      it("uploadFile streams a file, reports progress to the end, refuses an existing key", async () => {
        const dir = await freshDir("upfile");
        const file = path.join(dir, "payload.bin");
        const data = randomBytes(3 * MIB + 17);
        await writeFile(file, data);
        const events: TransferProgress[] = [];
        const result = await client.uploadFile(file, "up/payload.bin", { onProgress: (p) => events.push(p) });
        expect(result).toMatchObject({ key: "up/payload.bin", size: data.length, replaced: false });
        expect(lastProgress(events)).toEqual({ bytesDone: data.length, bytesTotal: data.length, filesDone: 1, filesTotal: 1 });
        expect(events.every((e) => e.bytesDone <= e.bytesTotal)).toBe(true);
        expect((await client.getObjectBytes("up/payload.bin")).equals(data)).toBe(true);

        const err = await rejectionOf(client.uploadFile(file, "up/payload.bin"));
        expect(err.code).toBe("EEXIST");
        expect((await rejectionOf(client.uploadFile(path.join(dir, "missing.bin"), "up/m.bin"))).code).toBe("ENOENT");
        expect((await rejectionOf(client.uploadFile(dir, "up/dir.bin"))).kind).toBe("invalid_argument");
        expect(await client.exists("up/m.bin")).toBe(false);
        expect(await client.exists("up/dir.bin")).toBe(false);
      });
    });

    describe("directory transfers", () => {
      it("uploadDirectory then downloadDirectory reproduces the tree byte for byte", async () => {
        const src = await freshDir("src");
        await writeTree(src, {
          "top.txt": "top level",
          "empty.bin": Buffer.alloc(0),
          "bin/all-bytes.bin": Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
          "data/run 1/metrics.csv": "step,loss\n1,0.5\n2,0.25\n",
          "data/run 1/ünïcødé 文件.json": '{"ok": true}',
          "data/deep/er/est/blob.bin": randomBytes(200 * 1024),
          "emoji 😀/a+b=c %20.txt": "odd name",
          // Over the default 8 MiB multipart threshold: goes multipart on S3.
          "big/large.bin": randomBytes(9 * MIB + 3),
        });
        const events: TransferProgress[] = [];
        const up = await client.uploadDirectory(src, "tree/run", { onProgress: (p) => events.push(p), maxWorkers: 4 });
        const expectedKeys = [
          "tree/run/big/large.bin",
          "tree/run/bin/all-bytes.bin",
          "tree/run/data/deep/er/est/blob.bin",
          "tree/run/data/run 1/metrics.csv",
          "tree/run/data/run 1/ünïcødé 文件.json",
          "tree/run/emoji 😀/a+b=c %20.txt",
          "tree/run/empty.bin",
          "tree/run/top.txt",
        ];
        expect(up.transferred).toBe(8);
        expect([...up.items].sort()).toEqual([...expectedKeys].sort());
        expect(up.skipped).toEqual([]);
        expect(up.conflicts).toEqual([]);
        expect(up.dryRun).toBe(false);
        const last = lastProgress(events);
        expect(last).toEqual({ bytesDone: up.bytes, bytesTotal: up.bytes, filesDone: 8, filesTotal: 8 });
        expect(events.every((e) => e.bytesDone <= e.bytesTotal)).toBe(true);
        expect((await client.list("tree/run/")).objects.map((o) => o.key).sort()).toEqual([...expectedKeys].sort());

        const dst = path.join(tmp.path, "downloaded", "fresh"); // does not exist yet: created
        const downEvents: TransferProgress[] = [];
        const down = await client.downloadDirectory("tree/run", dst, { onProgress: (p) => downEvents.push(p) });
        expect(down.transferred).toBe(8);
        expect(down.bytes).toBe(up.bytes);
        expect(lastProgress(downEvents)).toEqual({ bytesDone: up.bytes, bytesTotal: up.bytes, filesDone: 8, filesTotal: 8 });
        expect(await snapshotTree(dst)).toEqual(await snapshotTree(src));
        expect(await partFiles(dst)).toEqual([]);
      }, 60_000);

      it("uploadDirectory on a file is ENOTDIR", async () => {
        const dir = await freshDir("notdir");
        await writeFile(path.join(dir, "file.txt"), "x");
        const err = await rejectionOf(client.uploadDirectory(path.join(dir, "file.txt"), "notdir/"));
        expect(err.code).toBe("ENOTDIR");
        expect(err.kind).toBe("not_a_directory");
        expect((await client.list("notdir/")).objects).toEqual([]);
      });

      it("uploadDirectory with one conflicting key fails EEXIST, lists it, and writes nothing", async () => {
        const src = await freshDir("conflict");
        await writeTree(src, { "a.txt": "a", "b/c.txt": "c", "d.txt": "local d" });
        await client.uploadBytes("remote d, different", "conf/d.txt");
        const before = await bucketState(client, "conf/");
        const err = await rejectionOf(client.uploadDirectory(src, "conf"));
        expect(err.code).toBe("EEXIST");
        expect(err.details?.conflicts).toEqual(["conf/d.txt"]);
        expect(err.message).toContain("conf/d.txt");
        expect(err.message).toMatch(/nothing was written/);
        expect(await bucketState(client, "conf/")).toEqual(before);
        expect((await client.getObjectBytes("conf/d.txt")).toString()).toBe("remote d, different");
      });

      it("dryRun reports what would be written and the conflicts, and writes nothing", async () => {
        const src = await freshDir("dry");
        await writeTree(src, { "new1.txt": "12345", "sub/new2.txt": "abc", "same.txt": "same", "clash.txt": "mine" });
        await client.uploadBytes("same", "dry/same.txt");
        await client.uploadBytes("theirs", "dry/clash.txt");
        const before = await bucketState(client, "dry/");
        const plan = await client.uploadDirectory(src, "dry/", { dryRun: true });
        expect(plan).toMatchObject({
          dryRun: true,
          transferred: 0,
          bytes: 0,
          planned: 2,
          plannedBytes: 8,
          skipped: ["dry/same.txt"],
          conflicts: ["dry/clash.txt"],
        });
        expect(await bucketState(client, "dry/")).toEqual(before);

        const target = path.join(tmp.path, "dry-download-target");
        const downPlan = await client.downloadDirectory("dry/", target, { dryRun: true });
        expect(downPlan).toMatchObject({ dryRun: true, transferred: 0, planned: 2, conflicts: [] });
        await expect(stat(target)).rejects.toMatchObject({ code: "ENOENT" });
      });

      it("repeating an interrupted uploadDirectory skips identical objects and uploads the rest", async () => {
        const src = await freshDir("resume");
        const files: Record<string, Buffer> = {};
        for (let i = 0; i < 6; i++) files[`part-${i}.bin`] = randomBytes(1000 + i);
        await writeTree(src, files);
        await client.uploadDirectory(src, "resume");
        // Simulate an interruption: half the objects never arrived.
        for (const i of [1, 3, 5]) await client.deleteObject(`resume/part-${i}.bin`);
        const again = await client.uploadDirectory(src, "resume");
        expect(again.skipped.sort()).toEqual(["resume/part-0.bin", "resume/part-2.bin", "resume/part-4.bin"]);
        expect(again.items.sort()).toEqual(["resume/part-1.bin", "resume/part-3.bin", "resume/part-5.bin"]);
        expect(again.transferred).toBe(3);
        for (const [name, data] of Object.entries(files)) {
          expect((await client.getObjectBytes(`resume/${name}`)).equals(data)).toBe(true);
        }
        // And a third run has nothing left to do.
        const third = await client.uploadDirectory(src, "resume");
        expect(third.transferred).toBe(0);
        expect(third.skipped).toHaveLength(6);
      });

      it("downloadDirectory into a dir holding a different file fails EEXIST and leaves the tree unchanged", async () => {
        await client.uploadBytes("remote one", "dl/one.txt");
        await client.uploadBytes("remote two", "dl/sub/two.txt");
        await client.uploadBytes("remote three", "dl/three.txt");
        const dst = await freshDir("dl-conflict");
        await writeTree(dst, { "sub/two.txt": "my local two", "unrelated.txt": "keep" });
        const before = await snapshotTree(dst);
        const err = await rejectionOf(client.downloadDirectory("dl", dst));
        expect(err.code).toBe("EEXIST");
        expect(err.details?.conflicts).toEqual([path.join(dst, "sub", "two.txt")]);
        expect(await snapshotTree(dst)).toEqual(before);

        // With the identical bytes there instead, that file is skipped and the rest arrive.
        await writeFile(path.join(dst, "sub", "two.txt"), "remote two");
        const done = await client.downloadDirectory("dl", dst);
        expect(done.skipped).toEqual([path.join(dst, "sub", "two.txt")]);
        expect(done.transferred).toBe(2);
        expect(await readFile(path.join(dst, "one.txt"), "utf8")).toBe("remote one");
        expect(await readFile(path.join(dst, "three.txt"), "utf8")).toBe("remote three");
        expect(await readFile(path.join(dst, "unrelated.txt"), "utf8")).toBe("keep");
      });
    });

    describe("downloadFile", () => {
      it("downloads, never leaving a partial file after success or failure", async () => {
        const data = randomBytes(2 * MIB + 5);
        await client.uploadBytes(data, "df/blob.bin");
        const dir = await freshDir("df");
        const target = path.join(dir, "blob.bin");
        const events: TransferProgress[] = [];
        const out = await client.downloadFile("df/blob.bin", target, { onProgress: (p) => events.push(p) });
        expect(out).toMatchObject({ localPath: target, size: data.length });
        expect(lastProgress(events)).toEqual({ bytesDone: data.length, bytesTotal: data.length, filesDone: 1, filesTotal: 1 });
        expect(events.every((e) => e.bytesDone <= e.bytesTotal)).toBe(true);
        expect((await readFile(target)).equals(data)).toBe(true);
        expect(await partFiles(dir)).toEqual([]);

        // A missing key: nothing at the target, no temp file.
        const missing = await rejectionOf(client.downloadFile("df/missing.bin", path.join(dir, "missing.bin")));
        expect(missing.code).toBe("ENOENT");
        expect(await readdir(dir)).toEqual(["blob.bin"]);

        // Cancelled half way through the body: nothing at the target, no temp file.
        const controller = new AbortController();
        const aborted = await rejectionOf(
          client.downloadFile("df/blob.bin", path.join(dir, "aborted.bin"), {
            signal: controller.signal,
            onProgress: (p) => {
              if (p.bytesDone > 0) controller.abort();
            },
          }),
        );
        expect(aborted.kind).toBe("cancelled");
        expect(await readdir(dir)).toEqual(["blob.bin"]);

        // An already aborted signal: the same.
        const pre = await rejectionOf(client.downloadFile("df/blob.bin", path.join(dir, "pre.bin"), { signal: AbortSignal.abort() }));
        expect(pre.kind).toBe("cancelled");
        expect(await readdir(dir)).toEqual(["blob.bin"]);
      });

      it("refuses an existing local file with EEXIST; overwrite: true replaces it", async () => {
        await client.uploadBytes("from the bucket", "df/over.txt");
        const dir = await freshDir("df-over");
        const target = path.join(dir, "over.txt");
        await writeFile(target, "local precious");
        const err = await rejectionOf(client.downloadFile("df/over.txt", target));
        expect(err.code).toBe("EEXIST");
        expect(await readFile(target, "utf8")).toBe("local precious");
        expect(await readdir(dir)).toEqual(["over.txt"]);
        await client.downloadFile("df/over.txt", target, { overwrite: true });
        expect(await readFile(target, "utf8")).toBe("from the bucket");
        expect(await readdir(dir)).toEqual(["over.txt"]);
      });

      it("never writes through a symlink at the target: refused, or with overwrite the link itself is replaced", async () => {
        await client.uploadBytes("from the bucket", "df/link.txt");
        const dir = await freshDir("df-link");
        const elsewhere = await freshDir("df-elsewhere");
        const precious = path.join(elsewhere, "precious.txt");
        await writeFile(precious, "precious, outside");
        const link = path.join(dir, "link.txt");
        await symlink(precious, link);

        const err = await rejectionOf(client.downloadFile("df/link.txt", link));
        expect(err.code).toBe("EEXIST");
        expect(await readFile(precious, "utf8")).toBe("precious, outside");

        const out = await client.downloadFile("df/link.txt", link, { overwrite: true });
        expect(out.localPath).toBe(link);
        expect(await readFile(precious, "utf8")).toBe("precious, outside");
        expect((await lstat(link)).isFile()).toBe(true);
        expect(await readFile(link, "utf8")).toBe("from the bucket");
      });
    });

    describe("deleteObject and read-only", () => {
      it("deleteObject: missingOk defaults to true; missingOk false on a missing key is ENOENT", async () => {
        await client.uploadBytes("x", "del/x.txt");
        expect(await client.deleteObject("del/x.txt")).toEqual({ key: "del/x.txt", existed: true });
        expect(await client.exists("del/x.txt")).toBe(false);
        expect(await client.deleteObject("del/x.txt")).toEqual({ key: "del/x.txt", existed: false });
        const err = await rejectionOf(client.deleteObject("del/x.txt", { missingOk: false }));
        expect(err.code).toBe("ENOENT");
        expect(err.kind).toBe("not_found");
      });

      it("a readOnly client refuses every write with access_denied and still reads", async () => {
        await client.uploadBytes("readable", "ro/existing.txt");
        const ro = backend.makeClient({ readOnly: true });
        const dir = await freshDir("ro");
        await writeTree(dir, { "f.txt": "data" });
        const before = await bucketState(client, "ro/");
        const attempts = [
          ro.uploadBytes("nope", "ro/new.txt"),
          ro.uploadBytes("nope", "ro/existing.txt", { overwrite: true }),
          ro.uploadFile(path.join(dir, "f.txt"), "ro/f.txt"),
          ro.uploadDirectory(dir, "ro/dir"),
          ro.deleteObject("ro/existing.txt"),
        ];
        for (const attempt of attempts) {
          const err = await rejectionOf(attempt);
          expect(err.kind).toBe("access_denied");
          expect(err.message).toMatch(/read-only/);
        }
        expect(await bucketState(client, "ro/")).toEqual(before);
        expect((await ro.getObjectBytes("ro/existing.txt")).toString()).toBe("readable");
        const target = path.join(dir, "got.txt");
        await ro.downloadFile("ro/existing.txt", target);
        expect(await readFile(target, "utf8")).toBe("readable");
      });
    });
  });
}

clientSuite("a LocalStore", async () => {
  const dir = await makeTempDir();
  const store = await LocalStore.open(path.join(dir.path, "store"));
  return {
    makeClient: ({ readOnly = false } = {}) => new R2Client({ store, readOnly }),
    async cleanup() {
      await store.close();
      await dir.cleanup();
    },
  };
});

clientSuite("S3 (fauxqs)", async () => {
  const server = await startS3Server();
  return {
    makeClient: ({ readOnly = false } = {}) =>
      new R2Client({
        bucketName: server.bucket,
        endpointUrl: server.endpoint,
        accessKeyId: server.credentials.accessKeyId,
        secretAccessKey: server.credentials.secretAccessKey,
        readOnly,
        env: {},
      }),
    async cleanup() {
      await server.close();
    },
  };
});

describe("R2Client construction", () => {
  let server: S3TestServer;
  beforeAll(async () => {
    server = await startS3Server();
  });
  afterAll(async () => {
    await server?.close();
  });

  async function credentialsOf(client: R2Client) {
    expect(client.store.inner).toBeInstanceOf(S3Store);
    return (client.store.inner as S3Store).client.config.credentials();
  }

  it("takes credentials from R2_* in env when omitted, falling back to AWS_*", async () => {
    const { accessKeyId, secretAccessKey } = server.credentials;
    const base: R2ClientOptions = { bucketName: server.bucket, endpointUrl: server.endpoint };
    const r2 = new R2Client({
      ...base,
      env: {
        R2_ACCESS_KEY_ID: accessKeyId,
        R2_SECRET_ACCESS_KEY: secretAccessKey,
        AWS_ACCESS_KEY_ID: "aws-id-not-used",
        AWS_SECRET_ACCESS_KEY: "aws-secret-not-used",
      },
    });
    expect(await credentialsOf(r2)).toMatchObject({ accessKeyId, secretAccessKey });
    await r2.uploadBytes("via env", "ctor/env.txt");
    expect((await r2.getObjectBytes("ctor/env.txt")).toString()).toBe("via env");
    await r2.close();

    const aws = new R2Client({ ...base, env: { AWS_ACCESS_KEY_ID: "aws-id", AWS_SECRET_ACCESS_KEY: "aws-secret" } });
    expect(await credentialsOf(aws)).toMatchObject({ accessKeyId: "aws-id", secretAccessKey: "aws-secret" });
    await aws.close();

    // Explicit options beat the environment.
    const explicit = new R2Client({
      ...base,
      accessKeyId: "explicit-id",
      secretAccessKey: "explicit-secret",
      env: { R2_ACCESS_KEY_ID: "env-id", R2_SECRET_ACCESS_KEY: "env-secret" },
    });
    expect(await credentialsOf(explicit)).toMatchObject({ accessKeyId: "explicit-id", secretAccessKey: "explicit-secret" });
    await explicit.close();
  });

  it("a missing credential is a clear error naming where to set it, without the secret", async () => {
    const secret = "sekrit-value-that-must-not-leak";
    const base: R2ClientOptions = { bucketName: server.bucket, endpointUrl: server.endpoint };
    const noKey = await rejectionOf(() => new R2Client({ ...base, env: { R2_SECRET_ACCESS_KEY: secret } }));
    expect(noKey.message).toMatch(/accessKeyId/);
    expect(noKey.message).toMatch(/R2_ACCESS_KEY_ID/);
    expect(noKey.message).not.toContain(secret);
    const noKeyExplicit = await rejectionOf(() => new R2Client({ ...base, secretAccessKey: secret, env: {} }));
    expect(noKeyExplicit.message).not.toContain(secret);
    expect(JSON.stringify(noKeyExplicit)).not.toContain(secret);

    const noSecret = await rejectionOf(() => new R2Client({ ...base, env: { R2_ACCESS_KEY_ID: "some-id" } }));
    expect(noSecret.message).toMatch(/secretAccessKey/);
    expect(noSecret.message).toMatch(/R2_SECRET_ACCESS_KEY/);

    const nothing = await rejectionOf(() => new R2Client({ ...base, env: {} }));
    expect(nothing.message).toMatch(/credentials/);

    const noBucket = await rejectionOf(() => new R2Client({ endpointUrl: server.endpoint, env: {} }));
    expect(noBucket.kind).toBe("invalid_argument");
    expect(noBucket.message).toMatch(/bucketName/);
  });

  it("region 'auto' takes R2_REGION_NAME / AWS_REGION from env; an explicit region wins", async () => {
    const base: R2ClientOptions = {
      bucketName: server.bucket,
      endpointUrl: server.endpoint,
      accessKeyId: "id",
      secretAccessKey: "secret",
    };
    const regionOf = (c: R2Client) => (c.store.inner as S3Store).client.config.region();
    expect(await regionOf(new R2Client({ ...base, env: {} }))).toBe("auto");
    expect(await regionOf(new R2Client({ ...base, env: { AWS_REGION: "eu-west-1", R2_REGION_NAME: "weur" } }))).toBe("weur");
    expect(await regionOf(new R2Client({ ...base, regionName: "us-east-2", env: { R2_REGION_NAME: "weur" } }))).toBe("us-east-2");
  });
});

describe("R2Client over S3: keys read from the bucket are untrusted", () => {
  let server: S3TestServer;
  let client: R2Client;
  let tmp: TempDir;
  beforeAll(async () => {
    server = await startS3Server();
    client = new R2Client({
      bucketName: server.bucket,
      endpointUrl: server.endpoint,
      accessKeyId: server.credentials.accessKeyId,
      secretAccessKey: server.credentials.secretAccessKey,
      env: {},
    });
    tmp = await makeTempDir();
  });
  afterAll(async () => {
    await client?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  it("downloadDirectory refuses keys that would land outside local_dir, and writes nothing", async () => {
    // Any key is valid on S3: these are written by some other tool, not by r2-mcp's upload paths.
    const hostile = ["evil/../../escape.txt", "evil//double.txt", "evil/a\\b.txt", "evil/C:x.txt", "evil/dir/../../up.txt"];
    for (const key of ["evil/ok.txt", ...hostile]) await client.uploadBytes(`body of ${key}`, key);
    expect((await client.list("evil/")).objects).toHaveLength(hostile.length + 1);

    const parent = path.join(tmp.path, "outside-check");
    await mkdir(parent);
    const before = await snapshotTree(tmp.path);
    const err = await rejectionOf(client.downloadDirectory("evil", path.join(parent, "target")));
    expect(err.kind).toBe("invalid_argument");
    const unsafe = err.details?.unsafe as string[];
    expect(unsafe).toHaveLength(hostile.length);
    for (const key of hostile) expect(unsafe.some((entry) => entry.startsWith(`${key} (`))).toBe(true);
    expect(await snapshotTree(tmp.path)).toEqual(before);
  });

  it("downloadDirectory refuses a key that is also the folder of another key, writing nothing", async () => {
    await client.uploadBytes("file", "shape/a");
    await client.uploadBytes("child", "shape/a/b");
    const target = path.join(tmp.path, "shape-target");
    const err = await rejectionOf(client.downloadDirectory("shape/", target));
    expect(err.kind).toBe("invalid_argument");
    expect(err.details?.unsafe).toEqual([expect.stringContaining("shape/a/b")]);
    await expect(stat(target)).rejects.toMatchObject({ code: "ENOENT" });
  });
});
