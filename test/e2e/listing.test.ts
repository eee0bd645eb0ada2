/**
 * list_objects over the real stdio transport (see test/helpers/tools-server.ts): default and
 * explicit page sizes, cursors that lose and repeat nothing, one level with prefixes, and the
 * limits and cursors it refuses. Against the embedded local store and against fauxqs.
 */
import { describe, expect, it } from "vitest";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { uploadDirectory } from "../../src/mcp/tools/upload-directory.js";
import { md5Hex } from "../helpers/bytes.js";
import { callError, callOk, listAllPages } from "../helpers/calls.js";
import { ISO_8601 } from "../helpers/spec.js";
import { SERVED } from "../helpers/start-client.js";
import { useToolsServer } from "../helpers/tools-server.js";

describe.each(SERVED)("tools over stdio, %s backend, protocol %s", (backend, era) => {
  const fx = useToolsServer(backend, era);

  describe("list_objects", () => {
    it("pages 205 objects: 200 by default, then the rest, no key lost or repeated", async () => {
      const names = Array.from({ length: 205 }, (_, i) => `f${String(i).padStart(3, "0")}.txt`);
      const dir = await fx.localDir("many", Object.fromEntries(names.map((n) => [n, n])));
      const up = await callOk(fx.client, uploadDirectory, { local_dir: dir, prefix: "many/", max_workers: 16 });
      expect(up.uploaded).toBe(205);
      const expected = names.map((n) => `many/${n}`);

      const first = await callOk(fx.client, listObjects, { prefix: "many/" });
      expect(first.objects).toHaveLength(200);
      expect(first.prefixes).toEqual([]);
      expect(first.next_cursor).toEqual(expect.any(String));
      const second = await callOk(fx.client, listObjects, { prefix: "many/", cursor: first.next_cursor });
      expect(second.objects).toHaveLength(5);
      expect(second.next_cursor).toBeUndefined();
      expect([...first.objects, ...second.objects].map((o) => o.key)).toEqual(expected);

      // Smaller pages that do not divide 205: still every key exactly once, in order.
      const small = await listAllPages(fx.client, { prefix: "many/", limit: 37 }, { maxPages: 20 });
      for (const page of small.pages) expect(page.objects.length).toBeLessThanOrEqual(37);
      expect(small.keys).toEqual(expected);

      const all = await callOk(fx.client, listObjects, { prefix: "many/", limit: 1000 });
      expect(all.objects).toHaveLength(205);
      expect(all.next_cursor).toBeUndefined();
      const one = await callOk(fx.client, listObjects, { prefix: "many/", limit: 1 });
      expect(one.objects.map((o) => o.key)).toEqual([expected[0]]);
    });

    it("lists recursively by default, one level with prefixes when recursive=false", async () => {
      const files = { "a.txt": "a", "b.txt": "bb", "d1/x.txt": "x", "d2/y.txt": "y", "d3/z/w.txt": "w" };
      const dir = await fx.localDir("levels", files);
      await callOk(fx.client, uploadDirectory, { local_dir: dir, prefix: "levels" });

      const deep = await callOk(fx.client, listObjects, { prefix: "levels/" });
      expect(deep.objects.map((o) => o.key)).toEqual(
        Object.keys(files)
          .map((k) => `levels/${k}`)
          .sort(),
      );
      expect(deep.prefixes).toEqual([]);
      const b = deep.objects.find((o) => o.key === "levels/b.txt")!;
      expect(b.size).toBe(2);
      expect(b.etag).toBe(md5Hex("bb"));
      expect(b.last_modified).toMatch(ISO_8601);

      const shallow = await callOk(fx.client, listObjects, { prefix: "levels/", recursive: false });
      expect(shallow.objects.map((o) => o.key)).toEqual(["levels/a.txt", "levels/b.txt"]);
      expect(shallow.prefixes).toEqual(["levels/d1/", "levels/d2/", "levels/d3/"]);

      // One level, paged two entries at a time: every object and prefix exactly once.
      const paged = await listAllPages(fx.client, { prefix: "levels/", recursive: false, limit: 2 }, { maxPages: 10 });
      for (const page of paged.pages) expect(page.objects.length + page.prefixes.length).toBeLessThanOrEqual(2);
      expect(paged.keys).toEqual(["levels/a.txt", "levels/b.txt"]);
      expect(paged.prefixes).toEqual(["levels/d1/", "levels/d2/", "levels/d3/"]);

      const empty = await callOk(fx.client, listObjects, { prefix: "levels/none/" });
      expect(empty).toEqual({ objects: [], prefixes: [] });
    });

    it("filters while paging: a glob and a size range, a cursor that carries on exactly, bad dates refused", async () => {
      const files: Record<string, string> = {};
      for (let i = 0; i < 12; i++) files[`run${String(i).padStart(2, "0")}/${i % 3 === 0 ? "model.ckpt" : "log.txt"}`] = "x".repeat(i + 1);
      const dir = await fx.localDir("filtered", files);
      await callOk(fx.client, uploadDirectory, { local_dir: dir, prefix: "filtered/" });
      const ckpts = Object.keys(files)
        .filter((k) => k.endsWith(".ckpt"))
        .map((k) => `filtered/${k}`);

      const all = await callOk(fx.client, listObjects, { prefix: "filtered/", glob: "filtered/**/*.ckpt" });
      expect(all.objects.map((o) => o.key)).toEqual(ckpts);
      expect(all.scanned).toBe(12);
      const paged = await listAllPages(fx.client, { prefix: "filtered/", glob: "**/*.ckpt", limit: 3 }, { maxPages: 5 });
      expect(paged.keys).toEqual(ckpts);
      expect(paged.pages[0]!.objects).toHaveLength(3);
      const sized = await callOk(fx.client, listObjects, { prefix: "filtered/", min_size: 4, max_size: 7, glob: "**/*.ckpt" });
      expect(sized.objects.map((o) => [o.key, o.size])).toEqual([
        ["filtered/run03/model.ckpt", 4],
        ["filtered/run06/model.ckpt", 7],
      ]);
      const recent = await callOk(fx.client, listObjects, {
        prefix: "filtered/",
        modified_after: "2000-01-01",
        modified_before: "2999-01-01",
      });
      expect(recent.objects).toHaveLength(12);
      const err = await callError(fx.client, "list_objects", { prefix: "filtered/", modified_after: "last tuesday" });
      expect(err.text).toMatch(/^invalid_argument: modified_after "last tuesday" is not an ISO 8601 time/);
    });

    it("refuses a limit out of range and a cursor it did not produce", async () => {
      for (const limit of [0, 1001, -1]) {
        const err = await callError(fx.client, "list_objects", { limit });
        expect(err.text.startsWith("invalid_argument"), `limit ${limit}`).toBe(true);
        expect(err.text).toContain("limit");
      }
      for (const cursor of ["bogus", "eyJ2IjoxfQ", ""]) {
        const err = await callError(fx.client, "list_objects", { cursor });
        expect(err.text.startsWith("invalid_argument"), `cursor ${JSON.stringify(cursor)}`).toBe(true);
      }
    });
  });
});
