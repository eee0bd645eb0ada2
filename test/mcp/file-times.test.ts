/**
 * Times other tools honour (SPEC "What an assistant reads, 0.2"): a download gives the local file
 * the object's `mtime` metadata (rclone's) or else its Last-Modified; an upload stores the local
 * file's mtime as `mtime`. In process, on both backends; test/integration/interop.test.ts runs
 * aws-cli and rclone against the result.
 */
import { stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { outputShape } from "../../src/mcp/tool.js";
import { copyObjects } from "../../src/mcp/tools/copy-objects.js";
import { downloadDirectory } from "../../src/mcp/tools/download-directory.js";
import { downloadFile } from "../../src/mcp/tools/download-file.js";
import { uploadDirectory } from "../../src/mcp/tools/upload-directory.js";
import { uploadFile } from "../../src/mcp/tools/upload-file.js";
import { BACKENDS, callOk, type InProcessServer, useInProcess, writeTree } from "../helpers/in-process.js";

/** A file's access and modification times in nanoseconds. */
async function timesOf(file: string): Promise<{ atime: bigint; mtime: bigint }> {
  const s = await stat(file, { bigint: true });
  return { atime: s.atimeNs, mtime: s.mtimeNs };
}

/**
 * How far a file's time is from `ns`. Node sets times as a double of seconds (good to about
 * 0.25 µs), and Node 20 cuts them to the microsecond: within 1 µs is as near as Node gets (single-part
 * objects; multipart ones are set exactly, see test/integration/interop.test.ts).
 */
async function offBy(file: string, ns: bigint): Promise<{ atime: bigint; mtime: bigint }> {
  const { atime, mtime } = await timesOf(file);
  const abs = (n: bigint) => (n < 0n ? -n : n);
  return { atime: abs(atime - ns), mtime: abs(mtime - ns) };
}

const withinMicrosecond = (off: { atime: bigint; mtime: bigint }) => off.atime < 1000n && off.mtime < 1000n;

/** rclone's form of a time: seconds, a dot, nine digits. */
function rcloneForm(ns: bigint): string {
  const text = ns.toString().padStart(10, "0");
  return `${text.slice(0, -9)}.${text.slice(-9)}`;
}

/** The object's Last-Modified as its listing tells it (to the millisecond), in nanoseconds. */
async function listedTime(server: InProcessServer, key: string): Promise<bigint> {
  const found = (await server.store.list({ prefix: key })).objects.find((o) => o.key === key);
  if (!found) throw new Error(`${key} is not listed`);
  return BigInt(found.lastModified.getTime()) * 1_000_000n;
}

const put = (server: InProcessServer, key: string, data: string, metadata?: Record<string, string>) =>
  server.store.put(key, { kind: "bytes", data: Buffer.from(data) }, { mode: "create", ...(metadata ? { metadata } : {}) });

describe.each(BACKENDS)("file times, %s backend", (backend) => {
  const env = useInProcess(backend);

  it("download_file gives the file the object's Last-Modified (atime too), or its mtime metadata to the microsecond", async () => {
    const server = await env.start();
    await put(server, "plain.txt", "plain");
    await put(server, "rclone.txt", "rclone", { mtime: "1700000000.123456789" });
    await put(server, "short.txt", "short", { mtime: "1600000000.5" });
    await put(server, "garbled.txt", "garbled", { mtime: "yesterday" });
    const expected: Record<string, bigint> = {
      "plain.txt": await listedTime(server, "plain.txt"),
      "rclone.txt": 1_700_000_000_123_456_789n,
      "short.txt": 1_600_000_000_500_000_000n,
      // Not a time: Last-Modified instead.
      "garbled.txt": await listedTime(server, "garbled.txt"),
    };
    for (const [key, time] of Object.entries(expected)) {
      const target = path.join(server.root, key);
      await callOk(server.client, downloadFile, { key, local_path: target });
      const off = await offBy(target, time);
      expect(withinMicrosecond(off), `${key}: off by ${off.mtime} ns`).toBe(true);
    }
  });

  it("download_file with overwrite gives the replaced file the object's time", async () => {
    const server = await env.start();
    await put(server, "m.csv", "x,y\n", { mtime: "1650000000.000001" });
    const target = path.join(server.root, "m.csv");
    await writeFile(target, "older");
    await callOk(server.client, downloadFile, { key: "m.csv", local_path: target, overwrite: true });
    expect(withinMicrosecond(await offBy(target, 1_650_000_000_000_001_000n))).toBe(true);
  });

  it("download_directory gives every file its object's time; identical files are skipped and left as they are", async () => {
    const server = await env.start();
    await put(server, "d/a.txt", "alpha");
    await put(server, "d/sub/b.txt", "bravo", { mtime: "1500000000.25" });
    await put(server, "d/sub/c.txt", "charlie");
    const out = path.join(server.root, "out");
    // c.txt is there already with the same bytes and a time of its own.
    await writeTree(out, { "sub/c.txt": "charlie" });
    await utimes(path.join(out, "sub", "c.txt"), 1_400_000_000, 1_400_000_000);

    const { structured } = await callOk(server.client, downloadDirectory, { prefix: "d", local_dir: out });
    expect(structured).toMatchObject({ downloaded: 2, skipped: [path.join(out, "sub", "c.txt")] });
    expect(withinMicrosecond(await offBy(path.join(out, "a.txt"), await listedTime(server, "d/a.txt")))).toBe(true);
    expect(withinMicrosecond(await offBy(path.join(out, "sub", "b.txt"), 1_500_000_000_250_000_000n))).toBe(true);
    // Left exactly as it was.
    expect((await timesOf(path.join(out, "sub", "c.txt"))).mtime).toBe(1_400_000_000_000_000_000n);

    const again = await callOk(server.client, downloadDirectory, { prefix: "d", local_dir: out });
    expect(again.structured).toMatchObject({ downloaded: 0, planned: 0 });
    expect(again.structured.skipped).toHaveLength(3);
  });

  it("upload_file stores the file's mtime to the nanosecond as mtime metadata, on a single PUT", async () => {
    const server = await env.start();
    const file = path.join(server.root, "r.bin");
    await writeFile(file, "result");
    const { mtime } = await timesOf(file);
    await callOk(server.client, uploadFile, { local_path: file, key: "r.bin" });
    expect((await server.store.head("r.bin"))?.metadata).toEqual({ mtime: rcloneForm(mtime) });

    await utimes(file, 1_700_000_000.5, 1_700_000_000.5);
    await callOk(server.client, uploadFile, { local_path: file, key: "r.bin", overwrite: true });
    expect((await server.store.head("r.bin"))?.metadata).toEqual({ mtime: "1700000000.500000000" });

    // And back: a download gives the file the time it had.
    const back = path.join(server.root, "back.bin");
    await callOk(server.client, downloadFile, { key: "r.bin", local_path: back });
    expect(withinMicrosecond(await offBy(back, 1_700_000_000_500_000_000n))).toBe(true);
  });

  it("upload_directory stores each file's mtime; a repeated call still skips identical objects", async () => {
    const server = await env.start();
    const dir = path.join(server.root, "tree");
    await writeTree(dir, { "a.txt": "alpha", "sub/b.txt": "bravo" });
    await utimes(path.join(dir, "sub", "b.txt"), 1_234_567_890, 1_234_567_890);
    const a = (await timesOf(path.join(dir, "a.txt"))).mtime;
    await callOk(server.client, uploadDirectory, { local_dir: dir, prefix: "up" });
    expect((await server.store.head("up/a.txt"))?.metadata).toEqual({ mtime: rcloneForm(a) });
    expect((await server.store.head("up/sub/b.txt"))?.metadata).toEqual({ mtime: "1234567890.000000000" });

    const again = await callOk(server.client, uploadDirectory, { local_dir: dir, prefix: "up" });
    expect(again.structured).toMatchObject({ uploaded: 0, planned: 0 });
    expect([...again.structured.skipped].sort()).toEqual(["up/a.txt", "up/sub/b.txt"]);
  });

  it("copy_objects carries the mtime along: within a bucket, to another bucket and streamed to a local store", async () => {
    const server = await env.start({
      moreBuckets: [{ name: "second", backend }, ...(backend === "s3" ? [{ name: "scratch", backend: "local" as const }] : [])],
    });
    await put(server, "src/r.csv", "a,b\n", { mtime: "1700000000.123456789" });
    const copy = { name: copyObjects.name, output: outputShape(copyObjects) };
    const targets = [
      { bucket: server.store.name, key: "dst/r.csv" },
      { bucket: "second", key: "r.csv" },
      ...(backend === "s3" ? [{ bucket: "scratch", key: "r.csv" }] : []),
    ];
    for (const { bucket, key } of targets) {
      await callOk(server.client, copy, { source: "src/r.csv", source_bucket: server.store.name, destination: key, bucket });
      expect((await server.stores[bucket]?.head(key))?.metadata, bucket).toEqual({ mtime: "1700000000.123456789" });
    }
  });
});
