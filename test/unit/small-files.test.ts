/**
 * Small local files written (downloads) and read (uploads) by the files thread (small-files.ts),
 * on real files: what it does on success, that it leaves nothing behind, changes nothing and reads
 * nothing it should not when it cannot do a file, and that directory transfers use it with the
 * same result as the usual way.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CheckedDir, CREATE_FLAGS, READ_FLAGS } from "../../src/core/fs/descriptor.js";
import { OpenFolders } from "../../src/core/fs/folders.js";
import { readSmallFile, smallFilesDone, stopSmallFilesWorker, writeSmallFile } from "../../src/core/fs/small-files.js";
import { LocalStore } from "../../src/core/local/store.js";
import { downloadTo } from "../../src/core/transfer/files.js";
import { downloadDirectory, uploadDirectory } from "../../src/core/transfer/index.js";
import { makeTempDir, partFiles, type TempDir } from "../helpers/tmp.js";

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

const c = (dir: string) => ({ roots: undefined, argument: "local_dir", shown: dir });
const request = (folder: CheckedDir, name: string, bytes: Uint8Array, seconds?: number) => ({
  tmp: folder.entry(`.${name}.tmp`),
  target: folder.entry(name),
  bytes,
  flags: CREATE_FLAGS,
  mode: 0o644,
  seconds,
  folderLink: folder.procLink,
});

describe.runIf(fs.existsSync("/proc/self/fd"))("the small-files thread", () => {
  it("writes the bytes, sets the times, links the file into place and removes its temporary name", async () => {
    const folder = await CheckedDir.open(tmp.path, c(tmp.path), { create: false });
    try {
      const bytes = Buffer.from("four kibibytes, more or less".repeat(150));
      const before = smallFilesDone().placed;
      const placed = await writeSmallFile(request(folder, "a.bin", bytes, 1_700_000_000.25));
      expect(placed).toMatchObject({ tmpLeft: false, folderAt: folder.path });
      const file = path.join(tmp.path, "a.bin");
      const stat = fs.lstatSync(file);
      expect(fs.readFileSync(file)).toEqual(bytes);
      expect(stat.mtimeMs).toBeCloseTo(1_700_000_000_250, 0);
      expect(stat.atimeMs).toBeCloseTo(1_700_000_000_250, 0);
      expect(stat.mode & 0o777).toBe(0o644 & ~process.umask());
      expect([stat.dev, stat.ino]).toEqual([placed?.dev, placed?.ino]);
      expect(fs.readdirSync(tmp.path)).toEqual(["a.bin"]);
      expect(smallFilesDone().placed).toBe(before + 1);
    } finally {
      await folder.close();
    }
  });

  it("writes just the bytes of a view into a larger buffer, and the caller keeps its bytes (for the usual way, should it be needed)", async () => {
    const folder = await CheckedDir.open(tmp.path, c(tmp.path), { create: false });
    try {
      // A small Buffer is often a view into a shared slab (Buffer.poolSize), as here.
      const slab = new Uint8Array(64 * 1024).fill(1);
      const bytes = Buffer.from(slab.buffer, 1000, 4096).fill(7);
      await expect(writeSmallFile(request(folder, "view.bin", bytes))).resolves.toMatchObject({ tmpLeft: false });
      expect(fs.readFileSync(path.join(tmp.path, "view.bin"))).toEqual(Buffer.alloc(4096, 7));
      expect(slab.buffer.byteLength).toBe(64 * 1024);
      expect(bytes).toEqual(Buffer.alloc(4096, 7));
      expect([slab[999], slab[5096]]).toEqual([1, 1]);
    } finally {
      await folder.close();
    }
  });

  it("never replaces what has the name (file, symlink, folder) nor a file planted at its temporary name: not placed, nothing changed", async () => {
    const folder = await CheckedDir.open(tmp.path, c(tmp.path), { create: false });
    try {
      fs.writeFileSync(path.join(tmp.path, "file"), "theirs");
      fs.symlinkSync("/etc/hostname", path.join(tmp.path, "link"));
      fs.mkdirSync(path.join(tmp.path, "dir"));
      for (const name of ["file", "link", "dir"]) {
        await expect(writeSmallFile(request(folder, name, Buffer.from("ours")))).resolves.toBeUndefined();
      }
      // Planted at the temporary name: O_EXCL refuses it, and it is left alone.
      fs.writeFileSync(path.join(tmp.path, ".x.tmp"), "planted");
      await expect(writeSmallFile(request(folder, "x", Buffer.from("ours")))).resolves.toBeUndefined();
      expect(fs.readFileSync(path.join(tmp.path, "file"), "utf8")).toBe("theirs");
      expect(fs.readlinkSync(path.join(tmp.path, "link"))).toBe("/etc/hostname");
      expect(fs.readdirSync(path.join(tmp.path, "dir"))).toEqual([]);
      expect(fs.readFileSync(path.join(tmp.path, ".x.tmp"), "utf8")).toBe("planted");
      expect(fs.readdirSync(tmp.path).sort()).toEqual([".x.tmp", "dir", "file", "link"]);
    } finally {
      await folder.close();
    }
  });

  it("tells where the folder was once the file was in place: a folder moved meanwhile shows its new place", async () => {
    const before = path.join(tmp.path, "before");
    fs.mkdirSync(before);
    const folder = await CheckedDir.open(before, c(before), { create: false });
    try {
      const after = path.join(tmp.path, "after");
      fs.renameSync(before, after);
      const placed = await writeSmallFile(request(folder, "f", Buffer.from("x")));
      expect(placed?.folderAt).toBe(fs.realpathSync(after));
      expect(placed?.folderAt).not.toBe(folder.path);
      await expect(folder.verify()).rejects.toMatchObject({ kind: expect.any(String) });
    } finally {
      await folder.close();
    }
  });

  it("a writer thread that died answers its files 'not placed' and the next file starts a new one", async () => {
    const folder = await CheckedDir.open(tmp.path, c(tmp.path), { create: false });
    try {
      await writeSmallFile(request(folder, "first", Buffer.from("1")));
      const writes = Array.from({ length: 20 }, (_, i) => writeSmallFile(request(folder, `f${i}`, Buffer.alloc(4096, i))));
      await stopSmallFilesWorker();
      const answers = await Promise.all(writes);
      // Each file is either in place (complete) or absent, and no temporary name is left.
      for (const [i, answer] of answers.entries()) {
        const file = path.join(tmp.path, `f${i}`);
        if (answer === undefined) expect(fs.existsSync(file)).toBe(false);
        else expect(fs.readFileSync(file)).toEqual(Buffer.alloc(4096, i));
        // A writer that died between the link and removing the temporary name says so, and
        // removing it is then the caller's part (files.ts does it); any other is gone already.
        if (answer?.tmpLeft) fs.unlinkSync(path.join(tmp.path, `.f${i}.tmp`));
      }
      expect(fs.readdirSync(tmp.path).filter((n) => n.endsWith(".tmp"))).toEqual([]);
      await expect(writeSmallFile(request(folder, "after", Buffer.from("2")))).resolves.toMatchObject({ tmpLeft: false });
      expect(fs.readFileSync(path.join(tmp.path, "after"), "utf8")).toBe("2");
    } finally {
      await folder.close();
    }
  });

  it("a directory download places its small files through it: same bytes and times as the usual way, no temporary file left", async () => {
    const store = await LocalStore.open(path.join(tmp.path, "store"));
    const md5 = (b: Buffer) => createHash("md5").update(b).digest("hex");
    const bodies = Array.from({ length: 40 }, (_, i) => Buffer.alloc(100 + i * 97, i));
    for (const [i, body] of bodies.entries())
      await store.put(`seed/d${i % 3}/f${i}.bin`, { kind: "bytes", data: body }, { mode: "create" });
    const target = path.join(tmp.path, "out");
    const before = smallFilesDone().placed;
    const result = await downloadDirectory(store, "seed/", target, { maxWorkers: 4 });
    expect(result.transferred).toBe(bodies.length);
    // The files started before this process learnt how it sets times (the first stamped) go the
    // usual way: at most one round of the 4 in flight; the rest through the writer.
    expect(smallFilesDone().placed - before).toBeGreaterThanOrEqual(bodies.length - 4);
    for (const [i, body] of bodies.entries()) {
      const file = path.join(target, `d${i % 3}`, `f${i}.bin`);
      expect(md5(fs.readFileSync(file))).toBe(md5(body));
      const info = await store.head(`seed/d${i % 3}/f${i}.bin`);
      expect(Math.abs(fs.statSync(file).mtimeMs - (info?.lastModified.getTime() ?? 0))).toBeLessThan(1);
    }
    expect(await partFiles(target, { missingOk: true })).toEqual([]);
  });

  it("a file placed into a folder moved since it was opened is taken back, and the download fails naming the folder", async () => {
    const store = await LocalStore.open(path.join(tmp.path, "store"));
    for (const name of ["a", "b"])
      await store.put(`k/${name}`, { kind: "bytes", data: Buffer.from(`bytes of ${name}`) }, { mode: "create" });
    const folders = new OpenFolders({ flushAtEnd: true });
    const down = path.join(tmp.path, "down");
    const options = () => ({ folders, knownSize: 10, onBytes: () => undefined, expectAbsent: true, listed: undefined });
    try {
      // The first file opens the folder (and teaches this process how it sets times).
      await downloadTo(store, "k/a", path.join(down, "a"), false, options());
      const moved = path.join(tmp.path, "moved");
      fs.renameSync(down, moved);
      const before = smallFilesDone().placed;
      await expect(downloadTo(store, "k/b", path.join(down, "b"), false, options())).rejects.toMatchObject({
        message: expect.stringContaining(moved),
      });
      // It went through the writer, landed in the moved folder, and was taken back from there.
      expect(smallFilesDone().placed).toBe(before + 1);
      expect(fs.readdirSync(moved)).toEqual(["a"]);
      expect(fs.existsSync(down)).toBe(false);
    } finally {
      await folders.close();
    }
  });

  it("reads a small regular file whole: its bytes, its mtime and its filesystem as a stat of it tells", async () => {
    const folder = await CheckedDir.open(tmp.path, c(tmp.path), { create: false });
    try {
      const bytes = Buffer.alloc(4096 + 7, 9);
      fs.writeFileSync(path.join(tmp.path, "f"), bytes);
      const before = smallFilesDone().read;
      const read = await readSmallFile(folder.entry("f"), READ_FLAGS, 64 * 1024);
      const stat = fs.statSync(path.join(tmp.path, "f"), { bigint: true });
      expect(Buffer.from(read?.bytes ?? [])).toEqual(bytes);
      expect(read?.mtimeNs).toBe(stat.mtimeNs);
      expect(read?.dev).toBe(stat.dev);
      expect(smallFilesDone().read).toBe(before + 1);
      // Empty is small too.
      fs.writeFileSync(path.join(tmp.path, "empty"), "");
      expect((await readSmallFile(folder.entry("empty"), READ_FLAGS, 64 * 1024))?.bytes.length).toBe(0);
    } finally {
      await folder.close();
    }
  });

  it("reads nothing it should not: a symlink, a FIFO (without blocking), a folder, a missing or a larger file are 'not read'", async () => {
    const folder = await CheckedDir.open(tmp.path, c(tmp.path), { create: false });
    try {
      fs.writeFileSync(path.join(tmp.path, "secret"), "outside bytes");
      fs.symlinkSync(path.join(tmp.path, "secret"), path.join(tmp.path, "link"));
      fs.mkdirSync(path.join(tmp.path, "dir"));
      fs.writeFileSync(path.join(tmp.path, "big"), Buffer.alloc(64 * 1024 + 1));
      const fifo = spawnSync("mkfifo", [path.join(tmp.path, "fifo")]).status === 0;
      const before = smallFilesDone().read;
      for (const name of ["link", "dir", "missing", "big", ...(fifo ? ["fifo"] : [])]) {
        await expect(readSmallFile(folder.entry(name), READ_FLAGS, 64 * 1024), name).resolves.toBeUndefined();
      }
      expect(smallFilesDone().read).toBe(before);
    } finally {
      await folder.close();
    }
  });

  it("an upload_directory reads its small files through it: same bytes and mtime metadata as the usual way", async () => {
    const store = await LocalStore.open(path.join(tmp.path, "store"));
    const src = path.join(tmp.path, "src");
    const bodies = Array.from({ length: 30 }, (_, i) => Buffer.alloc(50 + i * 131, i));
    for (const [i, body] of bodies.entries()) {
      fs.mkdirSync(path.join(src, `d${i % 3}`), { recursive: true });
      fs.writeFileSync(path.join(src, `d${i % 3}`, `f${i}.bin`), body);
    }
    // One larger than the threshold goes the usual way.
    fs.writeFileSync(path.join(src, "large.bin"), Buffer.alloc(64 * 1024 + 1, 1));
    const before = smallFilesDone().read;
    const result = await uploadDirectory(store, src, "up/", { maxWorkers: 4 });
    expect(result.transferred).toBe(bodies.length + 1);
    expect(smallFilesDone().read - before).toBe(bodies.length);
    for (const [i, body] of bodies.entries()) {
      const file = path.join(src, `d${i % 3}`, `f${i}.bin`);
      const info = await store.head(`up/d${i % 3}/f${i}.bin`);
      const got = await store.get(`up/d${i % 3}/f${i}.bin`);
      const chunks: Buffer[] = [];
      for await (const chunk of got.body) chunks.push(Buffer.from(chunk));
      expect(Buffer.concat(chunks)).toEqual(body);
      const mtimeNs = fs.statSync(file, { bigint: true }).mtimeNs;
      expect(info?.metadata?.mtime).toBe(`${mtimeNs / 1_000_000_000n}.${String(mtimeNs % 1_000_000_000n).padStart(9, "0")}`);
    }
  });

  it("a worker held up by a slow filesystem does not hold up the files after it: they go to another worker", async (ctx) => {
    const fifo = path.join(tmp.path, "fifo");
    if (spawnSync("mkfifo", [fifo]).status !== 0) return ctx.skip();
    // Opened without O_NONBLOCK, a FIFO holds the worker in open() until a writer comes: a
    // filesystem that does not answer.
    const held = readSmallFile(fifo, fs.constants.O_RDONLY, 64 * 1024);
    try {
      await new Promise((resolve) => setTimeout(resolve, 50));
      fs.writeFileSync(path.join(tmp.path, "f"), "next");
      const next = await Promise.race([
        readSmallFile(path.join(tmp.path, "f"), READ_FLAGS, 64 * 1024),
        new Promise<"stuck">((resolve) => setTimeout(() => resolve("stuck"), 5_000)),
      ]);
      expect(next === "stuck" ? next : Buffer.from(next?.bytes ?? []).toString()).toBe("next");
    } finally {
      fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
    }
    // Released, it finds a FIFO, not a regular file: not read.
    await expect(held).resolves.toBeUndefined();
  });
});
