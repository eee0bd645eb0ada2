import { randomBytes } from "node:crypto";
import { mkdir, readdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { downloadDirectory } from "../../src/mcp/tools/download-directory.js";
import { putInParts } from "../helpers/bucket.js";
import { MIB } from "../helpers/bytes.js";
import { BACKENDS, callError, callOk, filesUnder, useInProcess, writeTree } from "../helpers/in-process.js";

const OBJECTS = { "data/a.txt": "alpha", "data/sub/b.txt": "bravo", "data/sub/deep/c é.txt": "charlie", "other/x.txt": "x" };
/** What downloading "data" writes, relative to local_dir. */
const DATA_FILES = { "a.txt": "alpha", "sub/b.txt": "bravo", "sub/deep/c é.txt": "charlie" };

describe.each(BACKENDS)("download_directory, %s backend", (backend) => {
  const env = useInProcess(backend);
  const start = async (options: Parameters<typeof env.start>[0] = {}) => {
    const server = await env.start(options);
    for (const [key, data] of Object.entries(OBJECTS)) await server.seed(key, data);
    return { ...server, out: path.join(server.root, "out") };
  };

  it("creates local_dir and recreates the structure below the prefix (a trailing / is added)", async () => {
    const server = await start();
    const { structured, text } = await callOk(server.client, downloadDirectory, { prefix: "data", local_dir: server.out });
    expect({ ...structured, files: [...structured.files].sort() }).toEqual({
      downloaded: 3,
      bytes: 17,
      files: Object.keys(DATA_FILES).map((f) => path.join(server.out, f)),
      skipped: [],
      conflicts: [],
      conflict_details: [],
      planned: 3,
      dry_run: false,
    });
    const lines = text.split("\n");
    expect(lines.slice(0, 2)).toEqual(["downloaded 3 files, 17 B", "files written:"]);
    expect(lines.slice(2).sort()).toEqual(Object.keys(DATA_FILES).map((f) => `  ${path.join(server.out, f)}`));
    expect(await filesUnder(server.out)).toEqual(DATA_FILES);
  });

  it("downloads the whole bucket with an empty prefix, leaving out zero-byte folder markers", async () => {
    const server = await start();
    // Only S3 can hold a key ending in "/"; the local store keeps folders as folders.
    if (backend === "s3") await server.seed("data/empty-folder/", "");
    await callOk(server.client, downloadDirectory, { prefix: "", local_dir: server.out });
    expect(await filesUnder(server.out)).toEqual(OBJECTS);
  });

  it("skips identical files, so repeating a call finishes it", async () => {
    const server = await start();
    await writeTree(server.out, { "a.txt": "alpha" });
    const first = await callOk(server.client, downloadDirectory, { prefix: "data/", local_dir: server.out });
    expect(first.structured).toMatchObject({ downloaded: 2, skipped: [path.join(server.out, "a.txt")], planned: 2 });
    expect(first.text.split("\n")[0]).toBe("downloaded 2 files, 12 B; 1 file already identical, skipped");
    const again = await callOk(server.client, downloadDirectory, { prefix: "data/", local_dir: server.out });
    expect(again.structured).toMatchObject({ downloaded: 0, bytes: 0, files: [], planned: 0 });
    expect(again.structured.skipped).toHaveLength(3);
  });

  it("fails the whole call on a local file with other content, writing nothing; overwrite: true replaces", async () => {
    const server = await start();
    await writeTree(server.out, { "sub/b.txt": "mine" });
    const conflict = path.join(server.out, "sub", "b.txt");
    const { code, text, structured } = await callError(server.client, downloadDirectory, { prefix: "data", local_dir: server.out });
    expect(code).toBe("already_exists");
    expect(text).toMatch(
      `already_exists: 1 local file already exists with other content: ${JSON.stringify(conflict)}; nothing was written. Pass overwrite: true to replace it. Both sides: `,
    );
    expect(structured).toMatchObject({ downloaded: 0, files: [], conflicts: [conflict], error: { code: "already_exists" } });
    expect(structured?.conflict_details).toEqual([
      {
        key: "data/sub/b.txt",
        local_path: conflict,
        local: { size: 4, mtime: expect.any(String) },
        remote: { size: 5, last_modified: expect.any(String), etag: expect.any(String) },
      },
    ]);
    expect(await filesUnder(server.out)).toEqual({ "sub/b.txt": "mine" });

    const replaced = await callOk(server.client, downloadDirectory, { prefix: "data", local_dir: server.out, overwrite: true });
    expect(replaced.structured).toMatchObject({ downloaded: 3, skipped: [], conflicts: [] });
    expect(await filesUnder(server.out)).toEqual(DATA_FILES);
  });

  it("dry_run reports the plan and creates nothing, not even local_dir", async () => {
    const server = await start();
    const { structured, text } = await callOk(server.client, downloadDirectory, { prefix: "data", local_dir: server.out, dry_run: true });
    const files = Object.keys(DATA_FILES).map((f) => path.join(server.out, f));
    expect({ ...structured, files: [...structured.files].sort() }).toEqual({
      downloaded: 0,
      bytes: 0,
      files,
      skipped: [],
      conflicts: [],
      conflict_details: [],
      planned: 3,
      dry_run: true,
    });
    const lines = text.split("\n");
    expect(lines.slice(0, 2)).toEqual(["dry run: would download 3 files, 17 B; 0 identical files skipped; 0 conflicts", "would write:"]);
    expect(lines.slice(2).sort()).toEqual(files.map((f) => `  ${f}`));
    expect(await readdir(server.root)).toEqual([]);
  });

  it.each([0, -1, 65])("refuses max_workers %s with invalid_argument, never clamping", async (max_workers) => {
    const server = await start();
    const { code, text, structured } = await callError(server.client, downloadDirectory, {
      prefix: "data",
      local_dir: server.out,
      max_workers,
    });
    expect(code).toBe("invalid_argument");
    expect(text).toBe(`invalid_argument: max_workers must be an integer from 1 to 64; got ${max_workers}`);
    expect(structured?.downloaded).toBe(0);
    expect(await readdir(server.root)).toEqual([]);
  });

  it("accepts max_workers 1 and 64", async () => {
    const server = await start();
    await callOk(server.client, downloadDirectory, { prefix: "data", local_dir: path.join(server.root, "one"), max_workers: 1 });
    await callOk(server.client, downloadDirectory, { prefix: "data", local_dir: path.join(server.root, "many"), max_workers: 64 });
    expect(await filesUnder(path.join(server.root, "one"))).toEqual(DATA_FILES);
    expect(await filesUnder(path.join(server.root, "many"))).toEqual(DATA_FILES);
  });

  it("refuses a local_dir outside the roots and one with a symlink that would redirect a download", async () => {
    const server = await start();
    const outside = await callError(server.client, downloadDirectory, { prefix: "data", local_dir: path.join(server.outside, "d") });
    expect(outside.code).toBe("outside_roots");
    expect(outside.structured?.error?.path).toBe(path.join(server.outside, "d"));

    await mkdir(server.out);
    await symlink(server.outside, path.join(server.out, "sub"));
    const redirected = await callError(server.client, downloadDirectory, { prefix: "data", local_dir: server.out });
    expect(redirected.code).toBe("outside_roots");
    expect(redirected.text).toContain("nothing was downloaded");
    expect(await readdir(server.outside)).toEqual([]);
    expect(await filesUnder(server.out)).toEqual({});
  });

  it("answers not_a_directory when local_dir is a file", async () => {
    const server = await start();
    await writeFile(server.out, "a file");
    expect((await callError(server.client, downloadDirectory, { prefix: "data", local_dir: server.out })).code).toBe("not_a_directory");
  });

  // Only S3 can hold keys that are not safe file paths.
  if (backend === "s3")
    it("refuses keys that would land outside local_dir, and writes nothing at all", async () => {
      const server = await start();
      await server.seed("data/../escape.txt", "escape");
      const { code, text } = await callError(server.client, downloadDirectory, { prefix: "data", local_dir: server.out });
      expect(code).toBe("invalid_argument");
      expect(text).toContain("data/../escape.txt");
      expect(text).toContain("nothing was downloaded");
      expect(await readdir(server.root)).toEqual([]);
    });

  // Only S3 holds multipart objects (the local store's ETags are MD5s of the bytes).
  if (backend === "s3")
    it("lists the files that could not be verified, with why, in the result and the text; verified ones are not listed", async () => {
      const server = await start();
      // 6 MiB parts: a size no tool uses, and fauxqs does not tell part sizes, so the ETag cannot be recomputed.
      const raw = server.s3!.rawClient();
      await putInParts(raw, server.store.name, "data/odd.bin", randomBytes(6 * MIB + 100), 6 * MIB).finally(() => raw.destroy());
      const { structured, text } = await callOk(server.client, downloadDirectory, { prefix: "data", local_dir: server.out });
      expect(structured.downloaded).toBe(4);
      const odd = path.join(server.out, "odd.bin");
      expect(structured.unverified).toEqual([{ path: odd, reason: expect.stringMatching(/multipart object \(2 parts\).*part size/) }]);
      expect(text).toContain(`; 1 file not verified (${JSON.stringify(odd)}: it is a multipart object (2 parts)`);
      expect(text).toContain(`\nnot verified (written as received):\n  ${odd}: it is a multipart object (2 parts)`);

      const again = await callOk(server.client, downloadDirectory, { prefix: "data/sub", local_dir: path.join(server.root, "sub") });
      expect(again.structured).not.toHaveProperty("unverified");
      expect(again.text).not.toContain("verified");
    });

  it("reads only under the allowed prefixes (the prefix taken with its trailing /), also when read-only", async () => {
    const server = await start({ allowPrefixes: ["data/sub/"], readOnly: true });
    for (const prefix of ["", "data", "other"]) {
      expect((await callError(server.client, downloadDirectory, { prefix, local_dir: server.out })).code).toBe("outside_allowed_prefix");
    }
    await callOk(server.client, downloadDirectory, { prefix: "data/sub", local_dir: server.out });
    expect(await filesUnder(server.out)).toEqual({ "b.txt": "bravo", "deep/c é.txt": "charlie" });
  });
});
