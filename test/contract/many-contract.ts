/**
 * The contract of listing from a point (ListOptions.startAfter) and of what is written once over it
 * (findObjects: filters applied while paging), run inside storeContract against every backend and
 * wrapper. Self-contained: its own key prefixes, its own puts.
 */
import pMap from "p-map";
import { beforeAll, describe, expect, it } from "vitest";
import { findObjects, type ResumePoint } from "../../src/core/find.js";
import { MAX_DELETE_BATCH, type ObjectStore } from "../../src/core/store.js";
import { rejectionOf } from "../helpers/assert.js";

export function manyObjectsContract(storeOf: () => ObjectStore): void {
  const put = (key: string, data: string) => storeOf().put(key, { kind: "bytes", data: Buffer.from(data) }, { mode: "overwrite" });

  describe("list from a point (startAfter)", () => {
    const keys = ["SA/a.txt", "SA/b/1.txt", "SA/b/2.txt", "SA/c.txt", "SA/d/x.txt", "SA/e.txt"];
    beforeAll(async () => {
      await pMap(keys, (k) => put(k, k), { concurrency: 8 });
    });

    it("lists only keys after a key, recursively", async () => {
      const page = await storeOf().list({ prefix: "SA/", startAfter: "SA/b/1.txt" });
      expect(page.objects.map((o) => o.key)).toEqual(["SA/b/2.txt", "SA/c.txt", "SA/d/x.txt", "SA/e.txt"]);
      const none = await storeOf().list({ prefix: "SA/", startAfter: "SA/e.txt" });
      expect(none.objects).toEqual([]);
      expect(none.nextCursor).toBeUndefined();
    });

    it("after a key that does not exist, lists from where it would sort", async () => {
      const page = await storeOf().list({ prefix: "SA/", startAfter: "SA/bb" });
      expect(page.objects.map((o) => o.key)).toEqual(["SA/c.txt", "SA/d/x.txt", "SA/e.txt"]);
    });

    it("by level: after a child prefix, none of its keys come back as that prefix", async () => {
      const page = await storeOf().list({ prefix: "SA/", delimiter: "/", startAfter: "SA/b/" });
      expect(page.objects.map((o) => o.key)).toEqual(["SA/c.txt", "SA/e.txt"]);
      expect(page.prefixes).toEqual(["SA/d/"]);
    });

    it("pages on with the cursor of a page that started after a key, losing and repeating nothing", async () => {
      const first = await storeOf().list({ prefix: "SA/", startAfter: "SA/a.txt", limit: 2 });
      expect(first.objects.map((o) => o.key)).toEqual(["SA/b/1.txt", "SA/b/2.txt"]);
      const second = await storeOf().list({ prefix: "SA/", limit: 2, cursor: first.nextCursor });
      expect(second.objects.map((o) => o.key)).toEqual(["SA/c.txt", "SA/d/x.txt"]);
    });

    it("refuses startAfter beside a cursor, or empty (invalid_argument)", async () => {
      const first = await storeOf().list({ prefix: "SA/", limit: 1 });
      for (const options of [
        { prefix: "SA/", startAfter: "SA/a.txt", cursor: first.nextCursor },
        { prefix: "SA/", startAfter: "" },
        { prefix: "SA/", startAfter: "x".repeat(1025) },
      ]) {
        const err = await rejectionOf(storeOf().list(options));
        expect(err.kind).toBe("invalid_argument");
        expect(err.message).toMatch(/startAfter/);
      }
    });
  });

  describe("findObjects: filters applied while paging", () => {
    // 40 keys: every third a checkpoint, sizes growing with the index.
    const keys = Array.from({ length: 40 }, (_, i) => `F/run${String(i).padStart(2, "0")}/${i % 3 === 0 ? "model.ckpt" : "log.txt"}`);
    const body = (i: number) => "x".repeat(i + 1);
    beforeAll(async () => {
      await pMap(keys, (k, i) => put(k, body(i)), { concurrency: 8 });
      await put("F/top.ckpt", "top");
      await put("Fx/other.ckpt", "elsewhere");
    });
    const ckpts = keys.filter((_, i) => i % 3 === 0);

    /** Follows a filtered listing to its end, with every call's result. */
    async function follow(options: Omit<Parameters<typeof findObjects>[1], "from">) {
      const calls: Awaited<ReturnType<typeof findObjects>>[] = [];
      let from: ResumePoint | undefined;
      do {
        const result = await findObjects(storeOf(), { ...options, from });
        calls.push(result);
        from = result.next;
        if (calls.length > 200) throw new Error("listing never ends");
      } while (from);
      return { calls, keys: calls.flatMap((c) => c.objects.map((o) => o.key)) };
    }

    it("a glob over the whole key: ** across segments, * within one", async () => {
      const deep = await findObjects(storeOf(), { prefix: "F/", limit: 1000, filter: { glob: "F/**/*.ckpt" } });
      expect(deep.objects.map((o) => o.key)).toEqual([...ckpts, "F/top.ckpt"].sort());
      expect(deep.scanned).toBe(41);
      expect(deep.next).toBeUndefined();
      const one = await findObjects(storeOf(), { prefix: "F/", limit: 1000, filter: { glob: "F/*.ckpt" } });
      expect(one.objects.map((o) => o.key)).toEqual(["F/top.ckpt"]);
      const alternatives = await findObjects(storeOf(), { prefix: "F/", limit: 1000, filter: { glob: "F/run0{1,2}/*" } });
      expect(alternatives.objects.map((o) => o.key)).toEqual(["F/run01/log.txt", "F/run02/log.txt"]);
    });

    it("sizes are inclusive at both ends", async () => {
      const found = await findObjects(storeOf(), { prefix: "F/run", limit: 1000, filter: { minSize: 10, maxSize: 12 } });
      expect(found.objects.map((o) => o.size)).toEqual([10, 11, 12]);
      expect(found.objects.map((o) => o.key)).toEqual([keys[9], keys[10], keys[11]]);
    });

    it("times: modified_after is inclusive, modified_before exclusive", async () => {
      const [first] = (await storeOf().list({ prefix: "F/run00/" })).objects;
      const t = first!.lastModified;
      const all = await findObjects(storeOf(), { prefix: "F/run00/", limit: 10, filter: { modifiedAfter: t } });
      expect(all.objects.map((o) => o.key)).toEqual([keys[0]]);
      const before = await findObjects(storeOf(), { prefix: "F/run00/", limit: 10, filter: { modifiedBefore: t } });
      expect(before.objects).toEqual([]);
      const later = await findObjects(storeOf(), {
        prefix: "F/run00/",
        limit: 10,
        filter: { modifiedBefore: new Date(t.getTime() + 1) },
      });
      expect(later.objects.map((o) => o.key)).toEqual([keys[0]]);
      const future = await findObjects(storeOf(), {
        prefix: "F/",
        limit: 10,
        filter: { modifiedAfter: new Date(Date.now() + 86_400_000) },
      });
      expect(future.objects).toEqual([]);
    });

    it("limit counts matches: pages of 4 matches lose and repeat nothing, stopping part-way through store pages", async () => {
      const paged = await follow({ prefix: "F/", limit: 4, filter: { glob: "**/*.ckpt" } });
      expect(paged.keys).toEqual([...ckpts, "F/top.ckpt"].sort());
      for (const call of paged.calls) expect(call.objects.length).toBeLessThanOrEqual(4);
      expect(paged.calls[0]!.next).toEqual({ startAfter: ckpts[3] });
    });

    it("stops after examining maxScanned keys and says where to go on", async () => {
      const first = await findObjects(storeOf(), { prefix: "F/", limit: 1000, maxScanned: 10, filter: { glob: "**/*.ckpt" } });
      expect(first.scanned).toBe(10);
      expect(first.objects.map((o) => o.key)).toEqual(ckpts.slice(0, 4));
      expect(first.next).toEqual({ cursor: expect.any(String) });
      const rest = await follow({ prefix: "F/", limit: 1000, maxScanned: 10, filter: { glob: "**/*.ckpt" } });
      expect(rest.keys).toEqual([...ckpts, "F/top.ckpt"].sort());
      expect(rest.calls.map((c) => c.scanned)).toEqual([10, 10, 10, 10, 1]);
    });

    it("by level, a filter selects direct objects only; without a filter prefixes count toward the limit", async () => {
      const level = await findObjects(storeOf(), { prefix: "F/", delimiter: "/", limit: 1000, filter: { glob: "**" } });
      expect(level.objects.map((o) => o.key)).toEqual(["F/top.ckpt"]);
      expect(level.prefixes).toEqual([]);
      expect(level.scanned).toBe(41);
      const unfiltered = await follow({ prefix: "F/", delimiter: "/", limit: 7 });
      expect(unfiltered.calls.map((c) => c.objects.length + c.prefixes.length)).toEqual([7, 7, 7, 7, 7, 6]);
      expect(unfiltered.calls.flatMap((c) => c.prefixes)).toHaveLength(40);
    });

    it("refuses a bad glob or contradictory bounds, naming the argument", async () => {
      for (const [filter, argument] of [
        [{ glob: "" }, "glob"],
        [{ glob: "a{b" }, "glob"],
        [{ minSize: 5, maxSize: 4 }, "min_size"],
        [{ minSize: -1 }, "min_size"],
        [{ modifiedAfter: new Date(2000, 1, 1), modifiedBefore: new Date(1999, 1, 1) }, "modified_after"],
      ] as const) {
        const err = await rejectionOf(findObjects(storeOf(), { prefix: "F/", limit: 10, filter }));
        expect(err.kind).toBe("invalid_argument");
        expect(err.message).toContain(argument);
      }
    });
  });

  describe("deleteMany: a batch of keys", () => {
    it("deletes every key given, reports missing ones as deleted too, and leaves the rest", async () => {
      const keys = Array.from({ length: 25 }, (_, i) => `DM/k${String(i).padStart(2, "0")}`);
      await pMap([...keys, "DM/keep", "DM/k0"], (k) => put(k, k), { concurrency: 8 });
      const result = await storeOf().deleteMany([...keys, "DM/never-there"]);
      expect(result.failed).toEqual([]);
      expect([...result.deleted].sort()).toEqual([...keys, "DM/never-there"].sort());
      const left = await storeOf().list({ prefix: "DM/" });
      expect(left.objects.map((o) => o.key)).toEqual(["DM/k0", "DM/keep"]);
      expect(await storeOf().head("DM/k00")).toBeUndefined();
    });

    it("an empty batch does nothing", async () => {
      expect(await storeOf().deleteMany([])).toEqual({ deleted: [], failed: [] });
    });

    it("a deleted folder no longer shows up as a child prefix", async () => {
      await pMap(["DF/a/1", "DF/a/2/3", "DF/b"], (k) => put(k, k), { concurrency: 4 });
      await storeOf().deleteMany(["DF/a/1", "DF/a/2/3"]);
      expect(await storeOf().list({ prefix: "DF/", delimiter: "/" })).toEqual({
        objects: [expect.objectContaining({ key: "DF/b" })],
        prefixes: [],
      });
    });

    it(`refuses more than ${MAX_DELETE_BATCH} keys, or an invalid key, before deleting any`, async () => {
      await put("DR/keep", "keep");
      const tooMany = Array.from({ length: MAX_DELETE_BATCH + 1 }, (_, i) => `DR/x${i}`);
      expect((await rejectionOf(storeOf().deleteMany(tooMany))).kind).toBe("invalid_argument");
      for (const bad of ["", "x".repeat(1025), "nul\0"]) {
        const err = await rejectionOf(storeOf().deleteMany(["DR/keep", bad]));
        expect(err.kind).toBe("invalid_argument");
      }
      expect(await storeOf().head("DR/keep")).toBeDefined();
    });
  });
}
