import { createHash } from "node:crypto";
import { utimes } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { BACKENDS, callError, callOk, useInProcess } from "../helpers/in-process.js";

const md5 = (text: string) => createHash("md5").update(text).digest("hex");
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const summary = (key: string, data: string) => ({
  key,
  size: Buffer.byteLength(data),
  etag: md5(data),
  last_modified: expect.stringMatching(ISO_8601),
});

const TREE = { "a.txt": "alpha", "dir/b.txt": "bravo!", "dir/sub/c.txt": "charlie" };

describe.each(BACKENDS)("list_objects, %s backend", (backend) => {
  const env = useInProcess(backend);
  const start = async (options: Parameters<typeof env.start>[0] = {}) => {
    const server = await env.start(options);
    for (const [key, data] of Object.entries(TREE)) await server.seed(key, data);
    return server;
  };

  it("lists every object recursively by default, each line of the text naming the key and its size", async () => {
    const { client } = await start();
    const { structured, text } = await callOk(client, listObjects, {});
    expect(structured).toEqual({ objects: Object.entries(TREE).map(([k, v]) => summary(k, v)), prefixes: [] });
    expect(structured.next_cursor).toBeUndefined();
    const lines = text.split("\n");
    expect(lines[0]).toBe('3 objects under ""');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^a\.txt {2}5 B {2}\d{4}-/),
      expect.stringMatching(/^dir\/b\.txt {2}6 B {2}/),
      expect.stringMatching(/^dir\/sub\/c\.txt {2}7 B {2}/),
    ]);
  });

  it("lists one level with child prefixes when recursive is false, and only under the prefix", async () => {
    const { client } = await start();
    const top = await callOk(client, listObjects, { recursive: false });
    expect(top.structured).toEqual({ objects: [summary("a.txt", TREE["a.txt"])], prefixes: ["dir/"] });
    expect(top.text).toBe(`1 object and 1 prefix under ""\ndir/  (prefix)\n${top.text.split("\n")[2]}`);
    const dir = await callOk(client, listObjects, { prefix: "dir/", recursive: false });
    expect(dir.structured).toEqual({ objects: [summary("dir/b.txt", TREE["dir/b.txt"])], prefixes: ["dir/sub/"] });
    const deep = await callOk(client, listObjects, { prefix: "dir/" });
    expect(deep.structured.objects.map((o) => o.key)).toEqual(["dir/b.txt", "dir/sub/c.txt"]);
  });

  it("answers an empty listing with no objects, not an error", async () => {
    const { client } = await env.start();
    const { structured, text } = await callOk(client, listObjects, { prefix: "nothing/" });
    expect(structured).toEqual({ objects: [], prefixes: [] });
    expect(text).toBe('0 objects under "nothing/"');
  });

  it("pages 200 by default; the text names every entry of the page, one line each, and the cursor", async () => {
    const server = await env.start();
    const keys = Array.from({ length: 201 }, (_, i) => `k/${String(i).padStart(3, "0")}`);
    await Promise.all(keys.map((k) => server.seed(k, "x")));
    const first = await callOk(server.client, listObjects, {});
    expect(first.structured.objects.map((o) => o.key)).toEqual(keys.slice(0, 200));
    expect(first.structured.next_cursor).toEqual(expect.any(String));
    const lines = first.text.split("\n");
    expect(lines[0]).toBe('200 objects under ""; more follow');
    expect(lines).toHaveLength(1 + 200 + 1);
    expect(lines.slice(1, 201).map((l) => l.split("  ")[0])).toEqual(keys.slice(0, 200));
    expect(lines.at(-1)).toBe(`next_cursor: ${first.structured.next_cursor}`);
    const rest = await callOk(server.client, listObjects, { cursor: first.structured.next_cursor });
    expect(rest.structured).toEqual({ objects: [summary("k/200", "x")], prefixes: [] });
  });

  it("pages with a small limit without losing or repeating a key", async () => {
    const { client } = await start();
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const { structured } = await callOk(client, listObjects, { limit: 2, ...(cursor ? { cursor } : {}) });
      expect(structured.objects.length).toBeLessThanOrEqual(2);
      seen.push(...structured.objects.map((o) => o.key));
      cursor = structured.next_cursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual(Object.keys(TREE));
    expect(pages).toBe(2);
  });

  it("counts prefixes in the limit of a one-level page", async () => {
    const { client } = await start();
    const first = await callOk(client, listObjects, { recursive: false, limit: 1 });
    expect(first.structured).toEqual({ objects: [summary("a.txt", TREE["a.txt"])], prefixes: [], next_cursor: expect.any(String) });
    const second = await callOk(client, listObjects, { recursive: false, limit: 1, cursor: first.structured.next_cursor });
    expect(second.structured).toEqual({ objects: [], prefixes: ["dir/"] });
  });

  it.each([0, -1, 1001, 1_000_000])("refuses limit %s with invalid_argument, never clamping it", async (limit) => {
    const { client } = await start();
    const { code, text } = await callError(client, listObjects, { limit });
    expect(code).toBe("invalid_argument");
    expect(text).toBe(`invalid_argument: limit must be an integer from 1 to 1000; got ${limit}`);
  });

  it("accepts the ends of the limit range, 1 and 1000", async () => {
    const { client } = await start();
    expect((await callOk(client, listObjects, { limit: 1 })).structured.objects).toHaveLength(1);
    expect((await callOk(client, listObjects, { limit: 1000 })).structured.objects).toHaveLength(3);
  });

  it("refuses a cursor from another listing, or one it never produced", async () => {
    const { client } = await start();
    const { structured } = await callOk(client, listObjects, { limit: 1 });
    for (const args of [
      { prefix: "dir/", cursor: structured.next_cursor },
      { recursive: false, cursor: structured.next_cursor },
      { cursor: "not-a-cursor" },
    ]) {
      const { code, text } = await callError(client, listObjects, args);
      expect(code).toBe("invalid_argument");
      expect(text).toContain("cursor was not produced by this listing");
    }
  });

  it("lists only under the allowed prefixes: the whole bucket or another prefix is outside_allowed_prefix", async () => {
    const server = await start({ allowPrefixes: ["dir/"] });
    for (const prefix of ["", "a", "dir"]) {
      const { code, text } = await callError(server.client, listObjects, { prefix });
      expect(code).toBe("outside_allowed_prefix");
      expect(text).toContain('"dir/"');
    }
    const { structured } = await callOk(server.client, listObjects, { prefix: "dir/sub/" });
    expect(structured.objects.map((o) => o.key)).toEqual(["dir/sub/c.txt"]);
  });

  it("still lists on a read-only server", async () => {
    const { client } = await start({ readOnly: true });
    expect((await callOk(client, listObjects, {})).structured.objects).toHaveLength(3);
  });

  describe("filters", () => {
    const RUN = {
      "exp/a/model.ckpt": "c".repeat(100),
      "exp/a/log.txt": "log",
      "exp/b/model.ckpt": "c".repeat(300),
      "exp/b/sub/opt.ckpt": "c".repeat(50),
      "exp/notes.md": "notes",
      "other/x.ckpt": "elsewhere",
    };
    const seedRun = async (options: Parameters<typeof env.start>[0] = {}) => {
      const server = await env.start(options);
      for (const [key, data] of Object.entries(RUN)) await server.seed(key, data);
      return server;
    };

    it("a glob selects keys across segments; the result says what was examined and stays small", async () => {
      const { client } = await seedRun();
      const { structured, text } = await callOk(client, listObjects, { prefix: "exp/", glob: "exp/**/*.ckpt" });
      expect(structured.objects.map((o) => o.key)).toEqual(["exp/a/model.ckpt", "exp/b/model.ckpt", "exp/b/sub/opt.ckpt"]);
      expect(structured.scanned).toBe(5);
      expect(structured.prefixes).toEqual([]);
      expect(structured.next_cursor).toBeUndefined();
      expect(text.split("\n")[0]).toBe('3 matching objects under "exp/" (glob "exp/**/*.ckpt"; 5 keys examined)');
      const one = await callOk(client, listObjects, { glob: "exp/*/*.ckpt" });
      expect(one.structured.objects.map((o) => o.key)).toEqual(["exp/a/model.ckpt", "exp/b/model.ckpt"]);
      const alternatives = await callOk(client, listObjects, { glob: "{exp,other}/*.{md,ckpt}" });
      expect(alternatives.structured.objects.map((o) => o.key)).toEqual(["exp/notes.md", "other/x.ckpt"]);
    });

    it("sizes are inclusive and combine with the glob", async () => {
      const { client } = await seedRun();
      const { structured } = await callOk(client, listObjects, { glob: "**/*.ckpt", min_size: 100, max_size: 300 });
      expect(structured.objects.map((o) => [o.key, o.size])).toEqual([
        ["exp/a/model.ckpt", 100],
        ["exp/b/model.ckpt", 300],
      ]);
      const big = await callOk(client, listObjects, { min_size: 200 });
      expect(big.structured.objects.map((o) => o.key)).toEqual(["exp/b/model.ckpt"]);
    });

    it("times: at or after modified_after, before modified_before", async () => {
      const { client } = await seedRun();
      const all = await callOk(client, listObjects, { prefix: "exp/a/" });
      const t = all.structured.objects[0]!.last_modified;
      const future = new Date(Date.now() + 86_400_000).toISOString();
      expect((await callOk(client, listObjects, { prefix: "exp/a/", modified_after: future })).structured.objects).toEqual([]);
      expect((await callOk(client, listObjects, { prefix: "exp/a/", modified_before: future })).structured.objects).toHaveLength(2);
      const since = await callOk(client, listObjects, { prefix: "exp/a/log", modified_after: t, modified_before: future });
      expect(since.structured.objects.map((o) => o.key)).toEqual(["exp/a/log.txt"]);
      expect((await callOk(client, listObjects, { prefix: "exp/a/log", modified_before: t })).structured.objects).toEqual([]);
    });

    it.runIf(backend === "local")("times select by the objects' real modification times (set on the local store's files)", async () => {
      const server = await seedRun();
      const day = (d: string) => new Date(`${d}T12:00:00Z`);
      await utimes(path.join(server.storeDir!, "exp/a/log.txt"), day("2026-01-10"), day("2026-01-10"));
      await utimes(path.join(server.storeDir!, "exp/notes.md"), day("2026-03-10"), day("2026-03-10"));
      const { structured } = await callOk(server.client, listObjects, {
        prefix: "exp/",
        modified_after: "2026-01-01",
        modified_before: "2026-02-01T00:00:00+01:00",
      });
      expect(structured.objects.map((o) => [o.key, o.last_modified])).toEqual([["exp/a/log.txt", "2026-01-10T12:00:00.000Z"]]);
      const march = await callOk(server.client, listObjects, {
        prefix: "exp/",
        modified_after: "2026-03-10T12:00:00Z",
        modified_before: "2026-04-01",
      });
      expect(march.structured.objects.map((o) => o.key)).toEqual(["exp/notes.md"]);
    });

    it("limit counts matches; the cursor carries on exactly and is bound to the filter", async () => {
      const server = await env.start();
      const keys = Array.from({ length: 30 }, (_, i) => `m/${String(i).padStart(2, "0")}.${i % 4 === 0 ? "csv" : "log"}`);
      for (const k of keys) await server.seed(k, "x");
      const seen: string[] = [];
      let cursor: string | undefined;
      let calls = 0;
      do {
        const { structured } = await callOk(server.client, listObjects, { glob: "m/*.csv", limit: 3, ...(cursor ? { cursor } : {}) });
        expect(structured.objects.length).toBeLessThanOrEqual(3);
        seen.push(...structured.objects.map((o) => o.key));
        cursor = structured.next_cursor;
        if (++calls > 10) throw new Error("no end");
      } while (cursor);
      expect(seen).toEqual(keys.filter((k) => k.endsWith(".csv")));
      const first = await callOk(server.client, listObjects, { glob: "m/*.csv", limit: 3 });
      for (const args of [
        { glob: "m/*.log", limit: 3, cursor: first.structured.next_cursor },
        { limit: 3, cursor: first.structured.next_cursor },
        { glob: "m/*.csv", min_size: 1, limit: 3, cursor: first.structured.next_cursor },
      ]) {
        const { code, text } = await callError(server.client, listObjects, args);
        expect(code).toBe("invalid_argument");
        expect(text).toContain("cursor was not produced by this listing");
      }
    });

    it("with recursive=false a filter selects the direct objects only", async () => {
      const { client } = await seedRun();
      const { structured } = await callOk(client, listObjects, { prefix: "exp/", recursive: false, glob: "**" });
      expect(structured).toEqual({ objects: [expect.objectContaining({ key: "exp/notes.md" })], prefixes: [], scanned: 3 });
    });

    it.each([
      [{ modified_after: "yesterday" }, "modified_after"],
      [{ modified_before: "2026-02-30" }, "modified_before"],
      [{ modified_after: "2026-06-01T25:00:00Z" }, "modified_after"],
      [{ modified_after: "2026-06-02", modified_before: "2026-06-01" }, "modified_after"],
      [{ min_size: 10, max_size: 5 }, "min_size"],
      [{ min_size: -1 }, "min_size"],
      [{ glob: "" }, "glob"],
      [{ glob: "exp/{a" }, "glob"],
      [{ glob: "x".repeat(1025) }, "glob"],
    ])("refuses %j with invalid_argument naming %s", async (args, argument) => {
      const { client } = await seedRun();
      const { code, text } = await callError(client, listObjects, args);
      expect(code).toBe("invalid_argument");
      expect(text).toContain(argument);
    });

    it("filters inside the allowed prefixes only", async () => {
      const { client } = await seedRun({ allowPrefixes: ["exp/a/"] });
      expect((await callError(client, listObjects, { glob: "**/*.ckpt" })).code).toBe("outside_allowed_prefix");
      const { structured } = await callOk(client, listObjects, { prefix: "exp/a/", glob: "**/*.ckpt" });
      expect(structured.objects.map((o) => o.key)).toEqual(["exp/a/model.ckpt"]);
    });
  });
});
