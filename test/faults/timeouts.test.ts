/**
 * A hung server and transfers cut or stalled mid-body, through the fault proxy in front of the
 * real local S3 server. A hang is a socket that never answers: the client's idle-socket timeout
 * (1 s here) ends the attempt; nothing in these tests sleeps.
 */
import { randomBytes } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTemp, discardTemp } from "../../src/core/fs/atomic-write.js";
import { CheckedDir } from "../../src/core/fs/descriptor.js";
import { fetchObjectInto } from "../../src/core/transfer/fetch.js";
import { downloadFile } from "../../src/core/transfer/index.js";
import { failureOf } from "../helpers/assert.js";
import { MIB, md5Hex, readAll } from "../helpers/bytes.js";
import { partFiles } from "../helpers/tmp.js";
import { captureLog, type FaultRig, startFaultRig } from "./setup.js";

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

async function seed(key: string, data: Buffer): Promise<void> {
  await raw.send(new PutObjectCommand({ Bucket: rig.server.bucket, Key: key, Body: data }));
}

describe("a server that does not answer", () => {
  it("never answers: unavailable once every attempt has timed out, naming the endpoint", async () => {
    const store = rig.store({ maxAttempts: 2 });
    const prefix = "hang/forever/";
    rig.proxy.inject({ op: "ListObjectsV2", test: (r) => r.query.get("prefix") === prefix, fault: { kind: "hang" } });
    const err = await failureOf(store.list({ prefix }));
    expect(err.kind).toBe("unavailable");
    expect(err.message).toContain(rig.proxy.endpoint);
    expect(err.message).toMatch(/after 2 attempts \(TimeoutError\); check the endpoint URL/);
    expect(rig.proxy.attempts({ op: "ListObjectsV2", test: (r) => r.query.get("prefix") === prefix })).toEqual([1, 2]);
  });

  it("hangs once, then answers: the timed-out attempt is repeated", async () => {
    const store = rig.store();
    const key = "hang/once.txt";
    await seed(key, Buffer.from("here"));
    rig.proxy.inject({ op: "HeadObject", key, times: 1, fault: { kind: "hang" } });
    expect((await store.head(key))?.size).toBe(4);
    expect(rig.proxy.attempts({ op: "HeadObject", key })).toEqual([1, 2]);
  });

  it("answers slowly but within the idle timeout: no retry", async () => {
    const store = rig.store();
    const key = "hang/slow.txt";
    await seed(key, Buffer.from("slow"));
    rig.proxy.inject({ op: "GetObject", key, times: 1, fault: { kind: "delay", ms: 200 } });
    expect((await readAll((await store.get(key)).body)).toString()).toBe("slow");
    expect(rig.proxy.attempts({ op: "GetObject", key })).toEqual([1]);
  });
});

describe("downloads cut or stalled mid-body", () => {
  const data = randomBytes(MIB + 17);

  it("cut mid-body once: resumed from the byte it stopped at (same ETag), the file is byte for byte", async () => {
    const { log, entries } = captureLog();
    const store = rig.store({ log });
    const key = "cut/once.bin";
    await seed(key, data);
    rig.proxy.inject({ op: "GetObject", key, times: 1, fault: { kind: "drop-response-body", afterBytes: 300_000 } });
    const target = path.join(rig.tmp.path, "cut-once", "once.bin");
    const got = await downloadFile(store, key, target);
    expect(got).toMatchObject({ size: data.length, etag: md5Hex(data) });
    expect(md5Hex(await readFile(target))).toBe(md5Hex(data));
    // The second GET asks for the rest from the byte the first one stopped at: at most the 300000
    // the proxy relayed (bytes still buffered in the client when the socket broke are dropped with it).
    const gets = rig.proxy.requests.filter((r) => r.op === "GetObject" && r.key === key);
    expect(gets).toHaveLength(2);
    expect(gets[0]?.range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-(\d+)$/.exec(gets[1]?.range ?? "")?.[1]);
    expect(gets[1]?.range).toBe(`bytes=${resumedAt}-${data.length - 1}`);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(300_000);
    expect(await partFiles(rig.tmp.path, { missingOk: true })).toEqual([]);
    expect(entries.some((e) => e.message.startsWith(`reading "${key}" stopped at byte ${resumedAt}`))).toBe(true);
  });

  it("stalled mid-body (the socket goes silent): the idle timeout ends it and the rest is fetched", async () => {
    const store = rig.store();
    const key = "stall/once.bin";
    await seed(key, data);
    rig.proxy.inject({ op: "GetObject", key, times: 1, fault: { kind: "stall-response-body", afterBytes: 500_000 } });
    const target = path.join(rig.tmp.path, "stall-once", "once.bin");
    await downloadFile(store, key, target);
    expect(md5Hex(await readFile(target))).toBe(md5Hex(data));
    const gets = rig.proxy.requests.filter((r) => r.op === "GetObject" && r.key === key);
    expect(gets).toHaveLength(2);
    const resumedAt = Number(/^bytes=(\d+)-/.exec(gets[1]?.range ?? "")?.[1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(500_000);
  });

  it("cut every time: unavailable after the attempts run out, no file at the target and no temporary file", async () => {
    const store = rig.store();
    const key = "cut/always.bin";
    await seed(key, data);
    rig.proxy.inject({ op: "GetObject", key, fault: { kind: "drop-response-body", afterBytes: 100_000 } });
    const dir = path.join(rig.tmp.path, "cut-always");
    const err = await failureOf(downloadFile(store, key, path.join(dir, "always.bin")));
    expect(err.kind).toBe("unavailable");
    expect(err.message).toMatch(/repeat the call/);
    expect(rig.proxy.count({ op: "GetObject", key })).toBe(3);
    expect(await readdir(dir)).toEqual([]);
  });

  it("ranged downloads resume each range on its own", async () => {
    const store = rig.store();
    const key = "cut/ranged.bin";
    await seed(key, data);
    // Ranges of 256 KiB: the second one is cut after 1000 bytes.
    rig.proxy.inject({
      op: "GetObject",
      key,
      test: (r) => r.range === "bytes=262144-524287",
      times: 1,
      fault: { kind: "drop-response-body", afterBytes: 1000 },
    });
    const target = path.join(rig.tmp.path, "ranged.bin");
    const dir = await CheckedDir.open(path.dirname(target), { roots: undefined, argument: "target", shown: target }, { create: false });
    const tmp = await createTemp(dir, path.basename(target));
    try {
      const got = await fetchObjectInto(store, key, tmp, {
        knownSize: data.length,
        rangeThreshold: 256 * 1024,
        partSize: 256 * 1024,
        concurrency: 2,
      });
      expect(got.size).toBe(data.length);
      await tmp.handle.sync();
      expect(md5Hex(await readFile(tmp.path))).toBe(md5Hex(data));
    } finally {
      await discardTemp(tmp);
      await dir.close();
    }
    // Six ranges, the cut one asked for once and then resumed from where it stopped (not from its start).
    const ranges = rig.proxy.requests.filter((r) => r.op === "GetObject" && r.key === key).map((r) => r.range ?? "");
    expect(ranges).toHaveLength(6);
    expect(ranges.filter((r) => r === "bytes=262144-524287")).toHaveLength(1);
    const resumed = ranges.filter((r) => /^bytes=\d+-524287$/.test(r) && r !== "bytes=262144-524287");
    expect(resumed).toHaveLength(1);
    expect(Number(/^bytes=(\d+)-/.exec(resumed[0]!)?.[1])).toBeGreaterThan(262144);
  });
});
