import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { uploadDirectory } from "../../src/mcp/tools/upload-directory.js";
import { BACKENDS, callError, callOk, useInProcess, writeTree } from "../helpers/in-process.js";

const TREE = { "a.txt": "alpha", "sub/b.txt": "bravo", "sub/deep/c é.txt": "charlie" };
const TREE_BYTES = 5 + 5 + 7;
const under = (prefix: string, tree: Record<string, string>) => Object.fromEntries(Object.entries(tree).map(([k, v]) => [prefix + k, v]));

describe.each(BACKENDS)("upload_directory, %s backend", (backend) => {
  const env = useInProcess(backend);
  /** A server whose root holds `tree/` with TREE in it. */
  const start = async (options: Parameters<typeof env.start>[0] = {}) => {
    const server = await env.start(options);
    const dir = path.join(server.root, "tree");
    await writeTree(dir, TREE);
    return { ...server, dir };
  };

  it("uploads a nested tree under the prefix (a trailing / is added), keys joined with /", async () => {
    const server = await start();
    const { structured, text } = await callOk(server.client, uploadDirectory, { local_dir: server.dir, prefix: "data" });
    expect({ ...structured, keys: [...structured.keys].sort() }).toEqual({
      uploaded: 3,
      bytes: TREE_BYTES,
      keys: Object.keys(under("data/", TREE)),
      skipped: [],
      conflicts: [],
      conflict_details: [],
      planned: 3,
      dry_run: false,
    });
    const lines = text.split("\n");
    expect(lines.slice(0, 2)).toEqual([`uploaded 3 files, ${TREE_BYTES} B`, "keys written:"]);
    expect(lines.slice(2).sort()).toEqual(Object.keys(under("data/", TREE)).map((k) => `  ${k}`));
    expect(await server.objects()).toEqual(under("data/", TREE));
  });

  it("uploads to the bucket root with an empty prefix", async () => {
    const server = await start();
    await callOk(server.client, uploadDirectory, { local_dir: server.dir, prefix: "" });
    expect(await server.objects()).toEqual(TREE);
  });

  it("skips destinations already holding identical bytes, so repeating a call finishes it", async () => {
    const server = await start();
    await server.seed("data/a.txt", "alpha");
    const first = await callOk(server.client, uploadDirectory, { local_dir: server.dir, prefix: "data/" });
    expect(first.structured).toMatchObject({ uploaded: 2, skipped: ["data/a.txt"], planned: 2, bytes: 12 });
    expect(first.text.split("\n")[0]).toBe("uploaded 2 files, 12 B; 1 file already identical, skipped");
    const again = await callOk(server.client, uploadDirectory, { local_dir: server.dir, prefix: "data/" });
    expect(again.structured).toMatchObject({ uploaded: 0, bytes: 0, keys: [], planned: 0 });
    expect([...again.structured.skipped].sort()).toEqual(Object.keys(under("data/", TREE)));
  });

  it("fails the whole call on a conflict, listing it and writing nothing; overwrite: true replaces", async () => {
    const server = await start();
    await server.seed("data/sub/b.txt", "other content");
    const { code, text, structured } = await callError(server.client, uploadDirectory, { local_dir: server.dir, prefix: "data" });
    expect(code).toBe("already_exists");
    expect(text).toMatch(
      /^already_exists: 1 destination key already exists with other content: "data\/sub\/b.txt"; nothing was written. Pass overwrite: true to replace it. Both sides: "data\/sub\/b.txt" from ".*b.txt": new 5 bytes, modified \S+; existing 13 bytes, modified \S+, etag [0-9a-f]{32}$/,
    );
    expect(structured).toMatchObject({ uploaded: 0, keys: [], conflicts: ["data/sub/b.txt"], error: { code: "already_exists" } });
    expect(structured?.conflict_details).toEqual([
      {
        key: "data/sub/b.txt",
        local_path: path.join(server.dir, "sub", "b.txt"),
        local: { size: 5, mtime: expect.any(String) },
        remote: { size: 13, last_modified: expect.any(String), etag: expect.stringMatching(/^[0-9a-f]{32}$/) },
      },
    ]);
    expect(await server.objects()).toEqual({ "data/sub/b.txt": "other content" });

    const replaced = await callOk(server.client, uploadDirectory, { local_dir: server.dir, prefix: "data", overwrite: true });
    expect(replaced.structured).toMatchObject({ uploaded: 3, conflicts: [], skipped: [] });
    expect(await server.objects()).toEqual(under("data/", TREE));
  });

  it("dry_run reports what would be written, skipped and in conflict, and writes nothing", async () => {
    const server = await start();
    await server.seed("data/a.txt", "alpha");
    await server.seed("data/sub/b.txt", "other");
    const before = await server.objects();
    const { structured, text } = await callOk(server.client, uploadDirectory, { local_dir: server.dir, prefix: "data", dry_run: true });
    expect(structured).toEqual({
      uploaded: 0,
      bytes: 0,
      keys: ["data/sub/deep/c é.txt"],
      skipped: ["data/a.txt"],
      conflicts: ["data/sub/b.txt"],
      conflict_details: [
        {
          key: "data/sub/b.txt",
          local_path: path.join(server.dir, "sub", "b.txt"),
          local: { size: 5, mtime: expect.any(String) },
          remote: { size: 5, last_modified: expect.any(String), etag: expect.any(String) },
        },
      ],
      planned: 1,
      dry_run: true,
    });
    expect(text.split("\n").slice(0, 3)).toEqual([
      "dry run: would upload 1 file, 7 B; 1 identical file skipped; 1 conflict",
      "would write:",
      "  data/sub/deep/c é.txt",
    ]);
    expect(text.split("\n")[3]).toMatch(
      /^ {2}conflict "data\/sub\/b.txt" ↔ ".*b.txt": local 5 B, modified \S+; remote 5 B, modified \S+, etag \S+$/,
    );
    expect(await server.objects()).toEqual(before);
  });

  it("a dry run names every key it lists in its text; a real run names ten and says how many more", async () => {
    const server = await env.start();
    const dir = path.join(server.root, "twelve");
    const names = Array.from({ length: 12 }, (_, i) => `f${String(i).padStart(2, "0")}.txt`);
    await writeTree(dir, Object.fromEntries(names.map((n) => [n, n])));
    const keys = names.map((n) => `t/${n}`);
    const dry = await callOk(server.client, uploadDirectory, { local_dir: dir, prefix: "t", dry_run: true, max_workers: 1 });
    expect(dry.structured.keys).toEqual(keys);
    expect(dry.text.split("\n").slice(1)).toEqual(["would write:", ...keys.map((k) => `  ${k}`)]);
    const real = await callOk(server.client, uploadDirectory, { local_dir: dir, prefix: "t", max_workers: 1 });
    expect([...real.structured.keys].sort()).toEqual(keys);
    const lines = real.text.split("\n");
    expect(lines.slice(0, 2)).toEqual(["uploaded 12 files, 84 B", "keys written (first 10):"]);
    expect(lines.slice(2, 12).every((l) => keys.includes(l.trim()))).toBe(true);
    expect(lines.slice(12)).toEqual(["  … and 2 more"]);
  });

  it.each([0, -1, 65, 1000])("refuses max_workers %s with invalid_argument, never clamping", async (max_workers) => {
    const server = await start();
    const { code, text, structured } = await callError(server.client, uploadDirectory, { local_dir: server.dir, prefix: "d", max_workers });
    expect(code).toBe("invalid_argument");
    expect(text).toBe(`invalid_argument: max_workers must be an integer from 1 to 64; got ${max_workers}`);
    expect(structured?.uploaded).toBe(0);
    expect(await server.objects()).toEqual({});
  });

  it("accepts max_workers 1 and 64", async () => {
    const server = await start();
    await callOk(server.client, uploadDirectory, { local_dir: server.dir, prefix: "one", max_workers: 1 });
    await callOk(server.client, uploadDirectory, { local_dir: server.dir, prefix: "many", max_workers: 64 });
    expect(await server.objects()).toEqual({ ...under("many/", TREE), ...under("one/", TREE) });
  });

  it("refuses a local_dir outside the roots, and one holding a symlink that leads outside, writing nothing", async () => {
    const server = await start();
    await writeFile(path.join(server.outside, "secret.txt"), "secret");
    const outside = await callError(server.client, uploadDirectory, { local_dir: server.outside, prefix: "x" });
    expect(outside.code).toBe("outside_roots");
    expect(outside.structured?.error?.path).toBe(server.outside);

    await symlink(path.join(server.outside, "secret.txt"), path.join(server.dir, "sub", "leak.txt"));
    const leak = await callError(server.client, uploadDirectory, { local_dir: server.dir, prefix: "x" });
    expect(leak.code).toBe("outside_roots");
    expect(leak.text).toContain(JSON.stringify(path.join(server.dir, "sub", "leak.txt")));
    expect(await server.objects()).toEqual({});
  });

  it("answers not_a_directory for a file and not_found for a missing directory", async () => {
    const server = await start();
    const file = await callError(server.client, uploadDirectory, { local_dir: path.join(server.dir, "a.txt"), prefix: "x" });
    expect(file.code).toBe("not_a_directory");
    expect(file.text).toContain("use upload_file");
    expect((await callError(server.client, uploadDirectory, { local_dir: path.join(server.root, "nope"), prefix: "x" })).code).toBe(
      "not_found",
    );
  });

  it("writes only under the allowed prefixes, the prefix taken with its trailing /", async () => {
    const server = await start({ allowPrefixes: ["team/"] });
    for (const prefix of ["", "other", "tea", "team/../x"]) {
      expect((await callError(server.client, uploadDirectory, { local_dir: server.dir, prefix })).code).toBe("outside_allowed_prefix");
    }
    await callOk(server.client, uploadDirectory, { local_dir: server.dir, prefix: "team/x" });
    // "team" is "team/" once the "/" is added, as the description says.
    await callOk(server.client, uploadDirectory, { local_dir: server.dir, prefix: "team" });
    expect(await server.objects()).toEqual({ ...under("team/", TREE), ...under("team/x/", TREE) });
  });

  // The local store refuses a key with a backslash when it writes it: a failure in mid-run.
  if (backend === "local")
    it("says in its error result what completed before a failure", async () => {
      const server = await env.start();
      const dir = path.join(server.root, "mixed");
      await mkdir(dir);
      await writeTree(dir, { "a.txt": "a", "b\\c.txt": "b", "z.txt": "z" });
      const { code, text, structured } = await callError(server.client, uploadDirectory, { local_dir: dir, prefix: "m", max_workers: 1 });
      expect(code).toBe("invalid_argument");
      expect(text).toContain("(1 of 3 completed");
      expect(structured).toMatchObject({ uploaded: 1, keys: ["m/a.txt"], error: { code: "invalid_argument" } });
      expect(await server.objects()).toEqual({ "m/a.txt": "a" });
    });
});
