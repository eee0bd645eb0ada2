/**
 * Putting finished temporary files in place (atomic-write.ts) and a directory download whose
 * targets change between its plan and its run, on real files: the download trusts its plan's
 * "nothing there" and lets the exclusive link find out what appeared since, so each case here is
 * something that appears after the plan.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { closeTemp, createTemp, placeTemp, writeToTemp } from "../../src/core/fs/atomic-write.js";
import { CheckedDir, hasProcFd } from "../../src/core/fs/descriptor.js";
import { LocalStore } from "../../src/core/local/store.js";
import type { ObjectStore } from "../../src/core/store.js";
import { prepareDownloadDirectory } from "../../src/core/transfer/index.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir();
});
afterEach(async () => {
  await tmp.cleanup();
});

const c = (shown: string) => ({ roots: undefined, argument: "local_dir", shown });
const names = (dir: string) => fs.readdirSync(dir).sort();

/** A finished temporary file holding `text` in `dir`. */
async function finishedTemp(dir: CheckedDir, name: string, text: string) {
  const t = await createTemp(dir, name);
  await writeToTemp(t, [Buffer.from(text)]);
  await closeTemp(t, false);
  return t;
}

describe("placeTemp", () => {
  it("links a closed temporary file in place without overwrite and leaves no temporary name", async () => {
    const dir = await CheckedDir.open(tmp.path, c(tmp.path), { create: false });
    try {
      const t = await finishedTemp(dir, "a.txt", "new");
      await placeTemp(t, undefined, dir, "a.txt", { overwrite: false });
      expect(fs.readFileSync(path.join(tmp.path, "a.txt"), "utf8")).toBe("new");
      expect(names(tmp.path)).toEqual(["a.txt"]);
    } finally {
      await dir.close();
    }
  });

  it("refuses a name taken since the caller looked (expectAbsent, no overwrite): already_exists, the file there untouched, the temporary file kept for the caller", async () => {
    const dir = await CheckedDir.open(tmp.path, c(tmp.path), { create: false });
    try {
      const t = await finishedTemp(dir, "a.txt", "new");
      fs.writeFileSync(path.join(tmp.path, "a.txt"), "theirs");
      await expect(placeTemp(t, undefined, dir, "a.txt", { overwrite: false, expectAbsent: true })).rejects.toMatchObject({
        kind: "already_exists",
      });
      expect(fs.readFileSync(path.join(tmp.path, "a.txt"), "utf8")).toBe("theirs");
      expect(names(tmp.path)).toEqual([t.name, "a.txt"].sort());
    } finally {
      await dir.close();
    }
  });

  it("with overwrite and expectAbsent, replaces a regular file that appeared since, and refuses a FIFO or a folder", async () => {
    const dir = await CheckedDir.open(tmp.path, c(tmp.path), { create: false });
    try {
      const a = await finishedTemp(dir, "a.txt", "new");
      fs.writeFileSync(path.join(tmp.path, "a.txt"), "theirs");
      await placeTemp(a, undefined, dir, "a.txt", { overwrite: true, expectAbsent: true });
      expect(fs.readFileSync(path.join(tmp.path, "a.txt"), "utf8")).toBe("new");

      const f = await finishedTemp(dir, "fifo", "new");
      execFileSync("mkfifo", [path.join(tmp.path, "fifo")]);
      await expect(placeTemp(f, undefined, dir, "fifo", { overwrite: true, expectAbsent: true })).rejects.toMatchObject({
        kind: "invalid_argument",
      });
      expect(fs.lstatSync(path.join(tmp.path, "fifo")).isFIFO()).toBe(true);

      const d = await finishedTemp(dir, "sub", "new");
      fs.mkdirSync(path.join(tmp.path, "sub"));
      await expect(placeTemp(d, undefined, dir, "sub", { overwrite: true, expectAbsent: true })).rejects.toMatchObject({
        kind: "invalid_argument",
      });
      expect(fs.lstatSync(path.join(tmp.path, "sub")).isDirectory()).toBe(true);
    } finally {
      await dir.close();
    }
  });

  it.runIf(hasProcFd)("takes back a linked file when its folder was moved meanwhile, and leaves no temporary file there", async () => {
    const planned = path.join(tmp.path, "planned");
    const moved = path.join(tmp.path, "moved");
    fs.mkdirSync(planned);
    const dir = await CheckedDir.open(planned, c(planned), { create: false });
    try {
      const t = await finishedTemp(dir, "a.txt", "new");
      fs.renameSync(planned, moved);
      await expect(placeTemp(t, undefined, dir, "a.txt", { overwrite: false, expectAbsent: true })).rejects.toMatchObject({
        kind: "unavailable",
      });
      expect(names(moved)).toEqual([]);
    } finally {
      await dir.close();
    }
  });

  it.runIf(hasProcFd)(
    "takes back a renamed file (overwrite, stat read from the temporary name) when its folder was moved meanwhile",
    async () => {
      const planned = path.join(tmp.path, "planned");
      const moved = path.join(tmp.path, "moved");
      fs.mkdirSync(planned);
      fs.writeFileSync(path.join(planned, "a.txt"), "old");
      const dir = await CheckedDir.open(planned, c(planned), { create: false });
      try {
        const t = await finishedTemp(dir, "a.txt", "new");
        fs.renameSync(planned, moved);
        await expect(placeTemp(t, undefined, dir, "a.txt", { overwrite: true })).rejects.toMatchObject({ kind: "unavailable" });
        expect(names(moved)).toEqual([]);
      } finally {
        await dir.close();
      }
    },
  );
});

describe("download_directory: targets that change between the plan and the run", () => {
  let store: ObjectStore;
  beforeEach(async () => {
    store = await LocalStore.open(path.join(tmp.path, "store"));
    for (const key of ["p/a.txt", "p/b.txt", "p/c.txt"]) {
      await store.put(key, { kind: "bytes", data: Buffer.from(`object ${key}`) }, { mode: "create", existing: null });
    }
  });
  afterEach(async () => {
    await store.close();
  });

  it("without overwrite, a file that appeared after the plan fails the call already_exists and keeps its bytes; nothing partial or temporary is left", async () => {
    const out = path.join(tmp.path, "out");
    const prepared = await prepareDownloadDirectory(store, "p/", out, { maxWorkers: 1 });
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "b.txt"), "mine");
    await expect(prepared.run({})).rejects.toMatchObject({ kind: "already_exists" });
    expect(fs.readFileSync(path.join(out, "b.txt"), "utf8")).toBe("mine");
    for (const name of names(out)) {
      expect(name).not.toMatch(/r2-mcp-part$/);
      if (name !== "b.txt") expect(fs.readFileSync(path.join(out, name), "utf8")).toBe(`object p/${name}`);
    }
  });

  it("with overwrite, a FIFO that appeared after the plan is never replaced; a regular file that appeared is", async () => {
    const out = path.join(tmp.path, "out");
    const prepared = await prepareDownloadDirectory(store, "p/", out, { maxWorkers: 1, overwrite: true });
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "a.txt"), "mine");
    execFileSync("mkfifo", [path.join(out, "c.txt")]);
    await expect(prepared.run({})).rejects.toMatchObject({ kind: "invalid_argument" });
    expect(fs.lstatSync(path.join(out, "c.txt")).isFIFO()).toBe(true);
    expect(fs.readFileSync(path.join(out, "a.txt"), "utf8")).toBe("object p/a.txt");
    expect(names(out).filter((n) => n.endsWith("r2-mcp-part"))).toEqual([]);
  });

  it("with overwrite and nothing changed, every planned file lands, and files found by the plan are replaced", async () => {
    const out = path.join(tmp.path, "out");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "a.txt"), "older content");
    const prepared = await prepareDownloadDirectory(store, "p/", out, { overwrite: true });
    const result = await prepared.run({});
    expect(result.transferred).toBe(3);
    expect(names(out)).toEqual(["a.txt", "b.txt", "c.txt"]);
    for (const name of names(out)) expect(fs.readFileSync(path.join(out, name), "utf8")).toBe(`object p/${name}`);
  });

  it("into a folder that already holds files, the plan still finds the targets there (one listing per folder) and refuses their conflicts before writing anything", async () => {
    const out = path.join(tmp.path, "out");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "other.bin"), "unrelated");
    fs.writeFileSync(path.join(out, "a.txt"), "different");
    fs.mkdirSync(path.join(out, "c.txt"));
    const err = await prepareDownloadDirectory(store, "p/", out, {}).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ kind: "already_exists", details: { conflicts: [path.join(out, "a.txt"), path.join(out, "c.txt")] } });
    expect(names(out)).toEqual(["a.txt", "c.txt", "other.bin"]);
    expect(fs.readFileSync(path.join(out, "a.txt"), "utf8")).toBe("different");
  });

  it("into a folder that existed at planning, a file that appears after the plan fails the call already_exists and keeps its bytes", async () => {
    const out = path.join(tmp.path, "out");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "other.bin"), "unrelated");
    const prepared = await prepareDownloadDirectory(store, "p/", out, { maxWorkers: 1 });
    fs.writeFileSync(path.join(out, "a.txt"), "mine");
    await expect(prepared.run({})).rejects.toMatchObject({ kind: "already_exists" });
    expect(fs.readFileSync(path.join(out, "a.txt"), "utf8")).toBe("mine");
    expect(names(out).filter((n) => n.endsWith("r2-mcp-part"))).toEqual([]);
  });

  it("a name differing only in case from one in the folder is looked at, and the kernel's answer decides (case-sensitive here: both kept)", async () => {
    const out = path.join(tmp.path, "out");
    fs.mkdirSync(out);
    fs.writeFileSync(path.join(out, "B.TXT"), "upper");
    const result = await (await prepareDownloadDirectory(store, "p/", out, {})).run({});
    expect(result.transferred).toBe(3);
    expect(fs.readFileSync(path.join(out, "B.TXT"), "utf8")).toBe("upper");
    expect(fs.readFileSync(path.join(out, "b.txt"), "utf8")).toBe("object p/b.txt");
  });
});
