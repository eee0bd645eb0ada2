/** FdFile (the temporary file's descriptor) and OpenFolders (a download's folders held open), on real files. */
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CREATE_FLAGS } from "../../src/core/fs/descriptor.js";
import { FdFile } from "../../src/core/fs/fd-file.js";
import { canFlushAtEnd } from "../../src/core/fs/flush.js";
import { OpenFolders } from "../../src/core/fs/folders.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

/** Descriptors this process holds now. */
const openDescriptors = () => fs.readdirSync("/proc/self/fd").length;

describe("FdFile", () => {
  it("writes, stamps and stats through its descriptor", async () => {
    const file = await FdFile.open(path.join(tmp.path, "a"), CREATE_FLAGS, 0o644);
    await file.writev([Buffer.from("hello "), Buffer.from("world")], 0);
    await file.write(Buffer.from("W"), 0, 1, 6);
    await file.utimes(1_700_000_000, 1_700_000_000);
    await file.sync();
    const stat = await file.stat();
    const big = await file.stat({ bigint: true });
    await file.close();
    expect(fs.readFileSync(path.join(tmp.path, "a"), "utf8")).toBe("hello World");
    expect(stat.size).toBe(11);
    expect(stat.mtimeMs).toBe(1_700_000_000_000);
    expect(big.mtimeNs).toBe(1_700_000_000_000_000_000n);
  });

  it("refuses a name that exists (exclusive create)", async () => {
    fs.writeFileSync(path.join(tmp.path, "taken"), "x");
    await expect(FdFile.open(path.join(tmp.path, "taken"), CREATE_FLAGS, 0o644)).rejects.toMatchObject({ code: "EEXIST" });
  });

  it("closes once: a second close never closes the descriptor number another file got since", async () => {
    const file = await FdFile.open(path.join(tmp.path, "first"), CREATE_FLAGS, 0o644);
    const fd = file.fd;
    await file.close();
    // The lowest free number is reused by the next open.
    const other = fs.openSync(path.join(tmp.path, "second"), "w");
    try {
      expect(other).toBe(fd);
      await file.close();
      expect(() => fs.writeSync(other, "still open")).not.toThrow();
    } finally {
      fs.closeSync(other);
    }
    expect(fs.readFileSync(path.join(tmp.path, "second"), "utf8")).toBe("still open");
  });
});

describe("FdFile close", () => {
  it("waits for the operations in flight, and refuses any asked for after it", async () => {
    fs.writeFileSync(path.join(tmp.path, "data"), Buffer.alloc(1024 * 1024, 7));
    const file = await FdFile.open(path.join(tmp.path, "data"), fs.constants.O_RDONLY, 0);
    const buffer = Buffer.alloc(1024 * 1024);
    const reading = file.read(buffer, 0, buffer.length, 0);
    const closing = file.close();
    expect((await reading).bytesRead).toBe(1024 * 1024);
    expect(buffer.every((b) => b === 7)).toBe(true);
    await closing;
    await expect(file.read(buffer, 0, 1, 0)).rejects.toMatchObject({ code: "EBADF" });
    await expect(file.stat()).rejects.toMatchObject({ code: "EBADF" });
    await file.close(); // again: nothing more happens
  });
});

describe("FdFile read streams", () => {
  it("the stream owns the descriptor: destroyed after it ended, it never closes a descriptor another file got since", async () => {
    fs.writeFileSync(path.join(tmp.path, "object"), "0123456789");
    const file = await FdFile.open(path.join(tmp.path, "object"), fs.constants.O_RDONLY, 0);
    const fd = file.fd;
    const stream = file.createReadStream({ start: 2, end: 5 });
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe("2345");
    await new Promise((resolve) => setImmediate(resolve));
    // The lowest free number is reused by the next open: the stream's, if it was closed.
    const other = fs.openSync(path.join(tmp.path, "other"), "w");
    try {
      expect(other).toBe(fd);
      stream.destroy(); // what a consumer does in a finally
      await file.close();
      await new Promise((resolve) => setImmediate(resolve));
      expect(() => fs.writeSync(other, "still open")).not.toThrow();
    } finally {
      fs.closeSync(other);
    }
    expect(fs.readFileSync(path.join(tmp.path, "other"), "utf8")).toBe("still open");
  });

  it("a stream destroyed before its end closes the descriptor, once", async () => {
    fs.writeFileSync(path.join(tmp.path, "big"), Buffer.alloc(4 * 1024 * 1024, 1));
    const file = await FdFile.open(path.join(tmp.path, "big"), fs.constants.O_RDONLY, 0);
    const stream = file.createReadStream({ start: 0, end: 4 * 1024 * 1024 - 1 });
    for await (const _ of stream) break; // the loop's exit destroys the stream
    await new Promise((resolve) => stream.once("close", resolve).closed && resolve(undefined));
    const other = fs.openSync(path.join(tmp.path, "other2"), "w");
    try {
      await file.close();
      await new Promise((resolve) => setImmediate(resolve));
      expect(() => fs.writeSync(other, "x")).not.toThrow();
    } finally {
      fs.closeSync(other);
    }
  });
});

describe.runIf(fs.existsSync("/proc/self/fd"))("OpenFolders", () => {
  it("opens each folder once, keeps few idle ones open, and closes every one at the end", async () => {
    const before = openDescriptors();
    const folders = new OpenFolders();
    for (let i = 0; i < 100; i++) {
      const dir = path.join(tmp.path, `d${i}`, "inner");
      // Two files per folder, one after the other: the second finds the folder already open.
      const seen: unknown[] = [];
      for (const name of ["a", "b"]) {
        await folders.with(dir, { roots: undefined, argument: "local_dir", shown: path.join(dir, name) }, async (folder) => {
          seen.push(folder);
          expect(fs.statSync(dir).isDirectory()).toBe(true);
        });
      }
      expect(seen[1]).toBe(seen[0]);
      // Never more than the 32 idle folders kept, plus the one in use.
      expect(openDescriptors() - before).toBeLessThanOrEqual(33);
    }
    await folders.close();
    expect(openDescriptors()).toBe(before);
    expect(fs.readdirSync(tmp.path)).toHaveLength(100);
  });

  it("a folder that cannot be opened fails that file, and the next file tries again", async () => {
    const folders = new OpenFolders();
    const dir = path.join(tmp.path, "blocked");
    fs.writeFileSync(dir, "a file where the folder should be");
    const c = { roots: undefined, argument: "local_dir", shown: path.join(dir, "x") };
    await expect(folders.with(dir, c, async () => undefined)).rejects.toMatchObject({ kind: "not_a_directory" });
    fs.rmSync(dir);
    await expect(folders.with(dir, c, async (folder) => folder.path)).resolves.toBe(dir);
    await folders.close();
  });
});

describe.runIf(fs.existsSync("/proc/self/fd") && fs.existsSync("/dev/null") && canFlushAtEnd())("OpenFolders, flushed at the end", () => {
  // fsync of /dev/null fails with EINVAL: a real disk error reported by the kernel, which no
  // temporary directory here can produce for a regular file.
  const c = (dir: string) => ({ roots: undefined, argument: "local_dir", shown: path.join(dir, "x") });

  it("small files are left to the one syncfs at the end: a file that could not be flushed alone is never asked", async () => {
    const folders = new OpenFolders({ flushAtEnd: true });
    expect(folders.flushAtEnd).toBe(true);
    const dir = path.join(tmp.path, "small");
    await folders.with(dir, c(dir), async (folder) => {
      fs.writeFileSync(folder.entry("a"), "a");
    });
    folders.wrote(path.join(dir, "a"), 1);
    folders.wrote("/dev/null", 1024 * 1024 - 1);
    await expect(folders.close()).resolves.toBeUndefined();
  });

  it("a file of 1 MiB or more is flushed on its own as soon as it is placed; a failure of that flush fails close() as unavailable", async () => {
    const folders = new OpenFolders({ flushAtEnd: true });
    const dir = path.join(tmp.path, "large");
    await folders.with(dir, c(dir), async (folder) => {
      fs.writeFileSync(folder.entry("big"), Buffer.alloc(1024 * 1024, 1));
    });
    folders.wrote(path.join(dir, "big"), 1024 * 1024);
    // Removed since it was placed: nothing to flush, no error.
    folders.wrote(path.join(dir, "gone"), 2 * 1024 * 1024);
    folders.wrote("/dev/null", 1024 * 1024);
    await expect(folders.close()).rejects.toMatchObject({
      kind: "unavailable",
      path: "/dev/null",
      message: expect.stringMatching(/flushing them to disk failed \(.*EINVAL.*\).*repeat the call/),
    });
  });
});
