/**
 * R2Client.compareDirectory, and include / exclude on uploadDirectory and downloadDirectory, over
 * both backends; and the multipart ETag check with the part size the server reports.
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStore } from "../../src/core/local/store.js";
import { S3Store } from "../../src/core/s3/store.js";
import { R2Client } from "../../src/library/r2-client.js";
import { rejectionOf } from "../helpers/assert.js";
import { MIB } from "../helpers/bytes.js";
import { type PartNumberProxy, startPartNumberProxy } from "../helpers/part-number-proxy.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { filesUnder, makeTempDir, snapshotTree, type TempDir, writeTree } from "../helpers/tmp.js";

const TREE = {
  "train.py": "print('train')\n",
  "data/metrics.csv": "epoch,loss\n1,0.5\n",
  ".git/HEAD": "ref: refs/heads/main\n",
  "pkg/__pycache__/m.pyc": "bytecode",
  "scratch.tmp": "temporary",
};
const SKIP = [".git/", "__pycache__/", "*.tmp"];

const backends: [string, (tmp: string) => Promise<{ client: R2Client; close(): Promise<void> }>][] = [
  [
    "a LocalStore",
    async (tmp) => {
      const store = await LocalStore.open(path.join(tmp, "store"));
      return { client: new R2Client({ store }), close: () => store.close() };
    },
  ],
  [
    "S3 (fauxqs)",
    async () => {
      const server = await startS3Server();
      const client = new R2Client({
        bucketName: server.bucket,
        endpointUrl: server.endpoint,
        accessKeyId: server.credentials.accessKeyId,
        secretAccessKey: server.credentials.secretAccessKey,
        env: {},
      });
      return {
        client,
        async close() {
          await client.close();
          await server.close();
        },
      };
    },
  ],
];

describe.each(backends)("R2Client.compareDirectory over %s", (_name, open) => {
  let tmp: TempDir;
  let backend: { client: R2Client; close(): Promise<void> };
  let dir: string;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-compare-");
    backend = await open(tmp.path);
    dir = path.join(tmp.path, "project");
    await writeTree(dir, TREE);
  });
  afterAll(async () => {
    await backend?.close();
    await tmp?.cleanup();
  });

  it("uploadDirectory with exclude leaves .git, __pycache__ and *.tmp out; compareDirectory sees the rest identical", async () => {
    const { client } = backend;
    const up = await client.uploadDirectory(dir, "p1", { exclude: SKIP });
    expect([...up.items].sort()).toEqual(["p1/data/metrics.csv", "p1/train.py"]);
    expect(await client.compareDirectory(dir, "p1", { exclude: SKIP })).toEqual({
      identical: ["data/metrics.csv", "train.py"],
      different: [],
      onlyLocal: [],
      onlyRemote: [],
      bytesLocal: 32,
      bytesRemote: 32,
    });
    const all = await client.compareDirectory(dir, "p1/");
    expect(all.onlyLocal).toEqual([".git/HEAD", "pkg/__pycache__/m.pyc", "scratch.tmp"]);
  });

  it("names what differs and why, and what is on one side only", async () => {
    const { client } = backend;
    await client.uploadBytes("print('other')\n", "p2/train.py");
    await client.uploadBytes("epoch,loss\n1,0.6\n", "p2/data/metrics.csv");
    await client.uploadBytes("x", "p2/remote-only.txt");
    const c = await client.compareDirectory(dir, "p2", { include: ["*.py", "*.csv", "*.txt"] });
    expect(c).toEqual({
      identical: [],
      different: [
        { path: "data/metrics.csv", reason: "content_differs", detail: "same size, different MD5" },
        { path: "train.py", reason: "content_differs", detail: "same size, different MD5" },
      ],
      onlyLocal: [],
      onlyRemote: ["remote-only.txt"],
      bytesLocal: 32,
      bytesRemote: 33,
    });
  });

  it("downloadDirectory with include writes only what it keeps", async () => {
    const target = path.join(tmp.path, "csv-only");
    const got = await backend.client.downloadDirectory("p1", target, { include: ["data/"] });
    expect(got.transferred).toBe(1);
    expect(await filesUnder(target)).toEqual(["data/metrics.csv"]);
  });

  it("refuses a bad glob before reading anything, and a prefix outside allowPrefixes", async () => {
    const err = await rejectionOf(backend.client.compareDirectory(dir, "p1", { exclude: ["{a"] }));
    expect(err).toMatchObject({ kind: "invalid_argument" });
    const confined = new R2Client({ store: backend.client.store.inner, allowPrefixes: ["p1/"] });
    expect(await rejectionOf(confined.compareDirectory(dir, "p2"))).toMatchObject({ kind: "outside_allowed_prefix" });
    expect((await confined.compareDirectory(dir, "p1", { exclude: SKIP })).identical).toHaveLength(2);
  });
});

describe("compareDirectory with the part size the server reports (HEAD ?partNumber=1)", () => {
  let tmp: TempDir;
  let s3: S3TestServer;
  let proxy: PartNumberProxy;
  const PART = 6 * MIB; // not one of the usual part sizes, so guessing cannot find it
  const storeOn = (endpoint: string) =>
    new S3Store({ bucket: s3.bucket, endpoint, region: s3.region, credentials: s3.credentials, multipartThreshold: PART });

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-parts-");
    s3 = await startS3Server();
    proxy = await startPartNumberProxy(s3.endpoint);
  });
  afterAll(async () => {
    await proxy?.close();
    await s3?.close();
    await tmp?.cleanup();
  });

  it("finds a 6 MiB-part upload identical, then content_differs after one byte changes; without the part size it cannot tell", async () => {
    const dir = path.join(tmp.path, "big");
    const data = randomBytes(2 * PART + MIB);
    await writeTree(dir, { "weights.bin": data });
    const viaProxy = new R2Client({ store: storeOn(proxy.endpoint) });
    const direct = new R2Client({ store: storeOn(s3.endpoint) });
    try {
      const put = await viaProxy.uploadFile(path.join(dir, "weights.bin"), "models/weights.bin");
      expect(put.etag).toMatch(/-3$/);

      expect((await viaProxy.compareDirectory(dir, "models")).identical).toEqual(["weights.bin"]);
      expect(proxy.stats.partHeads).toBe(1);
      // fauxqs alone does not report the part size: 5 MiB (the only usual size giving 3 parts) is tried.
      expect((await direct.compareDirectory(dir, "models")).different).toEqual([
        {
          path: "weights.bin",
          reason: "etag_unverifiable",
          detail:
            "multipart ETag of 3 parts whose size the server does not report; none of the usual part sizes (5 MiB) reproduces it: the content differs or it was uploaded with another part size",
        },
      ]);

      data[PART + 17] = (data[PART + 17] as number) ^ 0x01;
      await writeFile(path.join(dir, "weights.bin"), data);
      const before = await snapshotTree(dir);
      expect((await viaProxy.compareDirectory(dir, "models")).different).toEqual([
        {
          path: "weights.bin",
          reason: "content_differs",
          detail: "same size, different multipart ETag (recomputed with the object's 3 parts of 6 MiB)",
        },
      ]);
      expect(await snapshotTree(dir)).toEqual(before);
    } finally {
      await viaProxy.close();
      await direct.close();
    }
  });
});
