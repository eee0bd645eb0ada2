/**
 * download_file and download_directory over the real stdio transport (see
 * test/helpers/tools-server.ts): parent folders, no silent overwrite of local files, roots, dry
 * runs, and no temporary part files left behind. Against the embedded local store and against fauxqs.
 */
import { existsSync } from "node:fs";
import { readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { downloadDirectory } from "../../src/mcp/tools/download-directory.js";
import { downloadFile } from "../../src/mcp/tools/download-file.js";
import { uploadBytes } from "../../src/mcp/tools/upload-bytes.js";
import { uploadDirectory } from "../../src/mcp/tools/upload-directory.js";
import { md5Hex } from "../helpers/bytes.js";
import { callError, callOk } from "../helpers/calls.js";
import { SERVED } from "../helpers/start-client.js";
import { filesUnder, snapshotTree } from "../helpers/tmp.js";
import { useToolsServer } from "../helpers/tools-server.js";

describe.each(SERVED)("tools over stdio, %s backend, protocol %s", (backend, era) => {
  const fx = useToolsServer(backend, era);

  describe("download_file", () => {
    beforeAll(async () => {
      await callOk(fx.client, uploadBytes, { key: "df/data.csv", data: "a,b\n1,2\n" });
      await callOk(fx.client, uploadBytes, { key: "df/other.csv", data: "other" });
    });

    it("saves an object, creating parent folders", async () => {
      const target = path.join(fx.root, "df", "nested", "data.csv");
      const got = await callOk(fx.client, downloadFile, { key: "df/data.csv", local_path: target });
      expect(got).toEqual({ local_path: target, size: 8, etag: md5Hex("a,b\n1,2\n") });
      expect(await readFile(target, "utf8")).toBe("a,b\n1,2\n");
      const relative = await callOk(fx.client, downloadFile, {
        key: "df/data.csv",
        local_path: "df/relative.csv",
      });
      expect(relative.local_path).toBe(path.join(fx.root, "df", "relative.csv"));
      expect(await readFile(path.join(fx.root, "df", "relative.csv"), "utf8")).toBe("a,b\n1,2\n");
    });

    it("refuses an existing file without overwrite and leaves it unchanged; replaces it with overwrite", async () => {
      const target = path.join(fx.root, "df", "existing.csv");
      await writeFile(target, "precious local edits");
      const err = await callError(fx.client, "download_file", { key: "df/other.csv", local_path: target });
      expect(err.text).toMatch(/^already_exists: /);
      expect(err.text).toContain("overwrite: true");
      expect(await readFile(target, "utf8")).toBe("precious local edits");

      const replaced = await callOk(fx.client, downloadFile, {
        key: "df/other.csv",
        local_path: target,
        overwrite: true,
      });
      expect(replaced.size).toBe(5);
      expect(await readFile(target, "utf8")).toBe("other");
    });

    it("answers not_found for a missing key and writes nothing", async () => {
      const target = path.join(fx.root, "df", "missing.csv");
      const err = await callError(fx.client, "download_file", { key: "df/missing.csv", local_path: target });
      expect(err.text).toMatch(/^not_found: /);
      expect(existsSync(target)).toBe(false);
    });

    it("refuses a target outside the server's roots", async () => {
      const target = path.join(fx.outside, "stolen.csv");
      const err = await callError(fx.client, "download_file", { key: "df/data.csv", local_path: target });
      expect(err.text).toMatch(/^outside_roots: /);
      expect(existsSync(target)).toBe(false);
    });

    it("leaves no temporary part files behind", async () => {
      const leftovers = (await filesUnder(path.join(fx.root, "df"))).filter((f) => f.endsWith(".r2-mcp-part"));
      expect(leftovers).toEqual([]);
      expect(await filesUnder(path.join(fx.root, "df"))).toEqual(["existing.csv", "nested/data.csv", "relative.csv"]);
    });
  });

  describe("download_directory", () => {
    const tree = {
      "readme.md": "# data\n",
      "runs/1/metrics.csv": "step,loss\n1,0.5\n",
      "runs/2/ünï côde.txt": "ü",
      "runs/2/weights.bin": Buffer.from([9, 8, 7, 0, 255]),
    };
    let source: string;

    beforeAll(async () => {
      source = await fx.localDir("dd-src", tree);
      await callOk(fx.client, uploadDirectory, { local_dir: source, prefix: "dd" });
    });

    it("creates the directory and recreates the structure below the prefix", async () => {
      const target = path.join(fx.root, "dd-out", "fresh");
      const got = await callOk(fx.client, downloadDirectory, { prefix: "dd", local_dir: target });
      expect(got).toMatchObject({ downloaded: 4, conflicts: [], skipped: [], dry_run: false });
      expect(got.bytes).toBe(7 + 16 + 2 + 5);
      expect([...got.files].sort()).toEqual(
        Object.keys(tree)
          .map((k) => path.join(target, k))
          .sort(),
      );
      expect(await snapshotTree(target)).toEqual(await snapshotTree(source));
    });

    it("skips identical files, refuses a conflict (listing it, writing nothing), and replaces with overwrite", async () => {
      const target = path.join(fx.root, "dd-out", "fresh");
      const again = await callOk(fx.client, downloadDirectory, { prefix: "dd/", local_dir: target });
      expect(again).toMatchObject({ downloaded: 0, files: [] });
      expect(again.skipped).toHaveLength(4);

      const edited = path.join(target, "runs", "1", "metrics.csv");
      await writeFile(edited, "local edits");
      await rm(path.join(target, "readme.md"));
      const before = await snapshotTree(target);
      const err = await callError(fx.client, "download_directory", { prefix: "dd", local_dir: target });
      expect(err.text).toMatch(/^already_exists: /);
      expect(err.structuredContent).toMatchObject({ downloaded: 0, conflicts: [edited], error: { code: "already_exists" } });
      expect(await snapshotTree(target)).toEqual(before);

      const dry = await callOk(fx.client, downloadDirectory, { prefix: "dd", local_dir: target, dry_run: true });
      expect(dry).toMatchObject({ downloaded: 0, planned: 1, conflicts: [edited], dry_run: true });
      expect(await snapshotTree(target)).toEqual(before);

      const forced = await callOk(fx.client, downloadDirectory, {
        prefix: "dd",
        local_dir: target,
        overwrite: true,
      });
      expect(forced.downloaded).toBe(2);
      expect(await snapshotTree(target)).toEqual(await snapshotTree(source));
    });

    // Node 22+ names worker threads after their `name` (Node 20 does not): the built server moves
    // small files through its files thread (src/core/fs/small-files.ts) and hashes files from
    // 1 MiB on its md5 thread (hash-pool.ts). It starts both from source text, so a bundle that
    // broke that text would fall back silently (files) or fail only large downloads (md5).
    const namedThreads = Number(process.versions.node.split(".")[0]) >= 22 && existsSync("/proc/self/task");
    it.runIf(namedThreads)("moves its small files through the server's files thread and hashes large ones on its md5 thread", async () => {
      const large = await fx.localDir("dd-large", { "big.bin": Buffer.alloc(2 * 1024 * 1024, 3) });
      await callOk(fx.client, uploadDirectory, { local_dir: large, prefix: "dd-large" });
      const target = path.join(fx.root, "dd-out", "threaded");
      await callOk(fx.client, downloadDirectory, { prefix: "dd", local_dir: path.join(target, "small") });
      await callOk(fx.client, downloadDirectory, { prefix: "dd-large", local_dir: path.join(target, "large") });
      const pid = fx.server.pid;
      expect(pid).toBeDefined();
      const names = await Promise.all(
        (await readdir(`/proc/${pid}/task`)).map((tid) => readFile(`/proc/${pid}/task/${tid}/comm`, "utf8").catch(() => "")),
      );
      expect(names.map((n) => n.trim())).toEqual(expect.arrayContaining(["r2-mcp files", "r2-mcp md5"]));
      expect(await snapshotTree(path.join(target, "small"))).toEqual(await snapshotTree(source));
      expect(await snapshotTree(path.join(target, "large"))).toEqual(await snapshotTree(large));
    });

    it("dry_run creates nothing", async () => {
      const target = path.join(fx.root, "dd-out", "dry");
      const dry = await callOk(fx.client, downloadDirectory, { prefix: "dd", local_dir: target, dry_run: true });
      expect(dry).toMatchObject({ downloaded: 0, bytes: 0, planned: 4, dry_run: true });
      expect(dry.files).toHaveLength(4);
      for (const file of dry.files) expect(file.startsWith(`${target}${path.sep}`)).toBe(true);
      expect(existsSync(target)).toBe(false);
    });

    it("refuses max_workers out of range, a file as local_dir, and a directory outside the roots", async () => {
      for (const max_workers of [0, 65]) {
        const err = await callError(fx.client, "download_directory", {
          prefix: "dd",
          local_dir: path.join(fx.root, "dd-out", "w"),
          max_workers,
        });
        expect(err.text).toMatch(/^invalid_argument: /);
      }
      const file = path.join(fx.root, "dd-out", "a-file");
      await writeFile(file, "x");
      const notDir = await callError(fx.client, "download_directory", { prefix: "dd", local_dir: file });
      expect(notDir.text).toMatch(/^not_a_directory: /);
      const out = await callError(fx.client, "download_directory", { prefix: "dd", local_dir: path.join(fx.outside, "dd") });
      expect(out.text).toMatch(/^outside_roots: /);
      expect(existsSync(path.join(fx.outside, "dd"))).toBe(false);
      expect(existsSync(path.join(fx.root, "dd-out", "w"))).toBe(false);
    });

    it("leaves no temporary part files behind", async () => {
      const leftovers = (await filesUnder(path.join(fx.root, "dd-out"))).filter((f) => f.endsWith(".r2-mcp-part"));
      expect(leftovers).toEqual([]);
    });
  });
});
