/**
 * Directory transfers under faults, through the fault proxy in front of the real local S3 server:
 * the error says exactly which files completed, which failed and which never started (no copy
 * still running behind the caller's back), and repeating the same call finishes the job, the
 * completed ones reported as skipped (same size and ETag/MD5), not as conflicts.
 */
import { randomBytes } from "node:crypto";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadDirectory, uploadDirectory } from "../../src/core/transfer/index.js";
import { failureOf } from "../helpers/assert.js";
import { md5Hex } from "../helpers/bytes.js";
import { partFiles, snapshotTree } from "../helpers/tmp.js";
import { type FaultRig, startFaultRig } from "./setup.js";

let rig: FaultRig;
let raw: S3Client;
const names = Array.from({ length: 8 }, (_, i) => `f${i}.bin`);
const contents = new Map(names.map((n) => [n, randomBytes(64 * 1024 + names.indexOf(n))]));

beforeAll(async () => {
  rig = await startFaultRig();
  raw = rig.server.rawClient();
});
afterAll(async () => {
  raw?.destroy();
  await rig?.close();
});

async function localTree(name: string): Promise<string> {
  const dir = path.join(rig.tmp.path, name);
  await mkdir(path.join(dir, "sub"), { recursive: true });
  for (const [n, data] of contents) await writeFile(path.join(dir, n === "f7.bin" ? `sub/${n}` : n), data);
  return dir;
}

const relative = (n: string) => (n === "f7.bin" ? `sub/${n}` : n);

/** key → md5 of every object under the prefix, read from the server directly. */
async function bucketTree(prefix: string): Promise<Record<string, string>> {
  const out = await raw.send(new ListObjectsV2Command({ Bucket: rig.server.bucket, Prefix: prefix }));
  const tree: Record<string, string> = {};
  for (const o of out.Contents ?? []) {
    const got = await raw.send(new GetObjectCommand({ Bucket: rig.server.bucket, Key: o.Key }));
    tree[o.Key!] = md5Hex(await got.Body!.transformToByteArray());
  }
  return tree;
}

const sorted = (items: unknown) => [...(items as string[])].sort();

describe("upload_directory under faults", () => {
  it("a key that keeps failing: the error lists completed / failed / not started exactly; the same call again finishes", async () => {
    const store = rig.store({ maxAttempts: 2 });
    const dir = await localTree("up-fail");
    const keys = names.map((n) => `updir/${relative(n)}`);
    const broken = rig.proxy.inject({
      op: "PutObject",
      key: "updir/f3.bin",
      fault: { kind: "respond", status: 500, code: "InternalError" },
    });
    // f2 is still being written when f3 gives up.
    rig.proxy.inject({ op: "PutObject", key: "updir/f2.bin", times: 1, fault: { kind: "delay", ms: 300 } });

    const err = await failureOf(uploadDirectory(store, dir, "updir", { maxWorkers: 2 }));
    // Nothing still running behind the caller's back once the call has answered.
    expect(rig.proxy.inFlight).toBe(0);
    expect(err.kind).toBe("unavailable");
    const { completed, failed, notStarted } = err.details as { completed: string[]; failed: string[]; notStarted: string[] };
    expect(failed).toEqual(["updir/f3.bin"]);
    // A partition of the plan: nothing lost, nothing counted twice.
    expect(sorted([...completed, ...failed, ...notStarted])).toEqual(sorted(keys));
    expect(err.message).toMatch(
      new RegExp(
        `${completed.length} of 8 completed; failed: "updir/f3.bin" \\(unavailable\\); ${notStarted.length} not started; repeat the call`,
      ),
    );
    // Exactly the completed keys exist, each byte for byte: nothing was still being written.
    const afterFailure = await bucketTree("updir/");
    expect(sorted(Object.keys(afterFailure))).toEqual(sorted(completed));
    for (const key of completed) expect(afterFailure[key]).toBe(md5Hex(contents.get(path.basename(key))!));
    expect(rig.proxy.attempts({ op: "PutObject", key: "updir/f3.bin" })).toHaveLength(2);

    broken.remove();
    const again = await uploadDirectory(store, dir, "updir", { maxWorkers: 2 });
    expect(sorted(again.skipped)).toEqual(sorted(completed));
    expect(sorted(again.items)).toEqual(sorted([...failed, ...notStarted]));
    expect(again.conflicts).toEqual([]);
    const finished = await bucketTree("updir/");
    expect(finished).toEqual(Object.fromEntries(keys.map((k) => [k, md5Hex(contents.get(path.basename(k))!)])));
  });

  it("every file's first PUT cut mid-body: each is sent again and the directory completes byte for byte", async () => {
    const store = rig.store();
    const dir = await localTree("up-cut");
    const cutOnce = new Set<string>();
    const firstPut = (key: string) => !cutOnce.has(key) && cutOnce.add(key).has(key);
    rig.proxy.inject({
      op: "PutObject",
      key: /^upcut\//,
      test: (r) => firstPut(r.key),
      fault: { kind: "drop-request-body", afterBytes: 1000 },
    });
    const result = await uploadDirectory(store, dir, "upcut", { maxWorkers: 4 });
    expect(result.transferred).toBe(names.length);
    expect(rig.proxy.count({ op: "PutObject", key: /^upcut\// })).toBe(2 * names.length);
    expect(await bucketTree("upcut/")).toEqual(Object.fromEntries(names.map((n) => [`upcut/${relative(n)}`, md5Hex(contents.get(n)!)])));
  });
});

describe("download_directory under faults", () => {
  it("an object cut mid-body every time: exactly the completed files exist, no temporary file; the same call again finishes", async () => {
    for (const n of names)
      await raw.send(new PutObjectCommand({ Bucket: rig.server.bucket, Key: `dndir/${relative(n)}`, Body: contents.get(n) }));
    const store = rig.store({ maxAttempts: 2 });
    const out = path.join(rig.tmp.path, "dn-fail");
    const broken = rig.proxy.inject({ op: "GetObject", key: "dndir/f5.bin", fault: { kind: "drop-response-body", afterBytes: 1000 } });
    rig.proxy.inject({ op: "GetObject", key: "dndir/f4.bin", times: 1, fault: { kind: "delay", ms: 300 } });

    const err = await failureOf(downloadDirectory(store, "dndir", out, { maxWorkers: 3 }));
    expect(rig.proxy.inFlight).toBe(0);
    expect(err.kind).toBe("unavailable");
    const { completed, failed, notStarted } = err.details as { completed: string[]; failed: string[]; notStarted: string[] };
    const target = (n: string) => path.join(out, relative(n));
    expect(failed).toEqual([target("f5.bin")]);
    expect(sorted([...completed, ...failed, ...notStarted])).toEqual(sorted(names.map(target)));
    // On disk: the completed files, byte for byte, and nothing else (directories aside).
    const files = Object.entries(await snapshotTree(out)).filter(([, v]) => v !== "dir");
    expect(sorted(files.map(([p]) => path.join(out, p)))).toEqual(sorted(completed));
    for (const p of completed) expect(md5Hex(await readFile(p))).toBe(md5Hex(contents.get(path.basename(p))!));
    expect(await partFiles(out, { missingOk: true })).toEqual([]);
    // One GET and one resume, both cut.
    expect(rig.proxy.count({ op: "GetObject", key: "dndir/f5.bin" })).toBe(2);

    broken.remove();
    const again = await downloadDirectory(store, "dndir", out, { maxWorkers: 3 });
    expect(sorted(again.skipped)).toEqual(sorted(completed));
    expect(sorted(again.items)).toEqual(sorted([...failed, ...notStarted]));
    for (const n of names) expect(md5Hex(await readFile(target(n)))).toBe(md5Hex(contents.get(n)!));
  });
});
