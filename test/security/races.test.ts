/**
 * Races against confinement and consistency (issue 17), over stdio with the built CLI on both
 * backends. Someone able to write inside a root while a call runs swaps a checked file or folder
 * for a symlink (renameat2(RENAME_EXCHANGE) in a tiny C helper, bounded by its count), rewrites a
 * file while it is uploaded, or races writes and deletes of one key. Every round is counted and
 * every loop is bounded by count; nothing here waits on time. Each test prints its rounds and
 * outcomes ("race report") for the issue note.
 *
 * The invariant in every swap test: nothing outside the roots is read (every stored object holds
 * the bytes of the file inside the root it was uploaded from) or written (the outside tree is
 * byte-for-byte unchanged), whatever each call answered.
 */
import { execFileSync } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { plantObjects } from "../helpers/bucket.js";
import { type S3TestServer, startS3Server, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { BACKENDS, localCli, type RunningServer, s3Cli, startClient } from "../helpers/start-client.js";
import { buildRaceHelper, startFlipping, startSwapping } from "../helpers/swapper.js";
import { filesUnder, makeTempDir, snapshotTree, type TempDir, writeTree } from "../helpers/tmp.js";

/** Exchanges per helper run: far more than the rounds need; the helper is stopped when they end. */
const SWAPS = 50_000_000;
const FILES = 12;
const INSIDE = (name: string) => `inside the root: ${name}\n`;
const OUTSIDE = "OUTSIDE THE ROOTS: must never be read or replaced\n";

function codeOf(result: { isError?: boolean; text: string }): string {
  return result.isError ? result.text.slice(0, result.text.indexOf(":")) : "ok";
}

function tally(codes: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of codes) out[c] = (out[c] ?? 0) + 1;
  return out;
}

function report(name: string, figures: Record<string, unknown>): void {
  console.info(`race report: ${name}: ${JSON.stringify(figures)}`);
}

describe.each(BACKENDS)("races, %s backend", (backend) => {
  let tmp: TempDir;
  let s3: S3TestServer | undefined;
  let raw: S3Client | undefined;
  let root: string;
  let outside: string;
  let store: string;
  let server: RunningServer;
  let bin: string | undefined;
  let skip = "";

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-races-");
    root = path.join(tmp.path, "root");
    outside = path.join(tmp.path, "outside");
    store = path.join(tmp.path, "store");
    const names = Array.from({ length: FILES }, (_, i) => `f${i}`);
    await writeTree(
      outside,
      Object.fromEntries(
        names.flatMap((n) => [
          [`d/${n}`, OUTSIDE],
          [`dd/x-${n}`, OUTSIDE],
        ]),
      ),
    );
    await writeTree(root, {
      ...Object.fromEntries(names.map((n) => [`up/d/${n}`, INSIDE(n)])),
      "up/p/environ": INSIDE("environ"),
      "up/p/cmdline": INSIDE("cmdline"),
      // Same depth as up/d and up/p, so the relative link means the same wherever it is swapped to.
      "stash/d": { link: "../../outside/d" },
      "stash/p": { link: "/proc/self" },
      "stash/dd": { link: "../../outside/dd" },
      "down/d/keep.txt": "kept",
      ...Object.fromEntries(["r0", "r1", "r2", "r3"].map((n) => [`up5/q/${n}`, INSIDE(n)])),
      "stash/q": { link: "../fifos" },
      "fifos/.keep": INSIDE(".keep"),
    });
    for (const n of ["r0", "r1", "r2", "r3"]) execFileSync("mkfifo", [path.join(root, "fifos", n)]);
    const objects = Object.fromEntries(names.map((n) => [`dl/d/x-${n}`, `object ${n}\n`]));
    const args = ["--root", root];
    if (backend === "s3") {
      s3 = await startS3Server();
      raw = s3.rawClient();
      await plantObjects(raw, s3.bucket, objects);
      server = await startClient({ ...s3Cli(s3, args), cwd: root, listTools: true });
    } else {
      await writeTree(store, objects);
      server = await startClient({ ...localCli(store, args), cwd: root, listTools: true });
    }
    const built = await buildRaceHelper(tmp.path);
    if ("bin" in built) bin = built.bin;
    else skip = built.skip;
  });

  afterAll(async () => {
    await server?.close();
    raw?.destroy();
    await s3?.close();
    await tmp?.cleanup();
  });

  /** Every object under `prefix` with its bytes, read straight from the backend. */
  async function objectsUnder(prefix: string): Promise<Map<string, Buffer>> {
    const out = new Map<string, Buffer>();
    if (backend === "local") {
      const dir = path.join(store, ...prefix.split("/").filter(Boolean));
      for (const rel of await filesUnder(dir).catch(() => [] as string[])) {
        out.set(prefix + rel, await readFile(path.join(dir, rel)));
      }
      return out;
    }
    const page = await raw!.send(new ListObjectsV2Command({ Bucket: s3!.bucket, Prefix: prefix }));
    for (const o of page.Contents ?? []) {
      const got = await raw!.send(new GetObjectCommand({ Bucket: s3!.bucket, Key: o.Key! }));
      out.set(o.Key!, Buffer.from(await got.Body!.transformToByteArray()));
    }
    return out;
  }

  /** The bytes of one object, read straight from the backend (empty when it is missing). */
  async function objectBytes(key: string): Promise<Buffer> {
    if (backend === "local") return readFile(path.join(store, ...key.split("/"))).catch(() => Buffer.alloc(0));
    const got = await raw!.send(new GetObjectCommand({ Bucket: s3!.bucket, Key: key }));
    return Buffer.from(await got.Body!.transformToByteArray());
  }

  /** Objects whose bytes are not those of the file inside the root they name: each one a leak. */
  function leaks(objects: Map<string, Buffer>): string[] {
    const bad: string[] = [];
    for (const [key, data] of objects) {
      const text = data.toString("utf8");
      if (text !== INSIDE(path.posix.basename(key)) || text.includes(TEST_SECRET_ACCESS_KEY)) bad.push(key);
    }
    return bad;
  }

  it("upload_directory: folders swapped for symlinks (to outside and to /proc/self) after the walk never upload what they point to", async (ctx) => {
    if (!bin) return ctx.skip(skip);
    const before = await snapshotTree(outside);
    const swapping = startSwapping(bin, SWAPS, [
      [path.join(root, "up", "d"), path.join(root, "stash", "d")],
      [path.join(root, "up", "p"), path.join(root, "stash", "p")],
    ]);
    const codes: string[] = [];
    const leaked: string[] = [];
    let stored = 0;
    try {
      for (let round = 0; round < 8; round++) {
        const prefix = `f1/r${round}/`;
        const result = await server.call("upload_directory", { local_dir: "up", prefix, overwrite: true, max_workers: 4 });
        codes.push(codeOf(result));
        const objects = await objectsUnder(prefix);
        stored += objects.size;
        leaked.push(...leaks(objects));
      }
    } finally {
      await swapping.stop();
    }
    report(`F1 upload_directory folder swap (${backend})`, { rounds: 8, results: tally(codes), objects: stored, leaked: leaked.length });
    expect(leaked).toEqual([]);
    expect(codes.filter((c) => !["ok", "outside_roots", "unavailable", "not_found"].includes(c))).toEqual([]);
    expect(await snapshotTree(outside)).toEqual(before);
  });

  it("upload_file: a folder on the path flipping to a symlink never uploads the outside file", async (ctx) => {
    if (!bin) return ctx.skip(skip);
    const swapping = startSwapping(bin, SWAPS, [[path.join(root, "up", "d"), path.join(root, "stash", "d")]]);
    const codes: string[] = [];
    const leaked: string[] = [];
    try {
      for (let i = 0; i < 150; i++) {
        const key = `f1b/c${i}/f0`;
        const result = await server.call("upload_file", { local_path: "up/d/f0", key });
        codes.push(codeOf(result));
        leaked.push(...leaks(await objectsUnder(`f1b/c${i}/`)));
      }
    } finally {
      await swapping.stop();
    }
    report(`F1 upload_file folder flip (${backend})`, { calls: 150, results: tally(codes), leaked: leaked.length });
    expect(leaked).toEqual([]);
    expect(codes.filter((c) => !["ok", "outside_roots", "unavailable", "not_found"].includes(c))).toEqual([]);
  });

  it("download_directory and download_file with overwrite: a folder swapped for a symlink never gets a byte written outside", async (ctx) => {
    if (!bin) return ctx.skip(skip);
    const before = await snapshotTree(outside);
    const swapping = startSwapping(bin, SWAPS, [[path.join(root, "down", "d"), path.join(root, "stash", "dd")]]);
    const dirCodes: string[] = [];
    const fileCodes: string[] = [];
    try {
      for (let round = 0; round < 10; round++) {
        const result = await server.call("download_directory", { prefix: "dl/", local_dir: "down", overwrite: true, max_workers: 4 });
        dirCodes.push(codeOf(result));
      }
      for (let i = 0; i < 150; i++) {
        const result = await server.call("download_file", { key: "dl/d/x-f0", local_path: "down/d/x-f0", overwrite: true });
        fileCodes.push(codeOf(result));
      }
    } finally {
      await swapping.stop();
    }
    const after = await snapshotTree(outside);
    const changed = Object.keys({ ...before, ...after }).filter((k) => before[k] !== after[k]);
    report(`F2 downloads into a swapped folder (${backend})`, {
      download_directory: { rounds: 10, results: tally(dirCodes) },
      download_file: { calls: 150, results: tally(fileCodes) },
      outside_entries_changed: changed.length,
    });
    expect(changed).toEqual([]);
    const allowed = ["ok", "outside_roots", "unavailable", "not_found", "already_exists"];
    expect([...dirCodes, ...fileCodes].filter((c) => !allowed.includes(c))).toEqual([]);
  });

  it("upload_directory: FIFOs swapped in after the walk are refused at once, and the server keeps answering", async (ctx) => {
    if (!bin) return ctx.skip(skip);
    const swapping = startSwapping(bin, SWAPS, [[path.join(root, "up5", "q"), path.join(root, "stash", "q")]]);
    const codes: string[] = [];
    const leaked: string[] = [];
    try {
      for (let round = 0; round < 10; round++) {
        const prefix = `f5/r${round}/`;
        codes.push(codeOf(await server.call("upload_directory", { local_dir: "up5", prefix, overwrite: true, max_workers: 8 })));
        // Still serving between rounds: a listing answers.
        expect(codeOf(await server.call("list_objects", { prefix: "f5/", limit: 5 }))).toBe("ok");
        leaked.push(...leaks(await objectsUnder(prefix)));
      }
    } finally {
      await swapping.stop();
    }
    report(`F5 FIFOs swapped in (${backend})`, { rounds: 10, results: tally(codes), wrong_objects: leaked.length });
    // No object holds anything but the regular file's bytes (a FIFO read would store 0 bytes).
    expect(leaked).toEqual([]);
    expect(codes.filter((c) => !["ok", "invalid_argument", "unavailable", "not_found"].includes(c))).toEqual([]);
  });

  it("upload_file: a file rewritten while it is uploaded is stored as one state of it or refused naming it, never a mix", async (ctx) => {
    if (!bin) return ctx.skip(skip);
    const file = path.join(root, "flip.bin");
    const [sizeA, sizeB] = [300 * 1024, 700 * 1024];
    await writeFile(file, Buffer.alloc(sizeA, "a"));
    const flipping = startFlipping(bin, 1_000_000, file, sizeA, sizeB);
    const codes: string[] = [];
    const mixed: string[] = [];
    try {
      for (let i = 0; i < 40; i++) {
        const key = `f9d/c${i}`;
        const result = await server.call("upload_file", { local_path: "flip.bin", key });
        codes.push(codeOf(result));
        if (result.isError) {
          expect(result.text).toContain("flip.bin");
          continue;
        }
        // One state the file was in at one instant: the writer truncates, then appends 'a's or 'b's,
        // so that is a run of one letter no longer than its version (never a mix of the two).
        const data = await objectBytes(key);
        const reported = (result.structuredContent as { size: number }).size;
        const one = (letter: number, size: number) => data.length <= size && data.every((b) => b === letter);
        if (reported !== data.length || !(one(97, sizeA) || one(98, sizeB))) mixed.push(`${key} (${data.length} bytes)`);
      }
    } finally {
      await flipping.stop();
      if (process.env.RACE_DEBUG) console.info(server.stderr());
    }
    report(`F9 file changing during upload_file (${backend})`, { calls: 40, results: tally(codes), mixed_or_partial: mixed.length });
    expect(mixed).toEqual([]);
    expect(codes.filter((c) => !["ok", "unavailable"].includes(c))).toEqual([]);
  });

  it("upload_bytes: 8 concurrent overwrites of one key with different content types, 25 rounds: no internal, the stored pair is a success's", async () => {
    const codes: string[] = [];
    let foreign = 0;
    for (let round = 0; round < 25; round++) {
      const key = `f8/k${round}`;
      const calls = Array.from({ length: 8 }, (_, i) => ({ data: `round ${round} writer ${i}`, content_type: `text/x-writer-${i}` }));
      const results = await Promise.all(calls.map((c) => server.call("upload_bytes", { key, ...c, overwrite: true })));
      codes.push(...results.map(codeOf));
      const head = await server.call("head_object", { key });
      const got = await server.call("get_object_bytes", { key });
      const stored = (got.structuredContent as { data: string }).data;
      const type = (head.structuredContent as { content_type?: string }).content_type;
      const owner = calls.findIndex((c) => c.data === stored);
      if (owner < 0 || codeOf(results[owner]!) !== "ok" || type !== calls[owner]!.content_type) foreign++;
    }
    report(`F8 concurrent overwrites (${backend})`, { rounds: 25, calls: 200, results: tally(codes), keys_not_from_a_success: foreign });
    expect(codes.filter((c) => c !== "ok")).toEqual([]);
    expect(foreign).toBe(0);
  });

  it.runIf(backend === "local")("a delete that prunes an emptied folder never fails concurrent uploads beside it", async () => {
    const codes: string[] = [];
    for (let round = 0; round < 40; round++) {
      const dir = `f9a/r${round}/sub`;
      expect(codeOf(await server.call("upload_bytes", { key: `${dir}/a`, data: "a" }))).toBe("ok");
      const [deleted, ...uploads] = await Promise.all([
        server.call("delete_object", { key: `${dir}/a` }),
        ...[0, 1, 2, 3].map((j) => server.call("upload_bytes", { key: `${dir}/b${j}`, data: `b${j}` })),
      ]);
      expect(codeOf(deleted!)).toBe("ok");
      codes.push(...uploads.map(codeOf));
    }
    report("F9 prune vs sibling uploads (local)", { rounds: 40, uploads: codes.length, results: tally(codes) });
    expect(codes.filter((c) => c !== "ok")).toEqual([]);
  });

  it("temporary files a killed run left beside a download target are removed by the next download there", async () => {
    const dead = deadPid();
    const dir = path.join(root, "stale");
    await mkdir(dir, { recursive: true });
    const planted = [`.x-f0.${dead}.0123456789ab.r2-mcp-part`, `.other.${dead}.ba9876543210.r2-mcp-part`];
    for (const name of planted) await writeFile(path.join(dir, name), "half a download");
    const result = await server.call("download_file", { key: "dl/d/x-f0", local_path: "stale/x-f0" });
    expect(result.isError, result.text).toBeFalsy();
    expect((await filesUnder(dir)).sort()).toEqual(["x-f0"]);
  });

  it.runIf(backend === "local")("temporary files a killed run left in the local store are removed by the next write", async () => {
    const dead = deadPid();
    // A fresh server: the sweep runs once per process, on its first write.
    const fresh = await startClient({ ...localCli(store, ["--root", root]), cwd: root });
    try {
      const tmpDir = path.join(store, ".r2-mcp-tmp");
      const metaDir = path.join(store, ".r2-mcp-meta");
      await mkdir(tmpDir, { recursive: true });
      await mkdir(metaDir, { recursive: true });
      await writeFile(path.join(tmpDir, `.k.${dead}.0123456789ab.r2-mcp-part`), "half an object");
      await writeFile(path.join(metaDir, `${"e".repeat(64)}.${dead}.0123456789ab.tmp`), "text/half");
      const put = await fresh.call("upload_bytes", { key: "f9b/new.txt", data: "x", content_type: "text/x-fresh" });
      expect(put.isError, put.text).toBeFalsy();
      expect(await filesUnder(tmpDir)).toEqual([]);
      expect((await filesUnder(metaDir)).filter((n) => n.endsWith(".tmp"))).toEqual([]);
    } finally {
      await fresh.close();
    }
  });
});

/** The pid of a process that has exited (what a kill -9'd server's temp names carry). */
function deadPid(): number {
  const out = execFileSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"], { encoding: "utf8" });
  return Number(out);
}
