/**
 * upload_bytes, upload_file and upload_directory over the real stdio transport (see
 * test/helpers/tools-server.ts): no silent overwrite, size and key limits, local paths and roots,
 * whole-tree conflicts, dry runs and progress. Against the embedded local store and against fauxqs.
 */
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { getObjectBytes } from "../../src/mcp/tools/get-object-bytes.js";
import { headObject } from "../../src/mcp/tools/head-object.js";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { uploadBytes } from "../../src/mcp/tools/upload-bytes.js";
import { uploadDirectory } from "../../src/mcp/tools/upload-directory.js";
import { uploadFile } from "../../src/mcp/tools/upload-file.js";
import { MIB, md5Hex } from "../helpers/bytes.js";
import { callError, callOk, listAllPages } from "../helpers/calls.js";
import { SERVED } from "../helpers/start-client.js";
import { useToolsServer } from "../helpers/tools-server.js";

describe.each(SERVED)("tools over stdio, %s backend, protocol %s", (backend, era) => {
  const fx = useToolsServer(backend, era);

  describe("upload_bytes", () => {
    it("writes utf8 and base64 data", async () => {
      const text = await callOk(fx.client, uploadBytes, { key: "ub/text.txt", data: "plain text ✓" });
      expect(text).toEqual({ key: "ub/text.txt", size: Buffer.byteLength("plain text ✓"), etag: md5Hex("plain text ✓"), replaced: false });
      expect(await fx.getText("ub/text.txt")).toBe("plain text ✓");

      const bytes = Buffer.from([0, 1, 2, 250, 251, 252]);
      const bin = await callOk(fx.client, uploadBytes, {
        key: "ub/data.bin",
        data: bytes.toString("base64"),
        encoding: "base64",
      });
      expect(bin).toEqual({ key: "ub/data.bin", size: 6, etag: md5Hex(bytes), replaced: false });
      const back = await callOk(fx.client, getObjectBytes, { key: "ub/data.bin" });
      expect(Buffer.from(back.data, "base64").equals(bytes)).toBe(true);
    });

    it("refuses an existing key without overwrite and leaves it unchanged; replaces it with overwrite", async () => {
      await callOk(fx.client, uploadBytes, { key: "ub/keep.txt", data: "original" });
      const err = await callError(fx.client, "upload_bytes", { key: "ub/keep.txt", data: "intruder" });
      expect(err.text).toMatch(/^already_exists: /);
      expect(err.text).toContain("ub/keep.txt");
      expect(err.text).toContain("overwrite: true");
      expect(await fx.getText("ub/keep.txt")).toBe("original");

      const replaced = await callOk(fx.client, uploadBytes, { key: "ub/keep.txt", data: "second", overwrite: true });
      expect(replaced).toMatchObject({ key: "ub/keep.txt", size: 6, replaced: true });
      expect(await fx.getText("ub/keep.txt")).toBe("second");

      const fresh = await callOk(fx.client, uploadBytes, { key: "ub/fresh.txt", data: "new", overwrite: true });
      expect(fresh.replaced).toBe(false);
    });

    it("refuses bad base64", async () => {
      for (const data of ["not base64!!", "abc", "QUJD=A=="]) {
        const err = await callError(fx.client, "upload_bytes", { key: "ub/bad.bin", data, encoding: "base64" });
        expect(err.text, data).toMatch(/^invalid_argument: /);
      }
      expect((await callOk(fx.client, headObject, { key: "ub/bad.bin" })).exists).toBe(false);
    });

    it("refuses more than 5 MiB of decoded data, pointing to upload_file", async () => {
      const err = await callError(fx.client, "upload_bytes", { key: "ub/huge.txt", data: "a".repeat(5 * MIB + 1) });
      expect(err.text).toMatch(/^too_large: /);
      expect(err.text).toContain("upload_file");
      expect((await callOk(fx.client, headObject, { key: "ub/huge.txt" })).exists).toBe(false);
    });

    // The limit is checked by the tool before the store is involved: one backend is enough.
    it.runIf(backend === "local")("accepts exactly 5 MiB", async () => {
      const exact = await callOk(fx.client, uploadBytes, { key: "ub/five.txt", data: "b".repeat(5 * MIB) });
      expect(exact.size).toBe(5 * MIB);
    });

    it("refuses invalid keys", async () => {
      for (const key of ["", "a\0b", "k".repeat(1025)]) {
        const err = await callError(fx.client, "upload_bytes", { key, data: "x" });
        expect(err.text, JSON.stringify(key.slice(0, 10))).toMatch(/^invalid_argument: /);
      }
    });
  });

  describe("upload_file", () => {
    it("uploads a file (absolute or relative to the working directory) and refuses to replace without overwrite", async () => {
      const dir = await fx.localDir("uf", { "report.txt": "report v1", "other.txt": "report v2" });
      const put = await callOk(fx.client, uploadFile, { local_path: path.join(dir, "report.txt"), key: "uf/report.txt" });
      expect(put).toEqual({ key: "uf/report.txt", size: 9, etag: md5Hex("report v1"), replaced: false });
      expect(await fx.getText("uf/report.txt")).toBe("report v1");

      const err = await callError(fx.client, "upload_file", { local_path: path.join(dir, "other.txt"), key: "uf/report.txt" });
      expect(err.text).toMatch(/^already_exists: /);
      expect(err.text).toContain("overwrite: true");
      expect(await fx.getText("uf/report.txt")).toBe("report v1");

      const relative = await callOk(fx.client, uploadFile, {
        local_path: "uf/other.txt",
        key: "uf/report.txt",
        overwrite: true,
      });
      expect(relative.replaced).toBe(true);
      expect(await fx.getText("uf/report.txt")).toBe("report v2");
    });

    it("answers not_found for a missing local file and invalid_argument for a directory", async () => {
      const dir = await fx.localDir("uf-errors", { "inside/f.txt": "f" });
      const missing = await callError(fx.client, "upload_file", { local_path: path.join(dir, "nope.txt"), key: "uf/nope.txt" });
      expect(missing.text).toMatch(/^not_found: /);
      const folder = await callError(fx.client, "upload_file", { local_path: path.join(dir, "inside"), key: "uf/inside" });
      expect(folder.text).toMatch(/^invalid_argument: /);
      expect((await callOk(fx.client, listObjects, { prefix: "uf/" })).objects).toEqual(
        expect.not.arrayContaining([expect.objectContaining({ key: "uf/nope.txt" }), expect.objectContaining({ key: "uf/inside" })]),
      );
    });

    it("refuses a path outside the server's roots", async () => {
      const err = await callError(fx.client, "upload_file", { local_path: "/etc/passwd", key: "uf/passwd" });
      expect(err.text).toMatch(/^outside_roots: /);
      await writeFile(path.join(fx.outside, "secret.txt"), "not yours");
      const escaped = await callError(fx.client, "upload_file", { local_path: "../outside/secret.txt", key: "uf/secret.txt" });
      expect(escaped.text).toMatch(/^outside_roots: /);
      expect((await callOk(fx.client, headObject, { key: "uf/passwd" })).exists).toBe(false);
      expect((await callOk(fx.client, headObject, { key: "uf/secret.txt" })).exists).toBe(false);
    });
  });

  describe("upload_directory", () => {
    const tree = {
      "top.txt": "top",
      "sub/with space.txt": "spaced out",
      "sub/deeper/ünïcødé 文件.bin": Buffer.from([1, 2, 3, 4, 5]),
    };
    const treeKeys = Object.keys(tree)
      .map((k) => `ud/${k}`)
      .sort();

    it("uploads a nested tree with unicode and space names, keys joined with /", async () => {
      const dir = await fx.localDir("ud-src", tree);
      const up = await callOk(fx.client, uploadDirectory, { local_dir: dir, prefix: "ud" });
      expect(up).toMatchObject({ uploaded: 3, bytes: 3 + 10 + 5, skipped: [], conflicts: [], planned: 3, dry_run: false });
      expect([...up.keys].sort()).toEqual(treeKeys);
      expect((await listAllPages(fx.client, { prefix: "ud/", limit: 1000 })).keys).toEqual(treeKeys);
      expect(await fx.getText("ud/sub/with space.txt")).toBe("spaced out");
      const bin = await callOk(fx.client, getObjectBytes, { key: "ud/sub/deeper/ünïcødé 文件.bin", encoding: "base64" });
      expect([...Buffer.from(bin.data, "base64")]).toEqual([1, 2, 3, 4, 5]);
    });

    it("skips destinations that already hold identical bytes", async () => {
      const again = await callOk(fx.client, uploadDirectory, {
        local_dir: path.join(fx.root, "ud-src"),
        prefix: "ud/",
      });
      expect(again).toMatchObject({ uploaded: 0, bytes: 0, keys: [], conflicts: [] });
      expect([...again.skipped].sort()).toEqual(treeKeys);
    });

    it("fails the whole call on a conflict, listing it, and writes nothing", async () => {
      const dir = await fx.localDir("ud-conflict", { "top.txt": "a different top", "brand-new.txt": "new" });
      const err = await callError(fx.client, "upload_directory", { local_dir: dir, prefix: "ud" });
      expect(err.text).toMatch(/^already_exists: /);
      expect(err.text).toContain("ud/top.txt");
      expect(err.structuredContent).toMatchObject({ uploaded: 0, conflicts: ["ud/top.txt"], error: { code: "already_exists" } });
      expect(await fx.getText("ud/top.txt")).toBe("top");
      expect((await callOk(fx.client, headObject, { key: "ud/brand-new.txt" })).exists).toBe(false);

      const dry = await callOk(fx.client, uploadDirectory, { local_dir: dir, prefix: "ud", dry_run: true });
      expect(dry).toMatchObject({ uploaded: 0, planned: 1, conflicts: ["ud/top.txt"], dry_run: true });
      expect((await callOk(fx.client, headObject, { key: "ud/brand-new.txt" })).exists).toBe(false);

      const forced = await callOk(fx.client, uploadDirectory, { local_dir: dir, prefix: "ud", overwrite: true });
      expect(forced.uploaded).toBe(2);
      expect(await fx.getText("ud/top.txt")).toBe("a different top");
      expect(await fx.getText("ud/brand-new.txt")).toBe("new");
    });

    it("dry_run reports what would be uploaded and writes nothing", async () => {
      const dir = await fx.localDir("ud-dry", { "one.txt": "1", "two/three.txt": "333" });
      const dry = await callOk(fx.client, uploadDirectory, { local_dir: dir, prefix: "ud-dry/", dry_run: true });
      expect(dry).toMatchObject({ uploaded: 0, bytes: 0, planned: 2, skipped: [], conflicts: [], dry_run: true });
      expect([...dry.keys].sort()).toEqual(["ud-dry/one.txt", "ud-dry/two/three.txt"]);
      expect((await listAllPages(fx.client, { prefix: "ud-dry/", limit: 1000 })).keys).toEqual([]);
    });

    it("refuses max_workers out of 1..64 and a local_dir that is a file", async () => {
      const dir = await fx.localDir("ud-args", { "f.txt": "f" });
      for (const max_workers of [0, 65]) {
        const err = await callError(fx.client, "upload_directory", { local_dir: dir, prefix: "ud-args", max_workers });
        expect(err.text, `max_workers ${max_workers}`).toMatch(/^invalid_argument: /);
        expect(err.text).toContain("max_workers");
      }
      const file = await callError(fx.client, "upload_directory", { local_dir: path.join(dir, "f.txt"), prefix: "ud-args" });
      expect(file.text).toMatch(/^not_a_directory: /);
      const missing = await callError(fx.client, "upload_directory", { local_dir: path.join(dir, "nope"), prefix: "ud-args" });
      expect(missing.text).toMatch(/^not_found: /);
      const out = await callError(fx.client, "upload_directory", { local_dir: fx.outside, prefix: "ud-args" });
      expect(out.text).toMatch(/^outside_roots: /);
      expect((await listAllPages(fx.client, { prefix: "ud-args/", limit: 1000 })).keys).toEqual([]);
    });

    it("sends progress notifications ending with progress equal to total, all before the result", async () => {
      const dir = await fx.localDir("ud-progress", {
        "a.bin": Buffer.alloc(300_000, 1),
        "b.bin": Buffer.alloc(200_000, 2),
        "c/d.bin": Buffer.alloc(100_000, 3),
      });
      const updates: Record<string, unknown>[] = [];
      const from = fx.server.received.length;
      // onprogress makes the SDK client put a progressToken in the request's _meta.
      const result = await fx.client.callTool(
        { name: "upload_directory", arguments: { local_dir: dir, prefix: "ud-progress" } },
        { onprogress: (p) => updates.push({ ...p }) },
      );
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ uploaded: 3, planned: 3 });

      // What the server wrote, in wire order (see RunningServer.received for why not onprogress alone).
      const wire = fx.server.received.slice(from);
      const progress = wire.flatMap((m) => (m.kind === "progress" ? [m.params] : []));
      expect(progress.length).toBeGreaterThanOrEqual(1);
      const last = progress.at(-1)!;
      expect(last.total).toBe(600_000);
      expect(last.progress).toBe(last.total);
      for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
      expect(new Set(progress.map((p) => p.progressToken)).size).toBe(1);
      const lastProgressAt = wire.findLastIndex((m) => m.kind === "progress");
      const responseAt = wire.findIndex((m) => m.kind === "response");
      expect(lastProgressAt).toBeLessThan(responseAt);
      // The caller's onprogress saw those notifications, in order (possibly not the last ones).
      expect(updates).toEqual(progress.slice(0, updates.length).map(({ progressToken: _token, ...rest }) => rest));
    });

    it("sends no progress when the request has no progressToken", async () => {
      const dir = await fx.localDir("ud-no-progress", { "a.bin": Buffer.alloc(10_000, 1) });
      const from = fx.server.received.length;
      await callOk(fx.client, uploadDirectory, { local_dir: dir, prefix: "ud-no-progress" });
      expect(fx.server.received.slice(from).filter((m) => m.kind === "progress")).toEqual([]);
    });
  });
});
