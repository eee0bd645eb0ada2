/**
 * Retries under injected faults, through the fault proxy in front of the real local S3 server:
 * what is safe to repeat is repeated (throttling, 5xx, resets, a body cut mid-upload), what cannot
 * succeed is not (403, 404, 412), and a conditional create whose answer was lost is not turned
 * into an overwrite nor reported as already_exists. The proxy's request log gives the attempt
 * counts; the bytes are read back from the server directly.
 */
import { randomBytes } from "node:crypto";
import { truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Store } from "../../src/core/s3/store.js";
import { uploadFile } from "../../src/core/transfer/index.js";
import { failureOf } from "../helpers/assert.js";
import { MIB, md5Hex, readAll } from "../helpers/bytes.js";
import { withFileBody } from "../helpers/tmp.js";
import { captureLog, type FaultRig, startFaultRig, storeConfig } from "./setup.js";

let rig: FaultRig;
let raw: S3Client;

beforeAll(async () => {
  rig = await startFaultRig();
  raw = rig.server.rawClient();
});
afterAll(async () => {
  raw?.destroy();
  await rig?.close();
});

/** The object as stored on the server, read around the proxies. */
async function stored(key: string): Promise<Buffer | undefined> {
  try {
    const out = await raw.send(new GetObjectCommand({ Bucket: rig.server.bucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  } catch {
    return undefined;
  }
}

async function file(name: string, bytes: Buffer): Promise<string> {
  const p = path.join(rig.tmp.path, name);
  await writeFile(p, bytes);
  return p;
}

describe("throttling and server errors are retried with the SDK's strategy", () => {
  it("503 SlowDown for the first 2 requests: upload_bytes succeeds on the 3rd attempt, byte for byte", async () => {
    const { log, entries } = captureLog();
    const store = rig.store({ log });
    const key = "throttle/bytes.txt";
    const slow = rig.proxy.inject({ op: "PutObject", key, times: 2, fault: { kind: "respond", status: 503, code: "SlowDown" } });
    const data = Buffer.from("throttled but stored");
    const result = await store.put(key, { kind: "bytes", data }, { mode: "create" });
    expect(result).toMatchObject({ key, size: data.length, etag: md5Hex(data), replaced: false });
    expect(slow.hits).toBe(2);
    expect(rig.proxy.attempts({ op: "PutObject", key })).toEqual([1, 2, 3]);
    expect(await stored(key)).toEqual(data);
    expect(entries).toContainEqual(
      expect.objectContaining({ message: "PutObject succeeded after 3 attempts", data: expect.objectContaining({ key, attempts: 3 }) }),
    );
  });

  it("SlowDown that does not stop: throttled once the attempts run out, saying what to do", async () => {
    const store = rig.store({ maxAttempts: 2 });
    const key = "throttle/never.txt";
    const slow = rig.proxy.inject({ op: "PutObject", key, fault: { kind: "respond", status: 503, code: "SlowDown" } });
    try {
      const err = await failureOf(store.put(key, { kind: "bytes", data: Buffer.from("x") }, { mode: "create" }));
      expect(err.kind).toBe("throttled");
      expect(err.message).toMatch(/after 2 attempts.*wait and repeat the call/);
      expect(rig.proxy.attempts({ op: "PutObject", key })).toEqual([1, 2]);
      expect(await stored(key)).toBeUndefined();
    } finally {
      slow.remove();
    }
  });

  it.each([
    [500, "InternalError"],
    [502, "BadGateway"],
    [503, "ServiceUnavailable"],
    [504, "GatewayTimeout"],
  ])("%i %s once on a listing: retried, and the listing is complete", async (status, code) => {
    const store = rig.store();
    const prefix = `status-${status}/`;
    await raw.send(new PutObjectCommand({ Bucket: rig.server.bucket, Key: `${prefix}a`, Body: "a" }));
    rig.proxy.inject({
      op: "ListObjectsV2",
      test: (r) => r.query.get("prefix") === prefix,
      times: 1,
      fault: { kind: "respond", status, code },
    });
    const page = await store.list({ prefix });
    expect(page.objects.map((o) => o.key)).toEqual([`${prefix}a`]);
    expect(rig.proxy.attempts({ op: "ListObjectsV2", test: (r) => r.query.get("prefix") === prefix })).toEqual([1, 2]);
  });

  it("500 once on a GET and a connection reset once on a HEAD: both retried", async () => {
    const store = rig.store();
    const key = "status/get.bin";
    const data = randomBytes(4096);
    await raw.send(new PutObjectCommand({ Bucket: rig.server.bucket, Key: key, Body: data }));
    rig.proxy.inject({ op: "GetObject", key, times: 1, fault: { kind: "respond", status: 500, code: "InternalError" } });
    rig.proxy.inject({ op: "HeadObject", key, times: 1, fault: { kind: "reset" } });
    expect(await readAll((await store.get(key)).body)).toEqual(data);
    expect((await store.head(key))?.etag).toBe(md5Hex(data));
    expect(rig.proxy.attempts({ op: "GetObject", key })).toEqual([1, 2]);
    expect(rig.proxy.attempts({ op: "HeadObject", key })).toEqual([1, 2]);
  });
});

describe("what cannot succeed is not retried", () => {
  it("403 AccessDenied: access_denied after one request, naming the credentials to check", async () => {
    const store = rig.store();
    const key = "never/denied.txt";
    rig.proxy.inject({ op: "GetObject", key, fault: { kind: "respond", status: 403, code: "AccessDenied" } });
    const err = await failureOf(store.get(key));
    expect(err.kind).toBe("access_denied");
    expect(err.message).toMatch(/R2_ACCESS_KEY_ID/);
    expect(rig.proxy.count({ op: "GetObject", key })).toBe(1);
  });

  it("404 NoSuchKey: not_found after one request", async () => {
    const store = rig.store();
    const key = "never/missing.txt";
    const err = await failureOf(store.get(key));
    expect(err.kind).toBe("not_found");
    expect(rig.proxy.count({ op: "GetObject", key })).toBe(1);
  });

  it("412 on a conditional create (another writer got there between the HEAD and the PUT): already_exists after one PUT", async () => {
    const store = rig.store();
    const key = "never/raced.txt";
    rig.proxy.inject({
      op: "PutObject",
      key,
      times: 1,
      // The other writer lands just before our PUT is forwarded; the conditional proxy then answers 412.
      before: async () => void (await raw.send(new PutObjectCommand({ Bucket: rig.server.bucket, Key: key, Body: "theirs" }))),
      fault: { kind: "delay", ms: 0 },
    });
    const refused = rig.conditional.stats.preconditionFailed;
    const err = await failureOf(store.put(key, { kind: "bytes", data: Buffer.from("mine") }, { mode: "create" }));
    expect(err.kind).toBe("already_exists");
    expect(rig.conditional.stats.preconditionFailed).toBe(refused + 1);
    expect(rig.proxy.count({ op: "PutObject", key })).toBe(1);
    expect((await stored(key))?.toString()).toBe("theirs");
  });
});

describe("uploads whose body is cut are repeated", () => {
  it("a small file (one streamed PUT) cut mid-body is sent again from the start and stored byte for byte", async () => {
    const { log, entries } = captureLog();
    const store = rig.store({ log });
    const data = randomBytes(256 * 1024);
    const key = "cut/small.bin";
    const cut = rig.proxy.inject({ op: "PutObject", key, times: 1, fault: { kind: "drop-request-body", afterBytes: 64 * 1024 } });
    const result = await uploadFile(store, await file("small.bin", data), key);
    expect(result).toMatchObject({ size: data.length, etag: md5Hex(data), replaced: false });
    expect(cut.hits).toBe(1);
    // The SDK refuses to repeat a streamed body; the store's own loop sends it again (a new stream).
    expect(rig.proxy.count({ op: "PutObject", key })).toBe(2);
    expect(await stored(key)).toEqual(data);
    expect(entries.some((e) => e.message.startsWith(`PutObject of "${key}" failed`))).toBe(true);
  });

  it("a multipart part cut mid-body is repeated by the SDK (each attempt reads its range of the file again); the upload completes", async () => {
    const store = rig.store();
    const data = randomBytes(12 * MIB + 123);
    const key = "cut/multipart.bin";
    rig.proxy.inject({ op: "UploadPart", key, partNumber: 2, times: 1, fault: { kind: "drop-request-body", afterBytes: MIB } });
    const result = await uploadFile(store, await file("multipart.bin", data), key);
    expect(result.etag).toMatch(/-3$/);
    expect(rig.proxy.attempts({ op: "UploadPart", key, partNumber: 2 })).toEqual([1, 2]);
    expect(rig.proxy.attempts({ op: "UploadPart", key, partNumber: 1 })).toEqual([1]);
    expect(md5Hex((await stored(key))!)).toBe(md5Hex(data));
    expect(rig.server.openUploads()).toEqual([]);
  });

  it("a part that keeps failing: unavailable, the multipart upload is aborted, no object and no upload left", async () => {
    const store = rig.store({ maxAttempts: 2 });
    const data = randomBytes(11 * MIB);
    const key = "cut/aborted.bin";
    rig.proxy.inject({ op: "UploadPart", key, partNumber: 2, fault: { kind: "respond", status: 500, code: "InternalError" } });
    const err = await failureOf(uploadFile(store, await file("aborted.bin", data), key));
    expect(err.kind).toBe("unavailable");
    expect(err.message).toMatch(/after 2 attempts/);
    expect(rig.proxy.attempts({ op: "UploadPart", key, partNumber: 2 })).toEqual([1, 2]);
    expect(rig.proxy.count({ op: "AbortMultipartUpload", key })).toBeGreaterThanOrEqual(1);
    expect(rig.proxy.count({ op: "CompleteMultipartUpload", key })).toBe(0);
    expect(await stored(key)).toBeUndefined();
    expect(rig.server.openUploads()).toEqual([]);
  });
});

describe("small files (up to 64 KiB) are read whole and sent from memory", () => {
  it("cut mid-body: the request is repeated with the same bytes (and their Content-MD5) and stored byte for byte", async () => {
    const store = rig.store();
    const data = randomBytes(48 * 1024);
    const key = "memory/cut.bin";
    const cut = rig.proxy.inject({ op: "PutObject", key, times: 1, fault: { kind: "drop-request-body", afterBytes: 16 * 1024 } });
    const result = await uploadFile(store, await file("memory-cut.bin", data), key);
    expect(result).toMatchObject({ size: data.length, etag: md5Hex(data), replaced: false });
    expect(cut.hits).toBe(1);
    expect(rig.proxy.attempts({ op: "PutObject", key })).toEqual([1, 2]);
    expect(await stored(key)).toEqual(data);
  });

  // The change is made after the file was opened (as an upload opens it) and before the store reads it.
  it.each([
    ["rewritten in place (same size)", (local: string) => writeFile(local, randomBytes(32 * 1024))],
    ["grown", (local: string) => writeFile(local, randomBytes(40 * 1024))],
    ["cut short", (local: string) => truncate(local, 1000)],
  ])("%s after it was opened: unavailable naming the file, nothing sent, no object", async (name, change) => {
    const store = rig.store();
    const key = `memory/changed-${name.split(" ")[0]}.bin`;
    const local = await file(`memory-${name.split(" ")[0]}.bin`, randomBytes(32 * 1024));
    const err = await failureOf(
      withFileBody(local, async (body) => {
        await change(local);
        return store.put(key, body, { mode: "create" });
      }),
    );
    expect(err.kind).toBe("unavailable");
    expect(err.message).toContain(path.basename(local));
    expect(err.message).toMatch(/changed while it was being read/);
    expect(rig.proxy.count({ op: "PutObject", key })).toBe(0);
    expect(await stored(key)).toBeUndefined();
  });
});

describe("a file that changes while its parts are sent", () => {
  // The change is made when a part's request reaches the proxy, i.e. while the parts are read.
  it("rewritten in place (same size): unavailable naming the file, the upload aborted, no object", async () => {
    const store = rig.store();
    const key = "changed/rewritten.bin";
    const local = await file("rewritten.bin", randomBytes(12 * MIB));
    rig.proxy.inject({
      op: "UploadPart",
      key,
      partNumber: 1,
      times: 1,
      fault: { kind: "delay", ms: 0 },
      before: () => writeFile(local, randomBytes(12 * MIB)),
    });
    const err = await failureOf(uploadFile(store, local, key));
    expect(err.kind).toBe("unavailable");
    expect(err.message).toContain("rewritten.bin");
    expect(err.message).toMatch(/changed while it was being read/);
    expect(rig.proxy.count({ op: "CompleteMultipartUpload", key })).toBe(0);
    expect(rig.proxy.count({ op: "AbortMultipartUpload", key })).toBeGreaterThanOrEqual(1);
    expect(await stored(key)).toBeUndefined();
    expect(rig.server.openUploads()).toEqual([]);
  });

  it("cut short: unavailable naming the file, the upload aborted, no object", async () => {
    const store = rig.store();
    const key = "changed/shortened.bin";
    const local = await file("shortened.bin", randomBytes(12 * MIB));
    rig.proxy.inject({
      op: "UploadPart",
      key,
      partNumber: 1,
      times: 1,
      fault: { kind: "delay", ms: 0 },
      before: () => truncate(local, 6 * MIB),
    });
    const err = await failureOf(uploadFile(store, local, key));
    expect(err.kind).toBe("unavailable");
    expect(err.message).toContain("shortened.bin");
    expect(err.message).toMatch(/changed while it was being read/);
    expect(rig.proxy.count({ op: "CompleteMultipartUpload", key })).toBe(0);
    expect(await stored(key)).toBeUndefined();
    expect(rig.server.openUploads()).toEqual([]);
  });
});

describe("a conditional create whose answer was lost", () => {
  // The first attempt reaches the server and creates the object; the proxy then cuts the
  // connection before the answer gets back. The repeat meets If-None-Match: * and gets 412.
  const lostAnswer = { kind: "drop-response" } as const;

  it("bytes: the repeat's 412 is recognised as this call's own write (ETag = MD5 of what was sent)", async () => {
    const store = rig.store();
    const key = "lost/bytes.txt";
    const data = Buffer.from("written once, answer lost");
    rig.proxy.inject({ op: "PutObject", key, times: 1, fault: lostAnswer });
    const refused = rig.conditional.stats.preconditionFailed;
    const result = await store.put(key, { kind: "bytes", data }, { mode: "create" });
    expect(result).toEqual({ key, size: data.length, etag: md5Hex(data), replaced: false });
    expect(rig.proxy.attempts({ op: "PutObject", key })).toEqual([1, 2]);
    expect(rig.conditional.stats.preconditionFailed).toBe(refused + 1);
    expect(await stored(key)).toEqual(data);
  });

  it("a small file: the same, through the store's own retry loop", async () => {
    const store = rig.store();
    const key = "lost/small.bin";
    const data = randomBytes(100_000);
    rig.proxy.inject({ op: "PutObject", key, times: 1, fault: lostAnswer });
    const result = await uploadFile(store, await file("lost-small.bin", data), key);
    expect(result).toEqual({ key, size: data.length, etag: md5Hex(data), replaced: false });
    expect(rig.proxy.count({ op: "PutObject", key })).toBe(2);
    expect(await stored(key)).toEqual(data);
  });

  it("multipart: CompleteMultipartUpload repeated after its answer was lost is this call's own write (multipart ETag)", async () => {
    const store = rig.store();
    const key = "lost/multipart.bin";
    const data = randomBytes(11 * MIB);
    rig.proxy.inject({ op: "CompleteMultipartUpload", key, times: 1, fault: lostAnswer });
    const result = await uploadFile(store, await file("lost-multipart.bin", data), key);
    expect(result).toMatchObject({ key, size: data.length, replaced: false });
    expect(result.etag).toMatch(/-3$/);
    expect(rig.proxy.attempts({ op: "CompleteMultipartUpload", key })).toEqual([1, 2]);
    expect(md5Hex((await stored(key))!)).toBe(md5Hex(data));
    expect(rig.server.openUploads()).toEqual([]);
  });

  it("overwrite, multipart: a repeated CompleteMultipartUpload that finds its upload gone (NoSuchUpload) is this call's own write", async () => {
    const store = rig.store();
    const key = "lost/overwrite-multipart.bin";
    await raw.send(new PutObjectCommand({ Bucket: rig.server.bucket, Key: key, Body: "old" }));
    const data = randomBytes(11 * MIB);
    rig.proxy.inject({ op: "CompleteMultipartUpload", key, times: 1, fault: lostAnswer });
    const result = await uploadFile(store, await file("lost-overwrite.bin", data), key, { overwrite: true });
    expect(result).toMatchObject({ key, size: data.length, replaced: true });
    expect(rig.proxy.attempts({ op: "CompleteMultipartUpload", key })).toEqual([1, 2]);
    expect(md5Hex((await stored(key))!)).toBe(md5Hex(data));
    expect(rig.server.openUploads()).toEqual([]);
  });

  it("when another writer's bytes are what the repeat finds, it is already_exists and theirs stay", async () => {
    const store = rig.store();
    const key = "lost/theirs.txt";
    rig.proxy.inject({
      op: "PutObject",
      key,
      times: 1,
      // Our first attempt never arrives; meanwhile someone else creates the key.
      before: async () => void (await raw.send(new PutObjectCommand({ Bucket: rig.server.bucket, Key: key, Body: "theirs" }))),
      fault: { kind: "reset" },
    });
    const err = await failureOf(store.put(key, { kind: "bytes", data: Buffer.from("mine!!") }, { mode: "create" }));
    expect(err.kind).toBe("already_exists");
    expect(rig.proxy.attempts({ op: "PutObject", key })).toEqual([1, 2]);
    expect((await stored(key))?.toString()).toBe("theirs");
  });
});

describe("retry logging", () => {
  it("logs operation, key, attempts and delay, never headers or credentials", async () => {
    const { log, entries } = captureLog();
    const store = new S3Store({ ...storeConfig(rig.server, rig.proxy.endpoint), log });
    try {
      const key = "log/a.txt";
      rig.proxy.inject({ op: "PutObject", key, times: 1, fault: { kind: "respond", status: 500, code: "InternalError" } });
      await store.put(key, { kind: "bytes", data: Buffer.from("a") }, { mode: "create" });
      const entry = entries.find((e) => e.message === "PutObject succeeded after 2 attempts");
      expect(entry?.data).toMatchObject({ operation: "PutObject", key, attempts: 2 });
      expect(typeof entry?.data?.retry_delay_ms).toBe("number");
      const text = JSON.stringify(entries);
      expect(text).not.toContain(rig.server.credentials.secretAccessKey);
      expect(text).not.toContain(rig.server.credentials.accessKeyId);
      expect(text).not.toMatch(/authorization|x-amz-date|signature/i);
    } finally {
      await store.close();
    }
  });
});
