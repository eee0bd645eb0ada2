/**
 * The ObjectStore contract: one suite, run against every backend (local-store.test.ts,
 * s3-store.test.ts), so both keep the semantics SPEC.md promises. Each test works under its own
 * key prefix, so tests share one store without seeing each other's keys.
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import pMap from "p-map";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageError } from "../../src/core/errors.js";
import type { ListOptions, ObjectStore } from "../../src/core/store.js";
import { rejectionOf } from "../helpers/assert.js";
import { MIB, md5Hex, readAll } from "../helpers/bytes.js";
import { makeTempDir, type TempDir, withFileBody } from "../helpers/tmp.js";
import { manyObjectsContract } from "./many-contract.js";

export interface ContractSetup {
  store: ObjectStore;
  /**
   * A store over the same objects whose server honours conditional writes (If-None-Match: *).
   * Used only for the concurrent-create race; defaults to `store`.
   */
  conditionalStore?: ObjectStore;
  cleanup(): Promise<void>;
}

/** S3 lists keys in UTF-8 byte order (not JS string order, not locale order). */
export function byteOrder(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8")));
}

/** Follows a listing to its end, returning every entry in the order received and the page count. */
export async function listPages(
  store: ObjectStore,
  options: Omit<ListOptions, "cursor">,
): Promise<{ keys: string[]; prefixes: string[]; pages: number; pageSizes: number[] }> {
  const keys: string[] = [];
  const prefixes: string[] = [];
  const pageSizes: number[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ ...options, ...(cursor ? { cursor } : {}) });
    pageSizes.push(page.objects.length + page.prefixes.length);
    keys.push(...page.objects.map((o) => o.key));
    prefixes.push(...page.prefixes);
    cursor = page.nextCursor;
    if (pageSizes.length > 10_000) throw new Error("listing never ends");
  } while (cursor);
  return { keys, prefixes, pages: pageSizes.length, pageSizes };
}

function bytesOf(text: string): Buffer {
  return Buffer.from(text, "utf8");
}

export interface ContractOptions {
  /**
   * Known ways the test server (not the backend code, and not R2 or S3) departs from S3 semantics:
   * the tests that depend on them are skipped with this reason in their name, never weakened.
   */
  serverDeviations?: { listOrder?: string };
}

export function storeContract(name: string, setup: () => Promise<ContractSetup>, options: ContractOptions = {}): void {
  const listOrderDeviation = options.serverDeviations?.listOrder;
  describe(`ObjectStore contract: ${name}`, () => {
    let ctx: ContractSetup;
    let store: ObjectStore;
    let tmp: TempDir;

    const put = (key: string, data: Uint8Array | string, mode: "create" | "overwrite" = "create") =>
      store.put(key, { kind: "bytes", data: typeof data === "string" ? bytesOf(data) : data }, { mode });
    const getBytes = async (key: string, range?: { offset: number; length?: number }) => {
      const result = await store.get(key, range ? { range } : {});
      return { ...result, data: await readAll(result.body) };
    };
    const putMany = (keys: readonly string[]) => pMap(keys, (key) => put(key, `body of ${key}`), { concurrency: 32 });

    beforeAll(async () => {
      ctx = await setup();
      store = ctx.store;
      tmp = await makeTempDir();
    });
    afterAll(async () => {
      await tmp?.cleanup();
      await ctx?.cleanup();
    });

    describe("put / get / head", () => {
      it("round-trips all 256 byte values, random bytes and an empty object byte for byte", async () => {
        const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
        const random = randomBytes(256 * 1024 + 7);
        const cases: [string, Buffer][] = [
          ["rt/all-bytes.bin", allBytes],
          ["rt/random.bin", random],
          ["rt/empty", Buffer.alloc(0)],
        ];
        for (const [key, data] of cases) {
          const put1 = await put(key, data);
          expect(put1).toEqual({ key, size: data.length, etag: md5Hex(data), replaced: false });
          const got = await getBytes(key);
          expect(got.data.equals(data)).toBe(true);
          expect(got.info.size).toBe(data.length);
          expect(got.range).toEqual({ start: 0, end: data.length });
          const head = await store.head(key);
          expect(head).toMatchObject({ key, size: data.length, etag: md5Hex(data) });
          expect(head!.lastModified).toBeInstanceOf(Date);
        }
      });

      it("keeps a content type given at upload, defaults it from the extension, and forgets it on overwrite", async () => {
        const data = bytesOf("not really a png");
        await store.put("ct/plot", { kind: "bytes", data }, { mode: "create", contentType: "image/png" });
        expect((await store.head("ct/plot"))?.contentType).toBe("image/png");
        expect((await store.get("ct/plot")).info.contentType).toBe("image/png");
        await store.put("ct/table.csv", { kind: "bytes", data }, { mode: "create" });
        expect((await store.head("ct/table.csv"))?.contentType).toBe("text/csv; charset=utf-8");
        await store.put("ct/plot", { kind: "bytes", data }, { mode: "overwrite" });
        expect((await store.head("ct/plot"))?.contentType).toBe("application/octet-stream");
        await store.put("ct/plot", { kind: "bytes", data }, { mode: "overwrite", contentType: "image/svg+xml" });
        await store.delete("ct/plot");
        await store.put("ct/plot", { kind: "bytes", data }, { mode: "create" });
        expect((await store.head("ct/plot"))?.contentType).toBe("application/octet-stream");
        const listed = await store.list({ prefix: "ct/" });
        expect(listed.objects.map((o) => o.key)).toEqual(["ct/plot", "ct/table.csv"]);
      });

      it("keeps user metadata given at upload (head and get tell it, listings do not) and replaces it on overwrite", async () => {
        const data = bytesOf("timed");
        const mtime = { mtime: "1700000000.123456789" };
        await store.put("meta/a.txt", { kind: "bytes", data }, { mode: "create", metadata: mtime, contentType: "text/x-log" });
        expect((await store.head("meta/a.txt"))?.metadata).toEqual(mtime);
        expect((await store.head("meta/a.txt"))?.contentType).toBe("text/x-log");
        for (const range of [undefined, { offset: 1, length: 2 }]) {
          const got = await getBytes("meta/a.txt", range);
          expect(got.info.metadata).toEqual(mtime);
        }
        expect((await store.list({ prefix: "meta/" })).objects.map((o) => o.metadata)).toEqual([undefined]);

        await store.put("meta/a.txt", { kind: "bytes", data }, { mode: "overwrite", metadata: { mtime: "1600000000.000000001" } });
        expect((await store.head("meta/a.txt"))?.metadata).toEqual({ mtime: "1600000000.000000001" });
        expect((await store.head("meta/a.txt"))?.contentType).toBe("text/plain; charset=utf-8");
        // An overwrite without metadata leaves none behind; so does a delete.
        await store.put("meta/a.txt", { kind: "bytes", data }, { mode: "overwrite" });
        expect((await store.head("meta/a.txt"))?.metadata).toBeUndefined();
        await store.put("meta/a.txt", { kind: "bytes", data }, { mode: "overwrite", metadata: mtime });
        await store.delete("meta/a.txt");
        await store.put("meta/a.txt", { kind: "bytes", data }, { mode: "create" });
        expect((await store.head("meta/a.txt"))?.metadata).toBeUndefined();
        // A put that fails (create onto an existing key) leaves the object's metadata as it was.
        await store.put("meta/b.txt", { kind: "bytes", data }, { mode: "create", metadata: mtime });
        const refused = await rejectionOf(store.put("meta/b.txt", { kind: "bytes", data }, { mode: "create", metadata: { mtime: "1" } }));
        expect(refused.kind).toBe("already_exists");
        expect((await store.head("meta/b.txt"))?.metadata).toEqual(mtime);
      });

      it("head of a missing key is undefined", async () => {
        expect(await store.head("missing/never-written")).toBeUndefined();
      });

      it("get of a missing key is not_found with code ENOENT", async () => {
        const err = await rejectionOf(store.get("missing/never-written"));
        expect(err.kind).toBe("not_found");
        expect(err.code).toBe("ENOENT");
        expect(err.key).toBe("missing/never-written");
      });

      it("reads ranges: offset only, offset + length, a length past the end clamps", async () => {
        const data = Buffer.from(Array.from({ length: 100 }, (_, i) => (i * 7) % 256));
        await put("range/obj", data);

        const tail = await getBytes("range/obj", { offset: 10 });
        expect(tail.data.equals(data.subarray(10))).toBe(true);
        expect(tail.range).toEqual({ start: 10, end: 100 });
        expect(tail.info.size).toBe(100);

        const middle = await getBytes("range/obj", { offset: 5, length: 10 });
        expect(middle.data.equals(data.subarray(5, 15))).toBe(true);
        expect(middle.range).toEqual({ start: 5, end: 15 });
        expect(middle.info.size).toBe(100);

        const clamped = await getBytes("range/obj", { offset: 90, length: 50 });
        expect(clamped.data.equals(data.subarray(90))).toBe(true);
        expect(clamped.range).toEqual({ start: 90, end: 100 });

        const lastByte = await getBytes("range/obj", { offset: 99, length: 1 });
        expect([...lastByte.data]).toEqual([data[99]]);
      });

      it("refuses a range starting at or after the end with invalid_argument", async () => {
        await put("range/small", "0123456789");
        for (const offset of [10, 11, 5000]) {
          const err = await rejectionOf(store.get("range/small", { range: { offset } }));
          expect(err.kind).toBe("invalid_argument");
        }
      });
    });

    describe("no silent overwrite", () => {
      it("put create refuses an existing key (already_exists, EEXIST) and leaves its bytes unchanged", async () => {
        const first = await put("nov/keep.txt", "original bytes");
        const err = await rejectionOf(put("nov/keep.txt", "intruder"));
        expect(err.kind).toBe("already_exists");
        expect(err.code).toBe("EEXIST");
        expect(err.key).toBe("nov/keep.txt");
        expect(err.message).toMatch(/overwrite/);
        expect((await getBytes("nov/keep.txt")).data.toString()).toBe("original bytes");
        expect((await store.head("nov/keep.txt"))?.etag).toBe(first.etag);
      });

      it("put overwrite replaces and reports replaced (false for a new key, true for an existing one)", async () => {
        const created = await put("nov/replace.txt", "version one", "overwrite");
        expect(created.replaced).toBe(false);
        const replaced = await put("nov/replace.txt", "version two, longer", "overwrite");
        expect(replaced).toEqual({
          key: "nov/replace.txt",
          size: 19,
          etag: md5Hex(bytesOf("version two, longer")),
          replaced: true,
        });
        expect((await getBytes("nov/replace.txt")).data.toString()).toBe("version two, longer");
        expect((await store.head("nov/replace.txt"))?.size).toBe(19);
      });

      it("put with `existing` from a listing: reported as replaced or not, and a create onto a seen object is refused", async () => {
        const fresh = await store.put("seen/new.txt", { kind: "bytes", data: bytesOf("one") }, { mode: "overwrite", existing: null });
        expect(fresh.replaced).toBe(false);
        const info = await store.head("seen/new.txt");
        expect(info).toBeDefined();
        const again = await store.put(
          "seen/new.txt",
          { kind: "bytes", data: bytesOf("two") },
          { mode: "overwrite", existing: info ?? null },
        );
        expect(again.replaced).toBe(true);
        const err = await rejectionOf(
          store.put("seen/new.txt", { kind: "bytes", data: bytesOf("three") }, { mode: "create", existing: info ?? null }),
        );
        expect(err.kind).toBe("already_exists");
        expect((await getBytes("seen/new.txt")).data.toString()).toBe("two");
      });

      // A listing can be stale: the key may have been created since. For S3 this runs through
      // ctx.conditionalStore (see the race below), where If-None-Match: * is honoured.
      it("a stale `existing: null` never turns a create into an overwrite", async () => {
        const racer = ctx.conditionalStore ?? store;
        await put("seen/stale.txt", "written after the listing");
        const err = await rejectionOf(
          racer.put("seen/stale.txt", { kind: "bytes", data: bytesOf("late") }, { mode: "create", existing: null }),
        );
        expect(err.kind).toBe("already_exists");
        expect((await getBytes("seen/stale.txt")).data.toString()).toBe("written after the listing");
      });

      // For S3 this runs through ctx.conditionalStore: the loopback proxy standing in for R2's
      // If-None-Match: * (fauxqs ignores the header; the proxy answers 412 like R2 does).
      it("16 concurrent creates of one key: exactly one wins, 15 get already_exists, the winner's bytes stay", async () => {
        const racer = ctx.conditionalStore ?? store;
        const payloads = Array.from({ length: 16 }, (_, i) => Buffer.concat([bytesOf(`writer ${i} `), randomBytes(4096)]));
        const results = await Promise.allSettled(
          payloads.map((data) => racer.put("race/target.bin", { kind: "bytes", data }, { mode: "create" })),
        );
        const winners = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
        const losers = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(15);
        for (const loser of losers) {
          expect(loser.reason).toBeInstanceOf(StorageError);
          expect(loser.reason).toMatchObject({ kind: "already_exists", code: "EEXIST" });
        }
        const stored = await getBytes("race/target.bin");
        expect(stored.data.equals(payloads[winners[0]!]!)).toBe(true);
      });
    });

    describe("file bodies", () => {
      it("puts a small file", async () => {
        const data = randomBytes(3000);
        const file = path.join(tmp.path, "small.bin");
        await writeFile(file, data);
        const seen: number[] = [];
        const result = await withFileBody(file, (body) =>
          store.put("file/small.bin", body, { mode: "create", onBytes: (b) => seen.push(b) }),
        );
        expect(result).toEqual({ key: "file/small.bin", size: 3000, etag: md5Hex(data), replaced: false });
        expect(seen.at(-1)).toBe(3000);
        expect((await getBytes("file/small.bin")).data.equals(data)).toBe(true);
      });

      it("puts a file above the multipart threshold byte for byte, and refuses it onto an existing key", async () => {
        // ~11 MiB: over the 5 MiB threshold the S3 setup uses, and over the largest single body
        // fauxqs accepts, so on S3 this only passes as a multipart upload.
        const data = randomBytes(11 * MIB + 12_345);
        const file = path.join(tmp.path, "large.bin");
        await writeFile(file, data);
        const seen: number[] = [];
        const metadata = { mtime: "1700000000.5" };
        const result = await withFileBody(file, (body) =>
          store.put("file/large.bin", body, { mode: "create", metadata, onBytes: (b) => seen.push(b) }),
        );
        expect(result.size).toBe(data.length);
        expect(result.replaced).toBe(false);
        expect(seen.at(-1)).toBe(data.length);
        const head = await store.head("file/large.bin");
        expect(head?.size).toBe(data.length);
        expect(head?.etag).toBe(result.etag);
        expect(head?.metadata).toEqual(metadata);
        expect((await getBytes("file/large.bin")).data.equals(data)).toBe(true);

        const err = await rejectionOf(withFileBody(file, (body) => store.put("file/large.bin", body, { mode: "create" })));
        expect(err.kind).toBe("already_exists");
        expect((await store.head("file/large.bin"))?.etag).toBe(result.etag);
      }, 60_000);
    });

    describe("delete", () => {
      it("deletes an existing key (existed: true) and reports a missing one (existed: false)", async () => {
        await put("del/x.txt", "bye");
        expect(await store.delete("del/x.txt")).toEqual({ existed: true });
        expect(await store.head("del/x.txt")).toBeUndefined();
        expect((await rejectionOf(store.get("del/x.txt"))).kind).toBe("not_found");
        expect(await store.delete("del/x.txt")).toEqual({ existed: false });
        expect(await store.delete("del/never-there")).toEqual({ existed: false });
        expect((await store.list({ prefix: "del/" })).objects).toEqual([]);
      });

      it("a deleted nested key no longer shows up as a child prefix", async () => {
        await put("del2/dir/only.txt", "x");
        expect((await store.list({ prefix: "del2/", delimiter: "/" })).prefixes).toEqual(["del2/dir/"]);
        await store.delete("del2/dir/only.txt");
        expect(await store.list({ prefix: "del2/", delimiter: "/" })).toEqual({ objects: [], prefixes: [] });
      });

      it("with ifMatch deletes only the version of that ETag: another version is kept, a missing key is existed: false", async () => {
        const first = await put("del3/moved.txt", "version one");
        const second = await put("del3/moved.txt", "version two", "overwrite");
        expect(second.etag).not.toBe(first.etag);
        expect(await store.delete("del3/moved.txt", { ifMatch: first.etag })).toEqual({ existed: true, kept: true });
        expect((await getBytes("del3/moved.txt")).data.toString()).toBe("version two");
        expect(await store.delete("del3/never-there", { ifMatch: first.etag })).toEqual({ existed: false });
        expect(await store.delete("del3/moved.txt", { ifMatch: second.etag })).toEqual({ existed: true });
        expect(await store.head("del3/moved.txt")).toBeUndefined();
      });
    });

    describe("list", () => {
      const tree = ["L/a.txt", "L/b/c.txt", "L/b/d/e.txt", "L/bz", "Lx/other.txt"];
      beforeAll(async () => {
        await putMany(tree);
      });

      it("lists everything under a prefix recursively, with object metadata", async () => {
        const page = await store.list({ prefix: "L/" });
        expect(page.objects.map((o) => o.key)).toEqual(["L/a.txt", "L/b/c.txt", "L/b/d/e.txt", "L/bz"]);
        expect(page.prefixes).toEqual([]);
        expect(page.nextCursor).toBeUndefined();
        for (const o of page.objects) {
          const body = bytesOf(`body of ${o.key}`);
          expect(o.size).toBe(body.length);
          expect(o.etag).toBe(md5Hex(body));
          expect(o.lastModified).toBeInstanceOf(Date);
          expect(Number.isNaN(o.lastModified.getTime())).toBe(false);
        }
        // A prefix is a string prefix, not a directory.
        const partial = await store.list({ prefix: "L/b" });
        expect(partial.objects.map((o) => o.key)).toEqual(["L/b/c.txt", "L/b/d/e.txt", "L/bz"]);
      });

      it("lists one level with delimiter '/': direct objects and child prefixes", async () => {
        expect(await keysAndPrefixes({ prefix: "L/", delimiter: "/" })).toEqual({
          objects: ["L/a.txt", "L/bz"],
          prefixes: ["L/b/"],
        });
        expect(await keysAndPrefixes({ prefix: "L/b/", delimiter: "/" })).toEqual({
          objects: ["L/b/c.txt"],
          prefixes: ["L/b/d/"],
        });
        expect(await keysAndPrefixes({ prefix: "L/b", delimiter: "/" })).toEqual({
          objects: ["L/bz"],
          prefixes: ["L/b/"],
        });
        expect(await keysAndPrefixes({ prefix: "L/nothing/", delimiter: "/" })).toEqual({ objects: [], prefixes: [] });
      });

      it.skipIf(listOrderDeviation !== undefined)(
        `lists in UTF-8 byte order (not UTF-16 or locale order)${listOrderDeviation ? ` [skipped: ${listOrderDeviation}]` : ""}`,
        async () => {
          // U+FF5E is 3 bytes of UTF-8 and sorts before the 4-byte emoji there, but after it in UTF-16;
          // upper case sorts before lower case, "_" between them, "~" after both.
          const keys = ["O/b", "O/B", "O/a", "O/_x", "O/~", "O/é", "O/\uFF5E", "O/😀", "O/a-b", "O/a!b", "O/a0"];
          await putMany(keys);
          const expected = byteOrder(keys);
          expect(expected).not.toEqual([...keys].sort()); // the case really tells the orders apart
          expect((await listPages(store, { prefix: "O/" })).keys).toEqual(expected);
          expect((await listPages(store, { prefix: "O/", limit: 2 })).keys).toEqual(expected);
        },
      );

      it("pages through more than 1000 keys without losing or repeating one (limit 1000)", async () => {
        const keys = Array.from({ length: 1105 }, (_, i) => `P/k${String(i).padStart(5, "0")}`);
        await putMany(keys);
        const listed = await listPages(store, { prefix: "P/", limit: 1000 });
        expect(listed.pageSizes).toEqual([1000, 105]);
        expect(new Set(listed.keys).size).toBe(listed.keys.length);
        expect(listed.keys).toEqual(byteOrder(keys));
        // The default page size is the S3 maximum.
        const first = await store.list({ prefix: "P/" });
        expect(first.objects).toHaveLength(1000);
        expect(first.nextCursor).toBeDefined();
      }, 180_000);

      it("pages with limit 7, recursively and by level, without losing or repeating an entry", async () => {
        const keys = [
          ...Array.from({ length: 23 }, (_, i) => `Q/file${String(i).padStart(2, "0")}`),
          ...Array.from({ length: 6 }, (_, i) => `Q/dir${i}/inner.txt`),
          "Q/dir0/deeper/x.txt",
        ];
        await putMany(keys);
        const recursive = await listPages(store, { prefix: "Q/", limit: 7 });
        expect(recursive.pageSizes).toEqual([7, 7, 7, 7, 2]);
        expect(recursive.keys).toEqual(byteOrder(keys));

        const level = await listPages(store, { prefix: "Q/", delimiter: "/", limit: 7 });
        expect(level.prefixes).toEqual(Array.from({ length: 6 }, (_, i) => `Q/dir${i}/`));
        expect(level.keys).toEqual(byteOrder(keys.filter((k) => k.startsWith("Q/file"))));
        expect(level.pageSizes.every((n) => n <= 7)).toBe(true);
      });

      it("refuses a cursor from another listing or made up by hand (invalid_argument)", async () => {
        const keys = Array.from({ length: 5 }, (_, i) => `C/k${i}`);
        await putMany(keys);
        const first = await store.list({ prefix: "C/", limit: 2 });
        const cursor = first.nextCursor;
        expect(cursor).toBeDefined();
        // The cursor works for its own listing...
        const second = await store.list({ prefix: "C/", limit: 2, cursor });
        expect(second.objects.map((o) => o.key)).toEqual(["C/k2", "C/k3"]);
        // ...and for nothing else.
        const forged = Buffer.from(JSON.stringify({ v: 1, s: "another-backend", p: "C/", d: "", t: "C/k1" })).toString("base64url");
        for (const options of [
          { prefix: "L/", cursor },
          { prefix: "C/", delimiter: "/" as const, cursor },
          { prefix: "C/", cursor: "garbage!" },
          { prefix: "C/", cursor: Buffer.from('{"not":"a cursor"}').toString("base64url") },
          { prefix: "C/", cursor: forged },
        ]) {
          const err = await rejectionOf(store.list(options));
          expect(err.kind).toBe("invalid_argument");
          expect(err.message).toMatch(/cursor/);
        }
      });

      it("refuses limits outside 1..1000 (invalid_argument), never clamping", async () => {
        for (const limit of [0, -1, 1001, 1.5, Number.NaN]) {
          const err = await rejectionOf(store.list({ prefix: "L/", limit }));
          expect(err.kind).toBe("invalid_argument");
        }
        expect((await store.list({ prefix: "L/", limit: 1 })).objects).toHaveLength(1);
      });
    });

    describe("unusual keys", () => {
      const odd = [
        "K/ünïcödé/файл.txt",
        "K/with space.txt",
        "K/plus+sign.txt",
        "K/percent%20encoded.txt",
        "K/percent encoded.txt",
        "K/equals=sign&amp;q?x#y.txt",
        "K/emoji 😀🎉.bin",
        "K/日本語/テスト",
        "K/'quotes' \"double\"",
      ];

      it("round-trips keys with unicode, spaces, +, %20, =, emoji", async () => {
        for (const key of odd) {
          const data = bytesOf(`content of ${key}`);
          expect((await put(key, data)).key).toBe(key);
          expect((await getBytes(key)).data.equals(data)).toBe(true);
          expect(await store.head(key)).toMatchObject({ key, size: data.length, etag: md5Hex(data) });
        }
        // "%20" is kept literally: it is not a space.
        expect((await getBytes("K/percent%20encoded.txt")).data.toString()).toBe("content of K/percent%20encoded.txt");
      });

      it("lists those keys exactly, recursively and by level", async () => {
        const all = await listPages(store, { prefix: "K/" });
        expect([...all.keys].sort()).toEqual([...odd].sort());
        const level = await listPages(store, { prefix: "K/", delimiter: "/" });
        expect([...level.prefixes].sort()).toEqual(["K/ünïcödé/", "K/日本語/"].sort());
        expect([...level.keys].sort()).toEqual(odd.filter((k) => k.split("/").length === 2).sort());
        const inner = await listPages(store, { prefix: "K/ünïcödé/", delimiter: "/" });
        expect(inner.keys).toEqual(["K/ünïcödé/файл.txt"]);
        for (const key of odd) expect(await store.delete(key)).toEqual({ existed: true });
      });
    });

    describe("etag", () => {
      it("is the MD5 hex of the bytes for single-part puts, the same in put, head and list", async () => {
        const data = randomBytes(10_000);
        const result = await put("etag/one.bin", data);
        expect(result.etag).toBe(md5Hex(data));
        expect(result.etag).toMatch(/^[0-9a-f]{32}$/);
        const head = await store.head("etag/one.bin");
        const listed = (await store.list({ prefix: "etag/" })).objects.find((o) => o.key === "etag/one.bin");
        expect(head?.etag).toBe(result.etag);
        expect(listed?.etag).toBe(result.etag);
        expect(listed?.size).toBe(10_000);
        const replaced = await put("etag/one.bin", "other", "overwrite");
        expect((await store.head("etag/one.bin"))?.etag).toBe(replaced.etag);
        expect(replaced.etag).toBe(md5Hex(bytesOf("other")));
      });
    });

    manyObjectsContract(() => store);

    // copy_objects' store operations: copySource (read side, policy-checked) and copy (write side).
    describe("copy", () => {
      const seed = async (key: string, data: Buffer, contentType?: string, metadata?: Record<string, string>) => {
        await store.put(
          key,
          { kind: "bytes", data },
          { mode: "overwrite", ...(contentType ? { contentType } : {}), ...(metadata ? { metadata } : {}) },
        );
        return (await store.head(key))!;
      };
      const expectOf = (info: { size: number; etag: string }) => ({ size: info.size, etag: info.etag });

      it("copies an object within the store: same bytes, its content type and metadata, never replacing by default", async () => {
        const data = randomBytes(70_000);
        const info = await seed("copy/src/a.bin", data, "image/png", { mtime: "1700000000.123456789" });
        const seen: number[] = [];
        const out = await store.copy(store.copySource("copy/src/a.bin"), "copy/dst/a.bin", {
          mode: "create",
          expect: expectOf(info),
          onBytes: (b) => seen.push(b),
        });
        expect(out).toMatchObject({ key: "copy/dst/a.bin", size: data.length, etag: md5Hex(data), replaced: false, sourceEtag: info.etag });
        expect(seen.at(-1)).toBe(data.length);
        expect((await getBytes("copy/dst/a.bin")).data.equals(data)).toBe(true);
        expect((await store.head("copy/dst/a.bin"))?.contentType).toBe("image/png");
        expect((await store.head("copy/dst/a.bin"))?.metadata).toEqual({ mtime: "1700000000.123456789" });
        // The source is untouched, and the copy is an object of its own (no link): changing one leaves the other.
        await put("copy/src/a.bin", "changed", "overwrite");
        expect((await getBytes("copy/dst/a.bin")).data.equals(data)).toBe(true);

        const other = await seed("copy/src/b.txt", bytesOf("other"));
        const err = await rejectionOf(
          store.copy(store.copySource("copy/src/b.txt"), "copy/dst/a.bin", { mode: "create", expect: expectOf(other) }),
        );
        expect(err).toMatchObject({ kind: "already_exists", code: "EEXIST", key: "copy/dst/a.bin" });
        expect((await getBytes("copy/dst/a.bin")).data.equals(data)).toBe(true);

        const replaced = await store.copy(store.copySource("copy/src/b.txt"), "copy/dst/a.bin", {
          mode: "overwrite",
          expect: expectOf(other),
        });
        expect(replaced).toMatchObject({ replaced: true, size: 5, etag: md5Hex("other") });
        expect((await getBytes("copy/dst/a.bin")).data.toString()).toBe("other");
      });

      it("refuses a source that is missing (not_found) or from another location domain (unsupported)", async () => {
        const missing = await rejectionOf(
          store.copy(store.copySource("copy/missing.bin"), "copy/never.bin", { mode: "create", expect: { size: 1, etag: md5Hex("x") } }),
        );
        expect(missing.kind).toBe("not_found");
        const source = { location: { domain: "elsewhere", container: "other" }, key: "copy/src/b.txt" };
        const foreign = await rejectionOf(
          store.copy(source, "copy/never.bin", { mode: "create", expect: { size: 5, etag: md5Hex("other") } }),
        );
        expect(foreign.kind).toBe("unsupported");
        expect(await store.head("copy/never.bin")).toBeUndefined();
      });

      // On S3 through ctx.conditionalStore: fauxqs ignores x-amz-copy-source-if-match; the proxy honours it as R2 does.
      it("copies only the version listed: a source that changed since is unavailable and nothing is written", async () => {
        const racer = ctx.conditionalStore ?? store;
        const before = await seed("copy/pin/src.txt", bytesOf("version one"));
        await put("copy/pin/src.txt", "version two!", "overwrite");
        const err = await rejectionOf(
          racer.copy(racer.copySource("copy/pin/src.txt"), "copy/pin/dst.txt", { mode: "create", expect: expectOf(before) }),
        );
        expect(err.kind).toBe("unavailable");
        expect(err.message).toContain("changed after it was listed");
        expect(await store.head("copy/pin/dst.txt")).toBeUndefined();
      });

      it("16 concurrent copies to one key without overwrite: exactly one wins, the rest get already_exists", async () => {
        const racer = ctx.conditionalStore ?? store;
        const sources = await pMap(
          Array.from({ length: 16 }, (_, i) => i),
          (i) => seed(`copy/race/src-${i}`, bytesOf(`source ${i} ${"x".repeat(i * 100)}`)),
        );
        const results = await Promise.allSettled(
          sources.map((info) => racer.copy(racer.copySource(info.key), "copy/race/target", { mode: "create", expect: expectOf(info) })),
        );
        const winners = results.flatMap((r, i) => (r.status === "fulfilled" ? [i] : []));
        expect(winners).toHaveLength(1);
        for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ kind: "already_exists" });
        expect((await store.head("copy/race/target"))?.etag).toBe(sources[winners[0]!]!.etag);
      });

      it("refuses keys it cannot hold as copy sources, naming the argument", async () => {
        const err = await rejectionOf(Promise.resolve().then(() => store.copySource("", "destination")));
        expect(err.kind).toBe("invalid_argument");
        expect(err.message).toContain("destination");
      });

      it("puts a stream body of exactly its announced size, and refuses a short or long one, storing nothing", async () => {
        const data = randomBytes(200_000);
        async function* chunks(bytes: Buffer) {
          for (let i = 0; i < bytes.length; i += 65_536) yield bytes.subarray(i, i + 65_536);
        }
        const out = await store.put("stream/ok.bin", { kind: "stream", body: chunks(data), size: data.length }, { mode: "create" });
        expect(out).toMatchObject({ size: data.length, etag: md5Hex(data), replaced: false });
        expect((await getBytes("stream/ok.bin")).data.equals(data)).toBe(true);
        const short = await rejectionOf(
          store.put("stream/short.bin", { kind: "stream", body: chunks(data), size: data.length + 1 }, { mode: "create" }),
        );
        expect(short.kind).toBe("unavailable");
        const long = await rejectionOf(
          store.put("stream/long.bin", { kind: "stream", body: chunks(data), size: data.length - 1 }, { mode: "create" }),
        );
        expect(long.kind).toBe("unavailable");
        expect(await store.head("stream/short.bin")).toBeUndefined();
        expect(await store.head("stream/long.bin")).toBeUndefined();
      });

      it("puts a stream body above the multipart threshold byte for byte", async () => {
        const data = randomBytes(11 * MIB + 4321);
        async function* chunks() {
          for (let i = 0; i < data.length; i += MIB) yield data.subarray(i, i + MIB);
        }
        const out = await store.put("stream/large.bin", { kind: "stream", body: chunks(), size: data.length }, { mode: "create" });
        expect(out.size).toBe(data.length);
        expect((await getBytes("stream/large.bin")).data.equals(data)).toBe(true);
      }, 60_000);
    });

    async function keysAndPrefixes(options: ListOptions) {
      const page = await store.list(options);
      return { objects: page.objects.map((o) => o.key), prefixes: page.prefixes };
    }
  });
}
