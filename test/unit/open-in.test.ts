/**
 * OpenFile.openIn: an upload opens each file through its folder's checked descriptor (held open by
 * OpenFolders({ reading: true })) instead of checking every file's location, on real files.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { CheckedDir, hasProcFd, OpenFile } from "../../src/core/fs/descriptor.js";
import { OpenFolders } from "../../src/core/fs/folders.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

let tmp: TempDir;
let root: string;
let outside: string;
beforeEach(async () => {
  tmp = await makeTempDir();
  root = path.join(tmp.path, "root");
  outside = path.join(tmp.path, "outside");
  fs.mkdirSync(path.join(root, "d"), { recursive: true });
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(root, "d", "f.txt"), "inside");
  fs.writeFileSync(path.join(outside, "f.txt"), "SECRET");
});
afterEach(async () => {
  await tmp.cleanup();
});

const c = (shown: string) => ({ roots: [root], argument: "local_dir", shown });
const read = (file: OpenFile) =>
  new Promise<string>((resolve, reject) => {
    const parts: Buffer[] = [];
    file
      .stream()
      .on("data", (b: Buffer) => parts.push(b))
      .on("end", () => resolve(Buffer.concat(parts).toString()))
      .on("error", reject);
  });

describe.runIf(hasProcFd)("OpenFile.openIn", () => {
  it("reads a file through its folder's descriptor, with its size and the real path it is at", async () => {
    const folders = new OpenFolders({ reading: true });
    try {
      const text = await folders.with(path.join(root, "d"), c("f.txt"), (dir) =>
        OpenFile.with({ dir, name: "f.txt" }, c("f.txt"), async (file) => {
          expect(file.size).toBe(6);
          expect(file.real).toBe(path.join(root, "d", "f.txt"));
          return read(file);
        }),
      );
      expect(text).toBe("inside");
    } finally {
      await folders.close();
    }
  });

  it("a folder swapped for a symlink to outside after it was opened is not followed: the file read is the one that was inside", async () => {
    const dir = await CheckedDir.open(path.join(root, "d"), c("f.txt"), { create: false });
    try {
      fs.renameSync(path.join(root, "d"), path.join(root, "moved"));
      fs.symlinkSync(outside, path.join(root, "d"));
      const text = await OpenFile.with({ dir, name: "f.txt" }, c("f.txt"), read);
      expect(text).toBe("inside");
    } finally {
      await dir.close();
    }
  });

  it("a file swapped for a symlink is refused (outside_roots), and a FIFO is refused at once (invalid_argument)", async () => {
    const dir = await CheckedDir.open(path.join(root, "d"), c("f.txt"), { create: false });
    try {
      fs.rmSync(path.join(root, "d", "f.txt"));
      fs.symlinkSync(path.join(outside, "f.txt"), path.join(root, "d", "f.txt"));
      await expect(OpenFile.openIn(dir, "f.txt", c("f.txt"))).rejects.toMatchObject({ kind: "outside_roots" });
      execFileSync("mkfifo", [path.join(root, "d", "q")]);
      await expect(OpenFile.openIn(dir, "q", c("q"))).rejects.toMatchObject({ kind: "invalid_argument" });
    } finally {
      await dir.close();
    }
  });

  it("a folder opened for reading is never created, and a missing one is not_found", async () => {
    const folders = new OpenFolders({ reading: true });
    try {
      await expect(folders.with(path.join(root, "gone"), c("gone/f.txt"), async () => "opened")).rejects.toMatchObject({
        kind: "not_found",
      });
      expect(fs.existsSync(path.join(root, "gone"))).toBe(false);
    } finally {
      await folders.close();
    }
  });

  it("a folder that cannot be opened as checked (a symlink where the walk saw a folder) leaves its file to the fallback, which opens it by path", async () => {
    fs.renameSync(path.join(root, "d"), path.join(root, "real-d"));
    fs.symlinkSync(path.join(root, "real-d"), path.join(root, "d"));
    const folders = new OpenFolders({ reading: true });
    try {
      const got = await folders.with(
        path.join(root, "d"),
        c("d/f.txt"),
        async () => "through the folder",
        async () => "fallback",
      );
      expect(got).toBe("fallback");
      await expect(folders.with(path.join(root, "d"), c("d/f.txt"), async () => "through the folder")).rejects.toMatchObject({
        kind: "outside_roots",
      });
    } finally {
      await folders.close();
    }
  });
});
