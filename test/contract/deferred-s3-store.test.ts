/**
 * The S3 store the CLI serves: DeferredS3Store loads the AWS SDK on its first request (start-up
 * answers a client's first messages without it). Before that it must tell exactly what S3Store
 * tells (name, capabilities, copy sources); after, every call is S3Store's. Against fauxqs on
 * 127.0.0.1; the whole contract runs over S3Store itself (s3-store.test.ts) and over the guarded
 * store wrapping this one, as the CLI serves it (guarded-store.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeferredS3Store } from "../../src/core/s3/deferred.js";
import { S3Store } from "../../src/core/s3/store.js";
import { rejectionOf } from "../helpers/assert.js";
import { readAll } from "../helpers/bytes.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";

describe("DeferredS3Store", () => {
  let server: S3TestServer;
  const config = () => ({ bucket: server.bucket, endpoint: server.endpoint, region: server.region, credentials: server.credentials });
  beforeAll(async () => {
    server = await startS3Server();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("tells S3Store's name, capabilities and copy sources before anything is loaded, and refuses the same keys", async () => {
    const deferred = new DeferredS3Store(config());
    const direct = new S3Store(config());
    try {
      expect(deferred.name).toBe(direct.name);
      expect(deferred.capabilities).toEqual(direct.capabilities);
      expect(deferred.copySource("a/b.txt", "source_key")).toEqual(direct.copySource("a/b.txt", "source_key"));
      const refused = (store: { copySource: (k: string, a?: string) => unknown }) => {
        try {
          store.copySource("", "source_key");
          return undefined;
        } catch (err) {
          return err;
        }
      };
      expect(refused(deferred)).toEqual(refused(direct));
      expect(refused(deferred)).toMatchObject({ kind: "invalid_argument" });
    } finally {
      await deferred.close();
      await direct.close();
    }
  });

  it("serves every call through S3Store once loaded: put, head, get, list, copy, delete, and refuses an overwrite", async () => {
    const store = new DeferredS3Store(config());
    try {
      const put = await store.put("d/one.txt", { kind: "bytes", data: Buffer.from("one") }, { mode: "create" });
      expect(put).toMatchObject({ key: "d/one.txt", size: 3, replaced: false });
      expect(await rejectionOf(store.put("d/one.txt", { kind: "bytes", data: Buffer.from("two") }, { mode: "create" }))).toMatchObject({
        kind: "already_exists",
      });
      expect(await store.head("d/one.txt")).toMatchObject({ size: 3, etag: put.etag });
      expect((await readAll((await store.get("d/one.txt")).body)).toString()).toBe("one");
      await store.copy(store.copySource("d/one.txt"), "d/two.txt", { mode: "create", expect: { size: 3, etag: put.etag } });
      expect((await store.list({ prefix: "d/" })).objects.map((o) => o.key)).toEqual(["d/one.txt", "d/two.txt"]);
      expect(await store.delete("d/one.txt")).toMatchObject({ existed: true });
      expect(await store.deleteMany(["d/two.txt"])).toMatchObject({ deleted: ["d/two.txt"] });
      expect((await store.list({ prefix: "d/" })).objects).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
