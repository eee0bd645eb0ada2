/**
 * R2Client.deleteObjects and the filters of R2Client.list, over both backends (a LocalStore in a
 * temp directory, S3Store against fauxqs on 127.0.0.1).
 */
import path from "node:path";
import pMap from "p-map";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStore } from "../../src/core/local/store.js";
import type { ObjectStore } from "../../src/core/store.js";
import type { TransferProgress } from "../../src/core/transfer/index.js";
import { R2Client } from "../../src/library/r2-client.js";
import { rejectionOf } from "../helpers/assert.js";
import { startS3Server } from "../helpers/s3-server.js";
import { makeTempDir } from "../helpers/tmp.js";

interface Backend {
  client(options?: { readOnly?: boolean; allowPrefixes?: string[]; store?: ObjectStore }): R2Client;
  cleanup(): Promise<void>;
}

/**
 * The store, except that its first deleteMany writes `key` just before deleting: an object that
 * lands under the prefix after the listing, made deterministic.
 */
function writesBeforeFirstDelete(store: ObjectStore, key: string): ObjectStore {
  let written = false;
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "deleteMany") {
        return async (keys: readonly string[], options?: { signal?: AbortSignal }) => {
          if (!written) {
            written = true;
            await target.put(key, { kind: "bytes", data: Buffer.from("written after the listing") }, { mode: "create" });
          }
          return target.deleteMany(keys, options);
        };
      }
      const value = Reflect.get(target, prop, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

function suite(name: string, setup: () => Promise<Backend>): void {
  describe(`R2Client.deleteObjects and filtered list over ${name}`, () => {
    let backend: Backend;
    let client: R2Client;
    beforeAll(async () => {
      backend = await setup();
      client = backend.client();
    });
    afterAll(async () => {
      await backend?.cleanup();
    });
    const seed = (keys: Record<string, string>) =>
      pMap(Object.entries(keys), ([k, v]) => client.uploadBytes(v, k, { overwrite: true }), { concurrency: 8 });
    const keysUnder = async (prefix: string) => (await client.list(prefix)).objects.map((o) => o.key);

    it("list filters by glob, size and time, recursively and by level", async () => {
      await seed({ "lf/a/model.ckpt": "1234567890", "lf/a/log.txt": "log", "lf/b.ckpt": "12345", "lf/b/deep/x.ckpt": "x" });
      expect((await client.list("lf/", { glob: "lf/**/*.ckpt" })).objects.map((o) => o.key)).toEqual([
        "lf/a/model.ckpt",
        "lf/b.ckpt",
        "lf/b/deep/x.ckpt",
      ]);
      expect((await client.list("lf/", { minSize: 5, maxSize: 9 })).objects.map((o) => o.key)).toEqual(["lf/b.ckpt"]);
      expect(await client.list("lf/", { recursive: false, glob: "**/*.ckpt" })).toEqual({
        objects: [expect.objectContaining({ key: "lf/b.ckpt", size: 5 })],
        prefixes: [],
      });
      expect((await client.list("lf/", { modifiedAfter: "2999-01-01" })).objects).toEqual([]);
      expect((await client.list("lf/", { modifiedBefore: new Date(Date.now() + 86_400_000) })).objects).toHaveLength(4);
      const err = await rejectionOf(client.list("lf/", { modifiedAfter: "soon" }));
      expect(err).toMatchObject({ kind: "invalid_argument", code: "EINVAL" });
      expect(err.message).toMatch(/^modifiedAfter "soon"/);
      expect((await rejectionOf(client.list("lf/", { minSize: 3, maxSize: 2 }))).message).toMatch(/minSize \(3\) is larger than maxSize/);
    });

    it("list with a glob pages through more than 1000 keys to the end", async () => {
      const keys = Array.from({ length: 1010 }, (_, i) => `lp/${String(i).padStart(4, "0")}.${i % 2 ? "odd" : "even"}`);
      await pMap(keys, (k) => client.uploadBytes("x", k), { concurrency: 32 });
      const odd = await client.list("lp/", { glob: "lp/*.odd" });
      expect(odd.objects.map((o) => o.key)).toEqual(keys.filter((k) => k.endsWith(".odd")));
    }, 120_000);

    it("deletes a folder (exp4 never reaches exp42/), with progress to the end", async () => {
      await seed({ "d/exp4/a": "aa", "d/exp4/b/c": "ccc", "d/exp42/keep": "k", "d/exp4.txt": "k" });
      const events: TransferProgress[] = [];
      const result = await client.deleteObjects({ prefix: "d/exp4" }, { onProgress: (p) => events.push(p) });
      expect(result).toEqual({
        deleted: 2,
        bytes: 5,
        keys: ["d/exp4/a", "d/exp4/b/c"],
        failed: [],
        missing: [],
        dryRun: false,
        prefix: "d/exp4/",
      });
      expect(events.at(-1)).toEqual({ bytesDone: 5, bytesTotal: 5, filesDone: 2, filesTotal: 2 });
      expect(await keysUnder("d/")).toEqual(["d/exp4.txt", "d/exp42/keep"]);
    });

    it("deletes exact keys, reports the missing ones; dryRun deletes nothing", async () => {
      await seed({ "k/1": "1", "k/2": "22", "k/3": "333" });
      const dry = await client.deleteObjects({ keys: ["k/1", "k/3", "k/none"] }, { dryRun: true });
      expect(dry).toMatchObject({ deleted: 2, bytes: 4, keys: ["k/1", "k/3"], missing: ["k/none"], dryRun: true });
      expect(await keysUnder("k/")).toEqual(["k/1", "k/2", "k/3"]);
      const done = await client.deleteObjects({ keys: ["k/1", "k/3", "k/none"] });
      expect(done).toMatchObject({ deleted: 2, bytes: 4, missing: ["k/none"], dryRun: false });
      expect(await keysUnder("k/")).toEqual(["k/2"]);
    });

    it("more than maxObjects is too_large (EFBIG) naming the count, and nothing is deleted", async () => {
      await seed({ "m/1": "1", "m/2": "2", "m/3": "3" });
      const err = await rejectionOf(client.deleteObjects({ prefix: "m" }, { maxObjects: 2 }));
      expect(err).toMatchObject({ kind: "too_large", code: "EFBIG" });
      expect(err.message).toContain('"m/" holds 3 objects');
      expect(err.message).toContain("maxObjects: 3");
      expect(await keysUnder("m/")).toEqual(["m/1", "m/2", "m/3"]);
      const bad = await rejectionOf(client.deleteObjects({ prefix: "m" }, { maxObjects: 0 }));
      expect(bad.message).toMatch(/^maxObjects must be/);
    });

    it("an object written under the prefix after it was listed is left alone", async () => {
      await seed({ "race/exp/a": "a", "race/exp/b": "b" });
      const racing = backend.client({ store: writesBeforeFirstDelete(client.store.inner, "race/exp/late.txt") });
      const result = await racing.deleteObjects({ prefix: "race/exp/" });
      expect(result.keys).toEqual(["race/exp/a", "race/exp/b"]);
      expect(await keysUnder("race/")).toEqual(["race/exp/late.txt"]);
    });

    it("read-only refuses (access_denied) before listing; allowPrefixes refuse a folder or key outside", async () => {
      await seed({ "p/ok/a": "a", "p/no/b": "b" });
      const ro = backend.client({ readOnly: true });
      expect((await rejectionOf(ro.deleteObjects({ prefix: "p/ok" }))).kind).toBe("access_denied");
      expect((await rejectionOf(ro.deleteObjects({ keys: ["p/ok/a"] }))).kind).toBe("access_denied");
      expect((await ro.deleteObjects({ prefix: "p/ok" }, { dryRun: true })).deleted).toBe(1);
      const confined = backend.client({ allowPrefixes: ["p/ok/"] });
      for (const target of [{ prefix: "p" }, { prefix: "p/no" }, { keys: ["p/ok/a", "p/no/b"] }]) {
        expect((await rejectionOf(confined.deleteObjects(target))).kind).toBe("outside_allowed_prefix");
      }
      expect(await keysUnder("p/")).toEqual(["p/no/b", "p/ok/a"]);
      expect((await confined.deleteObjects({ prefix: "p/ok" })).deleted).toBe(1);
      const both = await rejectionOf(client.deleteObjects({ prefix: "p", keys: ["p/no/b"] } as never));
      expect(both.message).toMatch(/exactly one of prefix .* or keys .*, not both/);
    });
  });
}

suite("a LocalStore", async () => {
  const dir = await makeTempDir();
  const store = await LocalStore.open(path.join(dir.path, "store"));
  return {
    client: ({ readOnly, allowPrefixes, store: other } = {}) => new R2Client({ store: other ?? store, readOnly, allowPrefixes }),
    async cleanup() {
      await store.close();
      await dir.cleanup();
    },
  };
});

suite("S3 (fauxqs)", async () => {
  const server = await startS3Server();
  const clients: R2Client[] = [];
  return {
    client: ({ readOnly, allowPrefixes, store } = {}) => {
      const client = store
        ? new R2Client({ store, readOnly, allowPrefixes })
        : new R2Client({
            bucketName: server.bucket,
            endpointUrl: server.endpoint,
            accessKeyId: server.credentials.accessKeyId,
            secretAccessKey: server.credentials.secretAccessKey,
            readOnly,
            allowPrefixes,
            env: {},
          });
      if (!store) clients.push(client);
      return client;
    },
    async cleanup() {
      await Promise.all(clients.map((c) => c.close()));
      await server.close();
    },
  };
});
