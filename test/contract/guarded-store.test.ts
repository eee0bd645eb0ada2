/**
 * The guarded store (read-only, allowed prefixes, key validation) over each backend: it passes the
 * same contract suite as the stores it wraps, and its refusals carry the same codes on both.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GuardedStore } from "../../src/core/guarded-store.js";
import { LocalStore } from "../../src/core/local/store.js";
import { DeferredS3Store } from "../../src/core/s3/deferred.js";
import { S3Store } from "../../src/core/s3/store.js";
import type { ObjectStore } from "../../src/core/store.js";
import { listAll, readAll } from "../../src/core/store-ext.js";
import { rejectionOf } from "../helpers/assert.js";
import { MIB } from "../helpers/bytes.js";
import { startConditionalProxy } from "../helpers/conditional-proxy.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";
import { storeContract } from "./store-contract.js";

/** The refusal of a store call, whether it throws at once or rejects later. */
const refused = (attempt: () => Promise<unknown>) => rejectionOf(Promise.resolve().then(attempt));

function s3Config(server: S3TestServer, endpoint = server.endpoint) {
  return {
    bucket: server.bucket,
    endpoint,
    region: server.region,
    credentials: server.credentials,
    multipartThreshold: 5 * MIB,
    maxAttempts: 2,
  };
}

function s3Store(server: S3TestServer, endpoint = server.endpoint): S3Store {
  return new S3Store(s3Config(server, endpoint));
}

storeContract("GuardedStore over LocalStore", async () => {
  const dir = await makeTempDir();
  const store = new GuardedStore(await LocalStore.open(path.join(dir.path, "store")));
  return {
    store,
    async cleanup() {
      await store.close();
      await dir.cleanup();
    },
  };
});

// What the CLI serves for an S3 bucket: the guarded store over the deferred one (the AWS SDK loaded
// on the first request), so the whole contract runs through both wrappers.
storeContract(
  "GuardedStore over DeferredS3Store (fauxqs)",
  async () => {
    const server = await startS3Server();
    const proxy = await startConditionalProxy(server.endpoint);
    const store = new GuardedStore(new DeferredS3Store(s3Config(server)));
    const conditionalStore = new GuardedStore(new DeferredS3Store(s3Config(server, proxy.endpoint)));
    return {
      store,
      conditionalStore,
      async cleanup() {
        await store.close();
        await conditionalStore.close();
        await proxy.close();
        await server.close();
      },
    };
  },
  { serverDeviations: { listOrder: "fauxqs 1.9.2 sorts keys with localeCompare and resumes pages by UTF-16 comparison" } },
);

describe.each(["local", "s3"] as const)("GuardedStore policy over the %s backend", (backend) => {
  let tmp: TempDir;
  let server: S3TestServer | undefined;
  let inner: ObjectStore;
  let readOnly: GuardedStore;
  let confined: GuardedStore;
  const bytes = (text: string) => ({ kind: "bytes" as const, data: Buffer.from(text) });

  beforeAll(async () => {
    tmp = await makeTempDir();
    if (backend === "s3") {
      server = await startS3Server();
      inner = s3Store(server);
    } else {
      inner = await LocalStore.open(path.join(tmp.path, "store"));
    }
    await inner.put("ok/a.txt", bytes("allowed"), { mode: "create" });
    await inner.put("secret/b.txt", bytes("not for you"), { mode: "create" });
    readOnly = new GuardedStore(inner, { readOnly: true });
    confined = new GuardedStore(inner, { allowPrefixes: ["ok/"] });
  });

  afterAll(async () => {
    await inner?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  it("read-only refuses put (create and overwrite), delete and PUT links with access_denied naming the bucket; reads work", async () => {
    for (const attempt of [
      () => readOnly.put("ok/new.txt", bytes("x"), { mode: "create" }),
      () => readOnly.put("ok/a.txt", bytes("x"), { mode: "overwrite" }),
      () => readOnly.delete("ok/a.txt"),
      () => readOnly.deleteMany(["ok/a.txt"]),
    ]) {
      const err = await refused(attempt);
      expect(err).toMatchObject({ kind: "access_denied", code: "EACCES" });
      expect(err.message).toContain(`bucket "${inner.name}" is read-only`);
    }
    if (inner.capabilities.presign) {
      const err = await refused(() => readOnly.presign("ok/a.txt", "PUT", 60));
      expect(err.kind).toBe("access_denied");
      expect(await readOnly.presign("ok/a.txt", "GET", 60)).toMatch(/^http/);
    }
    expect((await readAll(readOnly, "ok/a.txt")).bytes.toString()).toBe("allowed");
    expect((await listAll(inner, "")).map((o) => o.key).sort()).toEqual(["ok/a.txt", "secret/b.txt"]);
    expect(await inner.head("ok/new.txt")).toBeUndefined();
  });

  it("allowed prefixes refuse reads, writes, deletes and listings outside with outside_allowed_prefix", async () => {
    const outside = [
      () => confined.head("secret/b.txt"),
      () => confined.get("secret/b.txt"),
      () => confined.put("secret/c.txt", bytes("x"), { mode: "create" }),
      () => confined.delete("secret/b.txt"),
      // One key outside refuses the whole batch: the allowed key beside it stays too.
      () => confined.deleteMany(["ok/a.txt", "secret/b.txt"]),
      () => confined.deleteMany(["ok/../secret/b.txt"]),
      () => confined.list({ prefix: "secret/" }),
      () => confined.list({ prefix: "" }),
      () => confined.list({ prefix: "ok" }),
      // A path-normalizing proxy would turn these into keys outside "ok/".
      () => confined.get("ok/../secret/b.txt"),
      () => confined.put("ok/./c.txt", bytes("x"), { mode: "create" }),
    ];
    for (const attempt of outside) {
      const err = await refused(attempt);
      expect(err).toMatchObject({ kind: "outside_allowed_prefix", code: "EACCES" });
    }
    expect((await readAll(inner, "secret/b.txt")).bytes.toString()).toBe("not for you");
    expect(await inner.head("secret/c.txt")).toBeUndefined();
    expect((await confined.list({ prefix: "ok/" })).objects.map((o) => o.key)).toEqual(["ok/a.txt"]);
    expect((await confined.head("ok/a.txt"))?.size).toBe(7);
  });

  it("deleteMany within the allowed prefixes deletes there", async () => {
    await inner.put("ok/gone.txt", bytes("x"), { mode: "create" });
    expect(await confined.deleteMany(["ok/gone.txt"])).toEqual({ deleted: ["ok/gone.txt"], failed: [] });
    expect(await inner.head("ok/gone.txt")).toBeUndefined();
    expect((await readAll(inner, "secret/b.txt")).bytes.toString()).toBe("not for you");
  });

  it("copies: the source side needs read access (copySource), the destination side write access (copy)", async () => {
    const info = (await inner.head("ok/a.txt"))!;
    const expected = { size: info.size, etag: info.etag };
    // Source outside the allowed prefixes: refused when the copy source is taken, naming the argument.
    const out = await refused(async () => confined.copySource("secret/b.txt"));
    expect(out).toMatchObject({ kind: "outside_allowed_prefix" });
    expect(out.message).toContain("source");
    const dotted = await refused(async () => confined.copySource("ok/../secret/b.txt"));
    expect(dotted.kind).toBe("outside_allowed_prefix");
    // Destination outside, or in a read-only bucket: refused before the backend is reached.
    const outsideDestination = await refused(() =>
      confined.copy(confined.copySource("ok/a.txt"), "secret/copied.txt", { mode: "create", expect: expected }),
    );
    expect(outsideDestination.kind).toBe("outside_allowed_prefix");
    expect(outsideDestination.message).toContain("destination");
    const readOnlyDestination = await refused(() =>
      readOnly.copy(readOnly.copySource("ok/a.txt"), "ok/copied.txt", { mode: "create", expect: expected }),
    );
    expect(readOnlyDestination).toMatchObject({ kind: "access_denied" });
    expect(await inner.head("secret/copied.txt")).toBeUndefined();
    expect(await inner.head("ok/copied.txt")).toBeUndefined();
    // Inside: the copy is made.
    const made = await confined.copy(confined.copySource("ok/a.txt"), "ok/copied.txt", { mode: "create", expect: expected });
    expect(made.sourceEtag).toBe(info.etag);
    expect((await readAll(inner, "ok/copied.txt")).bytes.toString()).toBe("allowed");
    await inner.delete("ok/copied.txt");
  });

  it("validates keys and ranges once, before the backend is reached", async () => {
    const guarded = new GuardedStore(inner);
    for (const attempt of [
      () => guarded.head(""),
      () => guarded.get("k\0ey"),
      () => guarded.put("x".repeat(1025), bytes("x"), { mode: "create" }),
      () => guarded.get("ok/a.txt", { range: { offset: -1 } }),
      () => guarded.get("ok/a.txt", { range: { offset: 0, length: 0 } }),
      () => guarded.put("ok/ct.txt", bytes("x"), { mode: "create", contentType: "text/plain\r\nX-Injected: 1" }),
    ]) {
      expect((await refused(attempt)).kind).toBe("invalid_argument");
    }
    expect(await inner.head("ok/ct.txt")).toBeUndefined();
  });
});
