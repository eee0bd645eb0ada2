/** Proves the test helpers work against the real local S3 server (fauxqs) and the proxy. */

import { mkdir, symlink, writeFile } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { failureOf } from "./assert.js";
import { MIB } from "./bytes.js";
import { type ConditionalProxy, startConditionalProxy } from "./conditional-proxy.js";
import { makeS3Client, type S3TestServer, startS3Server } from "./s3-server.js";
import { makeTempDir, snapshotTree } from "./tmp.js";

async function getText(client: S3Client, bucket: string, key: string): Promise<string> {
  const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return out.Body!.transformToString();
}

describe("S3 test server (fauxqs)", () => {
  let server: S3TestServer;
  let s3: S3Client;
  beforeAll(async () => {
    server = await startS3Server();
    s3 = server.rawClient();
  });
  afterAll(async () => {
    s3?.destroy();
    await server?.close();
  });

  it("listens on 127.0.0.1 with a created bucket", () => {
    expect(server.endpoint).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.bucket).toBeTruthy();
  });

  it("round-trips put / get / list", async () => {
    const key = "dir/hello wörld+1.txt";
    await s3.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: "hi there", ContentType: "text/plain" }));
    expect(await getText(s3, server.bucket, key)).toBe("hi there");
    const head = await s3.send(new HeadObjectCommand({ Bucket: server.bucket, Key: key }));
    expect(head.ContentLength).toBe(8);
    expect(head.ContentType).toBe("text/plain");
    const list = await s3.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: "dir/" }));
    expect(list.Contents?.map((o) => o.Key)).toEqual([key]);
  });

  it("pages ListObjectsV2 with MaxKeys=2 through 5 keys", async () => {
    // Same-case keys on purpose: fauxqs sorts with localeCompare but resumes with code-unit
    // comparison, so mixed-case keys can be skipped across pages.
    const keys = ["page/k1", "page/k2", "page/k3", "page/k4", "page/k5"];
    for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: key }));
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: server.bucket, Prefix: "page/", MaxKeys: 2, ContinuationToken: token }),
      );
      pages++;
      expect(page.Contents?.length).toBeLessThanOrEqual(2);
      seen.push(...(page.Contents ?? []).map((o) => o.Key!));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    expect(pages).toBe(3);
    expect(seen).toEqual(keys);
  });

  it("creates extra buckets", async () => {
    await server.createBucket("second-bucket");
    await s3.send(new PutObjectCommand({ Bucket: "second-bucket", Key: "x", Body: "y" }));
    expect(await getText(s3, "second-bucket", "x")).toBe("y");
  });
});

describe("conditional proxy (test stand-in for If-None-Match: *)", () => {
  let server: S3TestServer;
  let proxy: ConditionalProxy;
  let direct: S3Client;
  let viaProxy: S3Client;
  beforeAll(async () => {
    server = await startS3Server();
    proxy = await startConditionalProxy(server.endpoint);
    direct = server.rawClient();
    viaProxy = makeS3Client(proxy.endpoint);
  });
  afterAll(async () => {
    direct?.destroy();
    viaProxy?.destroy();
    await proxy?.close();
    await server?.close();
  });

  it("passes ordinary requests through unchanged (overwrite, range, errors)", async () => {
    const Bucket = server.bucket;
    await viaProxy.send(new PutObjectCommand({ Bucket, Key: "plain", Body: "one", ContentType: "text/x-one" }));
    await viaProxy.send(new PutObjectCommand({ Bucket, Key: "plain", Body: "two", Metadata: { tag: "b" } }));
    expect(await getText(direct, Bucket, "plain")).toBe("two");
    const head = await viaProxy.send(new HeadObjectCommand({ Bucket, Key: "plain" }));
    expect(head.Metadata).toEqual({ tag: "b" });
    const ranged = await viaProxy.send(new GetObjectCommand({ Bucket, Key: "plain", Range: "bytes=1-2" }));
    expect(ranged.$metadata.httpStatusCode).toBe(206);
    expect(await ranged.Body!.transformToString()).toBe("wo");
    const missing = await failureOf(viaProxy.send(new GetObjectCommand({ Bucket, Key: "nope" })));
    expect(missing).toMatchObject({ name: "NoSuchKey", $metadata: { httpStatusCode: 404 } });
    const missingHead = await failureOf(viaProxy.send(new HeadObjectCommand({ Bucket, Key: "nope" })));
    expect(missingHead).toMatchObject({ name: "NotFound", $metadata: { httpStatusCode: 404 } });
  });

  it("creates a new key with IfNoneMatch and refuses an existing one with 412", async () => {
    const Bucket = server.bucket;
    const Key = "cond/ünï code+plus %.txt";
    const before = proxy.stats.preconditionFailed;
    await viaProxy.send(new PutObjectCommand({ Bucket, Key, Body: "original", IfNoneMatch: "*" }));
    const err = await failureOf(viaProxy.send(new PutObjectCommand({ Bucket, Key, Body: "intruder", IfNoneMatch: "*" })));
    expect(err.name).toBe("PreconditionFailed");
    expect(err.$metadata?.httpStatusCode).toBe(412);
    expect(proxy.stats.preconditionFailed).toBe(before + 1);
    expect(await getText(direct, Bucket, Key)).toBe("original");
  });

  it("lets exactly one of 16 concurrent creates of one key win", async () => {
    const Bucket = server.bucket;
    const Key = "race/target";
    const results = await Promise.allSettled(
      Array.from({ length: 16 }, (_, i) => viaProxy.send(new PutObjectCommand({ Bucket, Key, Body: `writer-${i}`, IfNoneMatch: "*" }))),
    );
    const winners = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
    const losers = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(15);
    for (const l of losers) expect(l.reason).toMatchObject({ name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } });
    expect(await getText(direct, Bucket, Key)).toBe(`writer-${winners[0]}`);
  });

  it("refuses CompleteMultipartUpload with IfNoneMatch on an existing key, allows it on a new one", async () => {
    const Bucket = server.bucket;
    const multipart = async (Key: string, body: string) => {
      const { UploadId } = await viaProxy.send(new CreateMultipartUploadCommand({ Bucket, Key }));
      const part = await viaProxy.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber: 1, Body: body }));
      const complete = viaProxy.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId,
          IfNoneMatch: "*",
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
      return { UploadId, complete };
    };

    const fresh = await multipart("mpu/new", "fresh bytes");
    await fresh.complete;
    expect(await getText(direct, Bucket, "mpu/new")).toBe("fresh bytes");

    await direct.send(new PutObjectCommand({ Bucket, Key: "mpu/existing", Body: "keep me" }));
    const clash = await multipart("mpu/existing", "should not land");
    const err = await failureOf(clash.complete);
    expect(err).toMatchObject({ name: "PreconditionFailed", $metadata: { httpStatusCode: 412 } });
    expect(await getText(direct, Bucket, "mpu/existing")).toBe("keep me");
    // The refused upload was never completed upstream, so it can still be aborted.
    await viaProxy.send(new AbortMultipartUploadCommand({ Bucket, Key: "mpu/existing", UploadId: clash.UploadId }));
  });
});

describe("server restart on the same port", () => {
  it("kills an in-flight upload, frees the port, and restarts empty with its bucket", async () => {
    const first = await startS3Server({ bucket: "restart-bucket" });
    const s3 = first.rawClient();
    await s3.send(new PutObjectCommand({ Bucket: first.bucket, Key: "before", Body: "x" }));

    // Start a streamed PUT and stop the server once the first chunk is on the wire.
    const upload = http.request(`${first.endpoint}/${first.bucket}/in-flight`, {
      method: "PUT",
      headers: { "content-length": String(MIB) },
    });
    const failed = new Promise<Error>((resolve) => upload.on("error", resolve));
    await new Promise<void>((resolve) => upload.write(Buffer.alloc(64 * 1024), () => resolve()));
    await first.close();
    expect((await failed).message).toMatch(/socket hang up|ECONNRESET|EPIPE/);

    const second = await startS3Server({ bucket: "restart-bucket", port: first.port });
    try {
      expect(second.endpoint).toBe(first.endpoint);
      // State is per app instance: the old object is gone, the bucket was re-created.
      const gone = await failureOf(s3.send(new HeadObjectCommand({ Bucket: second.bucket, Key: "before" })));
      expect(gone.$metadata?.httpStatusCode).toBe(404);
      await s3.send(new PutObjectCommand({ Bucket: second.bucket, Key: "after", Body: "y" }));
      expect(await getText(s3, second.bucket, "after")).toBe("y");
    } finally {
      s3.destroy();
      await second.close();
    }
  });
});

describe("tmp helpers", () => {
  it("snapshots a tree and detects a single changed byte", async () => {
    const tmp = await makeTempDir();
    try {
      await mkdir(path.join(tmp.path, "sub/deeper"), { recursive: true });
      await writeFile(path.join(tmp.path, "sub/deeper/file.bin"), Buffer.from([1, 2, 3, 4]));
      await writeFile(path.join(tmp.path, "top.txt"), "hello");
      await symlink("top.txt", path.join(tmp.path, "link"));
      const before = await snapshotTree(tmp.path);
      expect(Object.keys(before).sort()).toEqual(["link", "sub", "sub/deeper", "sub/deeper/file.bin", "top.txt"]);
      expect(before.sub).toBe("dir");
      expect(before.link).toBe("symlink:top.txt");
      expect(await snapshotTree(tmp.path)).toEqual(before);

      await writeFile(path.join(tmp.path, "sub/deeper/file.bin"), Buffer.from([1, 2, 3, 5]));
      const after = await snapshotTree(tmp.path);
      expect(after).not.toEqual(before);
      expect({ ...after, "sub/deeper/file.bin": before["sub/deeper/file.bin"] }).toEqual(before);
    } finally {
      await tmp.cleanup();
    }
  });
});
