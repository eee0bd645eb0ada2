/** The ObjectStore contract on the local directory backend, plus what only a filesystem can get wrong. */
import { createHash } from "node:crypto";
import { mkdir, readdir, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStore } from "../../src/core/local/store.js";
import { rejectionOf } from "../helpers/assert.js";
import { readAll } from "../helpers/bytes.js";
import { makeTempDir, snapshotTree, type TempDir } from "../helpers/tmp.js";
import { listPages, storeContract } from "./store-contract.js";

storeContract("LocalStore", async () => {
  const dir = await makeTempDir();
  const store = await LocalStore.open(path.join(dir.path, "store"));
  return {
    store,
    async cleanup() {
      await store.close();
      await dir.cleanup();
    },
  };
});

describe("LocalStore: keys a filesystem cannot hold safely", () => {
  let dir: TempDir;
  let root: string;
  let store: LocalStore;
  beforeAll(async () => {
    dir = await makeTempDir();
    root = path.join(dir.path, "store");
    store = await LocalStore.open(root);
    // One real object first, so the store (and its temp dir) exist and the snapshot is not trivial.
    await store.put("ok/existing.txt", { kind: "bytes", data: Buffer.from("safe") }, { mode: "create" });
  });
  afterAll(async () => {
    await store?.close();
    await dir?.cleanup();
  });

  const hostile = [
    "",
    "..",
    ".",
    "../escape.txt",
    "ok/../../escape.txt",
    "ok/./x",
    "./x",
    "a//b",
    "a/",
    "a\\b",
    "..\\escape",
    "/abs",
    "/etc/passwd",
    "a\0b",
    "x".repeat(1025),
    "é".repeat(513), // 1026 bytes of UTF-8 in 513 characters
    ".r2-mcp-tmp/planted",
    ".r2-mcp-tmp",
  ];

  it.each(hostile.map((key) => [JSON.stringify(key).slice(0, 40), key]))(
    "refuses key %s with invalid_argument and writes nothing",
    async (_label, key) => {
      const before = await snapshotTree(dir.path);
      const err = await rejectionOf(store.put(key, { kind: "bytes", data: Buffer.from("evil") }, { mode: "overwrite" }));
      expect(err.kind).toBe("invalid_argument");
      expect(err.code).toBe("EINVAL");
      for (const op of [store.head(key), store.get(key), store.delete(key)]) {
        expect((await rejectionOf(op)).kind).toBe("invalid_argument");
      }
      expect(await snapshotTree(dir.path)).toEqual(before);
    },
  );

  it("accepts a key of exactly 1024 bytes and refuses one of 1025", async () => {
    // Segments of 200 bytes: most filesystems cap one name at 255 bytes.
    const stem = ["a", "b", "c", "d", "e"].map((c) => c.repeat(200)).join("/");
    const key = `${stem}/${"z".repeat(19)}`;
    expect(Buffer.byteLength(key)).toBe(1024);
    const result = await store.put(key, { kind: "bytes", data: Buffer.from("long") }, { mode: "create" });
    expect(result.key).toBe(key);
    expect(await store.head(key)).toMatchObject({ size: 4 });
    const before = await snapshotTree(dir.path);
    const err = await rejectionOf(store.put(`${key}z`, { kind: "bytes", data: Buffer.from("long") }, { mode: "create" }));
    expect(err.kind).toBe("invalid_argument");
    expect(err.message).toMatch(/1025 bytes/);
    expect(await snapshotTree(dir.path)).toEqual(before);
    await store.delete(key);
  });

  it("never lists its reserved temp directory, even with a leftover from a crashed write in it", async () => {
    const tmpDir = path.join(root, ".r2-mcp-tmp");
    expect((await stat(tmpDir)).isDirectory()).toBe(true);
    await writeFile(path.join(tmpDir, ".leftover.r2-mcp-part"), "half a file");
    await mkdir(path.join(tmpDir, "nested"), { recursive: true });
    await writeFile(path.join(tmpDir, "nested", "x"), "x");

    const all = await listPages(store, {});
    expect(all.keys.length).toBeGreaterThan(0);
    expect(all.keys.filter((k) => k.includes(".r2-mcp-tmp"))).toEqual([]);
    const top = await listPages(store, { delimiter: "/" });
    expect(top.prefixes).not.toContain(".r2-mcp-tmp/");
    expect(top.prefixes).toContain("ok/");
    expect(await store.list({ prefix: ".r2" })).toEqual({ objects: [], prefixes: [] });
    expect(await store.list({ prefix: ".r2-mcp-tmp/", delimiter: "/" })).toEqual({ objects: [], prefixes: [] });
  });

  it("a file and a folder cannot share a name: unsupported, naming the other key (no overwrite loop), nothing lost", async () => {
    const tmpDir = path.join(root, ".r2-mcp-tmp");
    const before = new Set(await readdir(tmpDir));
    await store.put("ff/a", { kind: "bytes", data: Buffer.from("I am a file") }, { mode: "create" });
    for (const mode of ["create", "overwrite"] as const) {
      const err = await rejectionOf(store.put("ff/a/b", { kind: "bytes", data: Buffer.from("child") }, { mode }));
      expect(err.kind).toBe("unsupported");
      expect(err.message).toMatch(/^the local store cannot hold "ff\/a\/b": "ff\/a" is an object, so it cannot also be a prefix\./);
      expect(err.message).toContain("overwrite: true does not change this");
      expect(err.key).toBe("ff/a/b");
    }
    expect((await readAll((await store.get("ff/a")).body)).toString()).toBe("I am a file");
    expect((await store.list({ prefix: "ff/" })).objects.map((o) => o.key)).toEqual(["ff/a"]);

    await store.put("fg/a/b", { kind: "bytes", data: Buffer.from("I am inside a folder") }, { mode: "create" });
    for (const mode of ["create", "overwrite"] as const) {
      const err = await rejectionOf(store.put("fg/a", { kind: "bytes", data: Buffer.from("parent") }, { mode }));
      expect(err.kind).toBe("unsupported");
      expect(err.message).toMatch(/^the local store cannot hold "fg\/a": "fg\/a" is already a prefix of other objects/);
    }
    expect((await readAll((await store.get("fg/a/b")).body)).toString()).toBe("I am inside a folder");
    expect(await store.head("fg/a")).toBeUndefined();
    expect(await store.delete("fg/a")).toEqual({ existed: false });
    expect((await store.list({ prefix: "fg/" })).objects.map((o) => o.key)).toEqual(["fg/a/b"]);
    // No temp file left behind by the refused writes.
    expect(new Set(await readdir(tmpDir))).toEqual(before);
  });

  it("reads sidecars written before metadata was kept (a bare content type) and keeps metadata beside a content type", async () => {
    await store.put("side/old.bin", { kind: "bytes", data: Buffer.from("old") }, { mode: "create" });
    const name = createHash("sha256").update("side/old.bin").digest("hex");
    await mkdir(path.join(root, ".r2-mcp-meta"), { recursive: true });
    await writeFile(path.join(root, ".r2-mcp-meta", name), "image/png");
    expect(await store.head("side/old.bin")).toMatchObject({ contentType: "image/png" });
    expect((await store.head("side/old.bin"))?.metadata).toBeUndefined();
    // Garbled JSON is no sidecar: the extension's type, no metadata.
    await writeFile(path.join(root, ".r2-mcp-meta", name), "{not json");
    expect((await store.head("side/old.bin"))?.contentType).toBe("application/octet-stream");
    await store.put(
      "side/old.bin",
      { kind: "bytes", data: Buffer.from("new") },
      { mode: "overwrite", contentType: "image/png", metadata: { mtime: "1.5" } },
    );
    expect(await store.head("side/old.bin")).toMatchObject({ contentType: "image/png", metadata: { mtime: "1.5" } });
  });

  it("a key segment over 255 bytes is unsupported, saying what the store cannot hold", async () => {
    const key = `long/${"x".repeat(256)}/data.csv`;
    for (const mode of ["create", "overwrite"] as const) {
      const err = await rejectionOf(store.put(key, { kind: "bytes", data: Buffer.from("x") }, { mode }));
      expect(err.kind).toBe("unsupported");
      expect(err.message).toMatch(/is 256 bytes, .* at most 255 bytes\. Shorten/);
    }
    expect(await store.head(`long/${"x".repeat(255)}`)).toBeUndefined();
  });

  it("refuses to open a store on a path that is a file", async () => {
    const file = path.join(dir.path, "a-file");
    await writeFile(file, "x");
    const err = await rejectionOf(LocalStore.open(file));
    expect(err.kind).toBe("not_a_directory");
  });
});
