/**
 * The ObjectStore contract on the S3 backend, against a real local S3 server (fauxqs, in-process on
 * 127.0.0.1). fauxqs ignores If-None-Match, so where a test needs a server that honours it (the
 * concurrent-create race) it goes through the conditional proxy: a test stand-in for R2's
 * If-None-Match: *, nothing else.
 */

import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Store } from "../../src/core/s3/store.js";
import { rejectionOf } from "../helpers/assert.js";
import { MIB, md5Hex, readAll } from "../helpers/bytes.js";
import { type ConditionalProxy, startConditionalProxy } from "../helpers/conditional-proxy.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { startSignatureCheck } from "../helpers/signature-check.js";
import { makeTempDir, type TempDir, withFileBody } from "../helpers/tmp.js";
import { storeContract } from "./store-contract.js";

function s3Store(server: S3TestServer, endpoint = server.endpoint, bucket = server.bucket, requests: "direct" | "sdk" = "direct"): S3Store {
  return new S3Store({
    bucket,
    endpoint,
    region: server.region,
    credentials: server.credentials,
    // Small, so an ~11 MiB file goes multipart (fauxqs refuses single bodies over ~11 MiB).
    multipartThreshold: 5 * MIB,
    // Fail fast: these tests never expect a retry to rescue them.
    maxAttempts: 2,
    requests,
  });
}

// Object HEAD, GET and PUT go out on the direct path by default (src/core/s3/direct.ts), and
// through the SDK with `requests: "sdk"` (and on a caller's own client): the whole contract, both ways.
for (const requests of ["direct", "sdk"] as const)
  storeContract(
    requests === "direct" ? "S3Store (fauxqs)" : "S3Store (fauxqs, every request through the SDK)",
    async () => {
      const server = await startS3Server();
      const proxy = await startConditionalProxy(server.endpoint);
      // Every request of the contract has its signature checked (fauxqs checks none).
      const checked = await startSignatureCheck(server.endpoint, server.credentials);
      const checkedConditional = await startSignatureCheck(proxy.endpoint, server.credentials);
      const store = s3Store(server, checked.endpoint, server.bucket, requests);
      const conditionalStore = s3Store(server, checkedConditional.endpoint, server.bucket, requests);
      return {
        store,
        conditionalStore,
        async cleanup() {
          await store.close();
          await conditionalStore.close();
          await checked.close();
          await checkedConditional.close();
          await proxy.close();
          await server.close();
          expect(checked.stats.checked).toBeGreaterThan(100);
          const refused = checked.stats.refused + checkedConditional.stats.refused;
          expect({ refused, last: checked.lastRefusal ?? checkedConditional.lastRefusal }).toEqual({ refused: 0, last: undefined });
        },
      };
    },
    {
      serverDeviations: {
        // node_modules/fauxqs/dist/s3/s3Store.js sorts with `a.key.localeCompare(b.key)` and resumes
        // a page with `obj.key <= startAfter`. R2 and S3 list in UTF-8 byte order.
        listOrder: "fauxqs 1.9.2 sorts keys with localeCompare and resumes pages by UTF-16 comparison",
      },
    },
  );

async function getText(store: S3Store, key: string): Promise<string> {
  return (await readAll((await store.get(key)).body)).toString("utf8");
}

describe("S3Store: no overwrite on servers that do and do not honour If-None-Match", () => {
  let server: S3TestServer;
  let proxy: ConditionalProxy;
  let raw: S3Client;
  let direct: S3Store;
  let tmp: TempDir;
  beforeAll(async () => {
    server = await startS3Server();
    proxy = await startConditionalProxy(server.endpoint);
    raw = server.rawClient();
    direct = s3Store(server);
    tmp = await makeTempDir();
  });
  afterAll(async () => {
    raw?.destroy();
    await direct?.close();
    await tmp?.cleanup();
    await proxy?.close();
    await server?.close();
  });

  it("refuses a plain create on an existing key even when the server ignores If-None-Match (the HEAD check)", async () => {
    const Bucket = server.bucket;
    // First show the server really ignores the condition, or this test would prove nothing.
    await raw.send(new PutObjectCommand({ Bucket, Key: "ignored/probe", Body: "one" }));
    await raw.send(new PutObjectCommand({ Bucket, Key: "ignored/probe", Body: "two", IfNoneMatch: "*" }));
    expect(await getText(direct, "ignored/probe")).toBe("two");

    await direct.put("ignored/keep.txt", { kind: "bytes", data: Buffer.from("original") }, { mode: "create" });
    const err = await rejectionOf(direct.put("ignored/keep.txt", { kind: "bytes", data: Buffer.from("intruder") }, { mode: "create" }));
    expect(err).toMatchObject({ kind: "already_exists", code: "EEXIST", key: "ignored/keep.txt" });
    expect(await getText(direct, "ignored/keep.txt")).toBe("original");

    // The same for a file that goes multipart.
    const file = path.join(tmp.path, "big.bin");
    await writeFile(file, randomBytes(6 * MIB));
    const fileErr = await rejectionOf(withFileBody(file, (body) => direct.put("ignored/keep.txt", body, { mode: "create" })));
    expect(fileErr.kind).toBe("already_exists");
    expect(await getText(direct, "ignored/keep.txt")).toBe("original");
  });

  /**
   * A store whose SDK client writes `intruder` to the key through the raw client just before the
   * given command goes out: the race window between the HEAD check and the write, made
   * deterministic. Through the proxy the write is conditional, so the intruder must survive.
   */
  function storeWithIntruder(commandName: string, intruder: string): S3Store {
    const store = s3Store(server, proxy.endpoint);
    store.client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === commandName) {
          const input = args.input as { Key: string };
          await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: input.Key, Body: intruder }));
        }
        return next(args);
      },
      { step: "initialize", name: "raceIntruder" },
    );
    return store;
  }

  /** The same window for a single PUT on either request path: the intruder writes right after the store's HEAD check. */
  function storeWithIntruderAfterHead(requests: "direct" | "sdk", intruder: string): S3Store {
    const store = s3Store(server, proxy.endpoint, server.bucket, requests);
    const head = store.head.bind(store);
    store.head = async (key) => {
      const found = await head(key);
      await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: intruder }));
      return found;
    };
    return store;
  }

  it.each(["direct", "sdk"] as const)(
    "sends If-None-Match: * with a single PUT (%s requests), so a writer that slips in after the HEAD check wins alone",
    async (requests) => {
      const store = storeWithIntruderAfterHead(requests, "the other writer");
      try {
        const refusedBefore = proxy.stats.preconditionFailed;
        const err = await rejectionOf(
          store.put(`window/single-${requests}.txt`, { kind: "bytes", data: Buffer.from("mine") }, { mode: "create" }),
        );
        expect(err).toMatchObject({ kind: "already_exists", code: "EEXIST", key: `window/single-${requests}.txt` });
        expect(proxy.stats.preconditionFailed).toBe(refusedBefore + 1);
        expect(await getText(direct, `window/single-${requests}.txt`)).toBe("the other writer");
      } finally {
        await store.close();
      }
    },
  );

  it("sends If-None-Match: * with CompleteMultipartUpload too", async () => {
    const store = storeWithIntruder("CreateMultipartUploadCommand", "the other writer");
    const file = path.join(tmp.path, "multipart.bin");
    await writeFile(file, randomBytes(6 * MIB));
    try {
      const refusedBefore = proxy.stats.preconditionFailed;
      const err = await rejectionOf(withFileBody(file, (body) => store.put("window/multi.bin", body, { mode: "create" })));
      expect(err).toMatchObject({ kind: "already_exists", code: "EEXIST", key: "window/multi.bin" });
      expect(proxy.stats.preconditionFailed).toBe(refusedBefore + 1);
      expect(await getText(direct, "window/multi.bin")).toBe("the other writer");
    } finally {
      await store.close();
    }
  });

  it("overwrite sends no condition: it replaces through the proxy", async () => {
    const store = s3Store(server, proxy.endpoint);
    try {
      await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key: "window/over.txt", Body: "old" }));
      const result = await store.put("window/over.txt", { kind: "bytes", data: Buffer.from("new") }, { mode: "overwrite" });
      expect(result).toEqual({ key: "window/over.txt", size: 3, etag: md5Hex(Buffer.from("new")), replaced: true });
      const head = await raw.send(new HeadObjectCommand({ Bucket: server.bucket, Key: "window/over.txt" }));
      expect(head.ContentLength).toBe(3);
    } finally {
      await store.close();
    }
  });
});

describe("S3Store: server-side failures map to stable codes", () => {
  let server: S3TestServer;
  beforeAll(async () => {
    server = await startS3Server();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("a bucket that does not exist is bucket_not_found", async () => {
    const store = s3Store(server, server.endpoint, "no-such-bucket");
    try {
      const err = await rejectionOf(store.list({}));
      expect(err.kind).toBe("bucket_not_found");
      expect(err.message).toMatch(/no-such-bucket/);
      expect(err.message).not.toContain(server.credentials.secretAccessKey);
    } finally {
      await store.close();
    }
  });

  it("an endpoint nobody listens on is unavailable", async () => {
    const closed = await startS3Server();
    const endpoint = closed.endpoint;
    await closed.close();
    const store = new S3Store({
      bucket: server.bucket,
      endpoint,
      region: server.region,
      credentials: server.credentials,
      maxAttempts: 1,
    });
    try {
      const err = await rejectionOf(store.list({}));
      expect(err.kind).toBe("unavailable");
      expect(err.message).not.toContain(server.credentials.secretAccessKey);
    } finally {
      await store.close();
    }
  });
});

describe("S3Store: server-side copies between buckets of one endpoint and credentials", () => {
  let server: S3TestServer;
  let proxy: ConditionalProxy;
  beforeAll(async () => {
    server = await startS3Server();
    proxy = await startConditionalProxy(server.endpoint);
    await server.createBucket("copy-other");
  });
  afterAll(async () => {
    await proxy?.close();
    await server?.close();
  });

  it("shares a location domain with a store on the same endpoint and key, not with another endpoint or key", async () => {
    const a = s3Store(server);
    const b = s3Store(server, server.endpoint, "copy-other");
    const viaProxy = s3Store(server, proxy.endpoint);
    const otherKey = new S3Store({
      bucket: server.bucket,
      endpoint: server.endpoint,
      region: server.region,
      credentials: { ...server.credentials, accessKeyId: "AKIDOTHER" },
    });
    try {
      expect(a.capabilities.location?.domain).toBe(b.capabilities.location?.domain);
      expect(a.capabilities.location?.container).not.toBe(b.capabilities.location?.container);
      expect(viaProxy.capabilities.location?.domain).not.toBe(a.capabilities.location?.domain);
      expect(otherKey.capabilities.location?.domain).not.toBe(a.capabilities.location?.domain);
      // The domain is a digest: no credential shows in it.
      expect(a.capabilities.location?.domain).not.toContain(server.credentials.accessKeyId);
    } finally {
      await Promise.all([a, b, viaProxy, otherKey].map((s) => s.close()));
    }
  });

  it("copies from another bucket with CopyObject (the bytes never pass through the client)", async () => {
    const from = s3Store(server, proxy.endpoint);
    const to = new S3Store({
      bucket: "copy-other",
      endpoint: proxy.endpoint,
      region: server.region,
      credentials: server.credentials,
      maxAttempts: 2,
    });
    try {
      const data = randomBytes(300_000);
      await from.put("cross/a.bin", { kind: "bytes", data }, { mode: "create" });
      const info = (await from.head("cross/a.bin"))!;
      const copiesBefore = proxy.stats.copies;
      const out = await to.copy(from.copySource("cross/a.bin"), "landed/a.bin", {
        mode: "create",
        expect: { size: info.size, etag: info.etag },
      });
      expect(proxy.stats.copies).toBe(copiesBefore + 1);
      expect(out).toMatchObject({ key: "landed/a.bin", size: data.length, etag: md5Hex(data), sourceEtag: info.etag, replaced: false });
      expect((await readAll((await to.get("landed/a.bin")).body)).equals(data)).toBe(true);
    } finally {
      await from.close();
      await to.close();
    }
  });

  // 5 GiB is impractical in a test: the threshold is lowered so the UploadPartCopy path runs. fauxqs
  // lacks UploadPartCopy; the conditional proxy carries it out (test/helpers/conditional-proxy.ts).
  it("copies above the multipart-copy threshold in parts (UploadPartCopy), pinned to the source version and conditional", async () => {
    const store = new S3Store({
      bucket: server.bucket,
      endpoint: proxy.endpoint,
      region: server.region,
      credentials: server.credentials,
      maxAttempts: 2,
      multipartThreshold: 5 * MIB,
      multipartCopyThreshold: 5 * MIB,
    });
    const tmpDir = await makeTempDir();
    try {
      const data = randomBytes(12 * MIB + 777);
      const file = path.join(tmpDir.path, "big.bin");
      await writeFile(file, data);
      await withFileBody(file, (body) =>
        store.put("parts/src.bin", body, { mode: "create", contentType: "application/x-hdf5", metadata: { mtime: "1700000000.5" } }),
      );
      const info = (await store.head("parts/src.bin"))!;
      const partsBefore = proxy.stats.partCopies;
      const seen: number[] = [];
      const out = await store.copy(store.copySource("parts/src.bin"), "parts/dst.bin", {
        mode: "create",
        expect: { size: info.size, etag: info.etag },
        onBytes: (b) => seen.push(b),
      });
      expect(proxy.stats.partCopies - partsBefore).toBe(3); // 5 + 5 + 2 MiB
      expect(out).toMatchObject({ size: data.length, sourceEtag: info.etag, replaced: false });
      expect(out.etag).toMatch(/-3$/);
      expect(seen.at(-1)).toBe(data.length);
      expect((await readAll((await store.get("parts/dst.bin")).body)).equals(data)).toBe(true);
      expect((await store.head("parts/dst.bin"))?.contentType).toBe("application/x-hdf5");
      expect((await store.head("parts/dst.bin"))?.metadata).toEqual({ mtime: "1700000000.5" });

      // A create onto an existing key: CompleteMultipartUpload carries If-None-Match and the upload is aborted.
      const refused = await rejectionOf(
        store.copy(store.copySource("parts/src.bin"), "parts/dst.bin", {
          mode: "create",
          expect: { size: info.size, etag: info.etag },
          existing: null,
        }),
      );
      expect(refused.kind).toBe("already_exists");
      // A source that is not the version listed: the parts are refused and nothing lands.
      const stale = await rejectionOf(
        store.copy(store.copySource("parts/src.bin"), "parts/stale.bin", {
          mode: "create",
          expect: { size: info.size, etag: md5Hex("another version") },
        }),
      );
      expect(stale.kind).toBe("unavailable");
      expect(await store.head("parts/stale.bin")).toBeUndefined();
    } finally {
      await store.close();
      await tmpDir.cleanup();
    }
  }, 60_000);
});
