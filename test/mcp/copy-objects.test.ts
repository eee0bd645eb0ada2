import type { Client } from "@modelcontextprotocol/client";
import { describe, expect, it } from "vitest";
import type { GuardedStore } from "../../src/core/guarded-store.js";
import { listAll, readAll } from "../../src/core/store-ext.js";
import { outputShape } from "../../src/mcp/tool.js";
import { copyObjects as copyTool } from "../../src/mcp/tools/copy-objects.js";
import { BACKENDS, call, callError, callOk, textOf, useInProcess } from "../helpers/in-process.js";

const TREE = { "a.txt": "alpha", "sub/b.txt": "bravo", "sub/deep/c é.txt": "charlie" };
const TREE_BYTES = 5 + 5 + 7;
const under = (prefix: string, tree: Record<string, string>) => Object.fromEntries(Object.entries(tree).map(([k, v]) => [prefix + k, v]));

/** Every object of a bucket (key → text), read past its policy. */
async function contents(store: GuardedStore): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const o of await listAll(store.inner, "")) out[o.key] = (await readAll(store.inner, o.key)).bytes.toString("utf8");
  return out;
}

async function seedTree(store: GuardedStore, prefix: string, tree: Record<string, string>): Promise<void> {
  for (const [key, text] of Object.entries(under(prefix, tree))) {
    await store.inner.put(key, { kind: "bytes", data: Buffer.from(text) }, { mode: "overwrite" });
  }
}

/** The tool as registered: with several buckets its results also name the bucket. */
const copyObjects = { name: copyTool.name, output: outputShape(copyTool) };
const copy = (client: Client, args: Record<string, unknown>) => callOk(client, copyObjects, args);

/**
 * A call that must fail, with several buckets: the text names the bucket after the message (the
 * structured error carries the message alone), so callError's exact comparison does not apply.
 */
async function refusal(client: Client, args: Record<string, unknown>): Promise<{ code: string; text: string }> {
  const result = await call(client, "copy_objects", args);
  const text = textOf(result);
  expect(result.isError, text).toBe(true);
  const code = /^([a-z_]+): /.exec(text)?.[1] ?? "";
  expect((result.structuredContent as { error?: { code?: string } }).error?.code).toBe(code);
  return { code, text };
}

describe.each(BACKENDS)("copy_objects, %s backend", (backend) => {
  const env = useInProcess(backend);

  it("copies one key to another within the bucket, server-side; the source stays", async () => {
    const server = await env.start();
    await server.seed("runs/a.csv", "x,y\n1,2\n");
    const { structured, text } = await copy(server.client, { source: "runs/a.csv", destination: "archive/a.csv" });
    expect(structured).toEqual({
      copied: 1,
      bytes: 8,
      keys: ["archive/a.csv"],
      skipped: [],
      conflicts: [],
      conflict_details: [],
      planned: 1,
      dry_run: false,
      moved: 0,
      source_changed: [],
      server_side: true,
    });
    expect(text).toBe('copied 1 object, 8 B (server-side) from "runs/a.csv" to "archive/a.csv"\nkeys written:\n  archive/a.csv');
    expect(await server.objects()).toEqual({ "runs/a.csv": "x,y\n1,2\n", "archive/a.csv": "x,y\n1,2\n" });
  });

  it("copies every object under a prefix keeping the structure; the prefix is a folder (exp4 never takes exp42/)", async () => {
    const server = await env.start();
    await seedTree(server.store, "exp4/", TREE);
    await server.seed("exp42/other.txt", "not mine");
    const { structured } = await copy(server.client, { source: "exp4", destination: "exp5", recursive: true });
    expect({ ...structured, keys: [...(structured.keys as string[])].sort() }).toMatchObject({
      copied: 3,
      bytes: TREE_BYTES,
      keys: Object.keys(under("exp5/", TREE)).sort(),
      planned: 3,
    });
    expect(await server.objects()).toEqual({ ...under("exp4/", TREE), ...under("exp5/", TREE), "exp42/other.txt": "not mine" });
  });

  it("all or nothing: a conflict fails the call listing it and writes nothing; identical ones are skipped; overwrite replaces", async () => {
    const server = await env.start();
    await seedTree(server.store, "src/", TREE);
    await server.seed("dst/a.txt", "alpha"); // identical
    await server.seed("dst/sub/b.txt", "other content"); // conflict
    const before = await server.objects();
    const failed = await callError(server.client, copyObjects, { source: "src/", destination: "dst/", recursive: true });
    expect(failed.code).toBe("already_exists");
    // Both sides of the conflict, in the text and in conflict_details.
    expect(failed.text).toMatch(
      /^already_exists: 1 destination key already exists with other content: "dst\/sub\/b.txt"; nothing was written. Pass overwrite: true to replace it. Both sides: "dst\/sub\/b.txt" from "src\/sub\/b.txt": new 5 bytes, modified \S+, etag \S+; existing 13 bytes, modified \S+, etag \S+/,
    );
    const sides = {
      key: "dst/sub/b.txt",
      source_key: "src/sub/b.txt",
      source: { size: 5, last_modified: expect.any(String), etag: expect.any(String) },
      existing: { size: 13, last_modified: expect.any(String), etag: expect.any(String) },
    };
    expect(failed.structured).toMatchObject({ copied: 0, conflicts: ["dst/sub/b.txt"], conflict_details: [sides], moved: 0 });
    expect(await server.objects()).toEqual(before);

    const dry = await copy(server.client, { source: "src/", destination: "dst/", recursive: true, dry_run: true });
    // A dry run names what it would write and both sides of each conflict.
    expect(dry.structured).toMatchObject({
      copied: 0,
      keys: ["dst/sub/deep/c é.txt"],
      planned: 1,
      skipped: ["dst/a.txt"],
      conflicts: ["dst/sub/b.txt"],
      conflict_details: [sides],
      dry_run: true,
    });
    const lines = dry.text.split("\n");
    expect(lines[0]).toMatch(/^dry run: would copy 1 object, 7 B \(server-side\) .*; 1 identical skipped; 1 conflict$/);
    expect(lines.slice(1, 3)).toEqual(["would write:", "  dst/sub/deep/c é.txt"]);
    expect(lines[3]).toMatch(
      /^ {2}conflict "dst\/sub\/b.txt" ← "src\/sub\/b.txt": source 5 B, modified \S+, etag \S+; existing 13 B, modified \S+, etag \S+$/,
    );
    expect(lines).toHaveLength(4);
    expect(await server.objects()).toEqual(before);

    const replaced = await copy(server.client, { source: "src/", destination: "dst/", recursive: true, overwrite: true });
    expect(replaced.structured).toMatchObject({ copied: 2, skipped: ["dst/a.txt"], conflicts: [] });
    expect(await server.objects()).toEqual({ ...under("src/", TREE), ...under("dst/", TREE) });
  });

  it("a key copy onto an existing key is already_exists unless overwrite; an identical one is skipped", async () => {
    const server = await env.start();
    await server.seed("a.txt", "one");
    await server.seed("b.txt", "two");
    await server.seed("c.txt", "one");
    const err = await callError(server.client, copyObjects, { source: "a.txt", destination: "b.txt" });
    expect(err.code).toBe("already_exists");
    expect((await server.objects())["b.txt"]).toBe("two");
    const same = await copy(server.client, { source: "a.txt", destination: "c.txt" });
    expect(same.structured).toMatchObject({ copied: 0, skipped: ["c.txt"] });
    await copy(server.client, { source: "a.txt", destination: "b.txt", overwrite: true });
    expect((await server.objects())["b.txt"]).toBe("one");
  });

  it("move deletes each source after its copy is confirmed; repeating an interrupted move finishes it", async () => {
    const server = await env.start();
    await seedTree(server.store, "exp42/", TREE);
    // As if an earlier move had copied a.txt and stopped before deleting its source.
    await server.seed("exp43/a.txt", "alpha");
    const { structured, text } = await copy(server.client, { source: "exp42/", destination: "exp43/", recursive: true, move: true });
    expect(structured).toMatchObject({ copied: 2, skipped: ["exp43/a.txt"], moved: 3, source_changed: [] });
    expect(text).toContain("3 sources deleted");
    expect(await server.objects()).toEqual(under("exp43/", TREE));
    // Nothing left to move.
    expect(
      (await callError(server.client, copyObjects, { source: "exp42/", destination: "exp43/", recursive: true, move: true })).code,
    ).toBe("not_found");
  });

  it("refuses overlapping ranges in one bucket and a copy onto itself (invalid_argument), writing nothing", async () => {
    const server = await env.start();
    await seedTree(server.store, "data/", TREE);
    for (const [source, destination] of [
      ["data/", "data/backup/"],
      ["data/sub", "data"],
      ["", "copy/"],
      ["data", "data"],
    ]) {
      const err = await callError(server.client, copyObjects, { source, destination, recursive: true });
      expect(err.code).toBe("invalid_argument");
      expect(err.text).toContain("overlap");
    }
    const self = await callError(server.client, copyObjects, { source: "data/a.txt", destination: "data/a.txt" });
    expect(self.code).toBe("invalid_argument");
    expect(await server.objects()).toEqual(under("data/", TREE));
  });

  it("a missing source is not_found, and says when it is a prefix holding objects", async () => {
    const server = await env.start();
    await seedTree(server.store, "data/", TREE);
    const missing = await callError(server.client, copyObjects, { source: "nope.txt", destination: "x.txt" });
    expect(missing.code).toBe("not_found");
    const prefix = await callError(server.client, copyObjects, { source: "data", destination: "x" });
    expect(prefix.text).toContain("pass recursive: true");
    const empty = await callError(server.client, copyObjects, { source: "none/", destination: "x/", recursive: true });
    expect(empty.code).toBe("not_found");
  });

  it("max_workers outside 1..64 is invalid_argument", async () => {
    const server = await env.start();
    for (const max_workers of [0, 65]) {
      const err = await callError(server.client, copyObjects, { source: "a", destination: "b", max_workers });
      expect(err.code).toBe("invalid_argument");
      expect(err.text).toContain("max_workers");
    }
  });

  it("sends progress notifications when asked", async () => {
    const server = await env.start();
    await seedTree(server.store, "src/", TREE);
    const updates: { progress: number; total?: number }[] = [];
    const result = await server.client.callTool(
      { name: "copy_objects", arguments: { source: "src/", destination: "dst/", recursive: true, max_workers: 1 } },
      { onprogress: (p) => updates.push(p) },
    );
    expect(result.isError).toBeFalsy();
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.at(-1)).toMatchObject({ progress: TREE_BYTES, total: TREE_BYTES });
  });

  it("stops promptly when cancelled: whole objects only, fewer than asked; the server stays consistent", async () => {
    const server = await env.start();
    for (let i = 0; i < 40; i++) await server.seed(`many/${String(i).padStart(2, "0")}.txt`, `object ${i} `.repeat(100));
    const controller = new AbortController();
    const cancelled = server.client.callTool(
      { name: "copy_objects", arguments: { source: "many/", destination: "copy/", recursive: true, max_workers: 1 } },
      { signal: controller.signal, onprogress: () => controller.abort() },
    );
    await expect(cancelled).rejects.toThrow(/abort/i);
    // The cancellation reaches the server as a notification: a few round trips (bounded) let it settle.
    for (let i = 0; i < 20; i++) await server.client.listTools();
    const all = await server.objects();
    const copies = Object.entries(all).filter(([key]) => key.startsWith("copy/"));
    expect(copies.length).toBeLessThan(40);
    for (const [key, text] of copies) expect(text).toBe(all[key.replace(/^copy\//, "many/")]);
  });

  describe("between buckets", () => {
    const other = backend === "s3" ? "s3" : "local";

    it(`copies to another bucket (${other === "s3" ? "server-side on one endpoint" : "streamed"}) and to a local store (streamed), naming both`, async () => {
      const server = await env.start({
        moreBuckets: [{ name: "second", backend: other }, ...(backend === "s3" ? [{ name: "scratch", backend: "local" as const }] : [])],
      });
      const second = server.stores.second!;
      await seedTree(server.store, "exp/", TREE);
      const { structured, text } = await copy(server.client, {
        source: "exp/",
        source_bucket: server.store.name,
        destination: "imported/",
        recursive: true,
        bucket: "second",
      });
      expect(structured).toMatchObject({ copied: 3, bytes: TREE_BYTES, server_side: other === "s3", bucket: "second" });
      expect(text).toContain(`from ${server.store.name}:"exp/" to second:"imported/"`);
      expect(await contents(second)).toEqual(under("imported/", TREE));

      // And back, moving: the sources in "second" go once their copies are confirmed.
      const back = await copy(server.client, {
        source: "imported/",
        source_bucket: "second",
        destination: "returned/",
        recursive: true,
        move: true,
      });
      expect(back.structured).toMatchObject({ copied: 3, moved: 3 });
      expect(await contents(second)).toEqual({});
      expect(await server.objects()).toEqual({ ...under("exp/", TREE), ...under("returned/", TREE) });

      if (backend === "s3") {
        const streamed = await copy(server.client, {
          source: "exp/sub/b.txt",
          source_bucket: server.store.name,
          destination: "b.txt",
          bucket: "scratch",
        });
        expect(streamed.structured).toMatchObject({ copied: 1, server_side: false });
        expect(await contents(server.stores.scratch!)).toEqual({ "b.txt": "bravo" });
      }
    });

    it("the same prefix in two buckets does not overlap", async () => {
      const server = await env.start({ moreBuckets: [{ name: "second", backend: other }] });
      await seedTree(server.store, "data/", TREE);
      const { structured } = await copy(server.client, {
        source: "data/",
        source_bucket: server.store.name,
        destination: "data/",
        recursive: true,
        bucket: "second",
      });
      expect(structured.copied).toBe(3);
    });

    it("read-only destination: access_denied naming the bucket, nothing written; a move out of a read-only bucket copies nothing", async () => {
      const server = await env.start({ moreBuckets: [{ name: "frozen", backend: other, readOnly: true }] });
      await seedTree(server.store, "exp/", TREE);
      await seedTree(server.stores.frozen!, "kept/", TREE);
      const into = await refusal(server.client, {
        source: "exp/",
        source_bucket: server.store.name,
        destination: "x/",
        recursive: true,
        bucket: "frozen",
      });
      expect(into.code).toBe("access_denied");
      expect(into.text).toContain('bucket "frozen" is read-only');
      const out = await refusal(server.client, {
        source: "kept/",
        source_bucket: "frozen",
        destination: "y/",
        recursive: true,
        move: true,
      });
      expect(out.code).toBe("access_denied");
      expect(await contents(server.stores.frozen!)).toEqual(under("kept/", TREE));
      expect(await server.objects()).toEqual(under("exp/", TREE));
      // Copying out of it (no move) reads only: allowed.
      expect(
        (
          await copy(server.client, {
            source: "kept/",
            source_bucket: "frozen",
            destination: "y/",
            bucket: server.store.name,
            recursive: true,
          })
        ).structured.copied,
      ).toBe(3);
    });

    it("allowed prefixes hold on both sides: source needs read, destination write", async () => {
      const server = await env.start({ moreBuckets: [{ name: "lab", backend: other, allowPrefixes: ["shared/"] }] });
      await seedTree(server.store, "exp/", TREE);
      const outside = await refusal(server.client, {
        source: "exp/",
        source_bucket: server.store.name,
        destination: "private/",
        recursive: true,
        bucket: "lab",
      });
      expect(outside.code).toBe("outside_allowed_prefix");
      expect(outside.text).toContain("destination");
      await seedTree(server.stores.lab!, "private/", TREE);
      const read = await refusal(server.client, {
        source: "private/a.txt",
        source_bucket: "lab",
        destination: "stolen.txt",
      });
      expect(read.code).toBe("outside_allowed_prefix");
      expect(read.text).toContain("source");
      expect(await contents(server.stores.lab!)).toEqual(under("private/", TREE));
      expect(
        (
          await copy(server.client, {
            source: "exp/",
            source_bucket: server.store.name,
            destination: "shared/exp/",
            recursive: true,
            bucket: "lab",
          })
        ).structured.copied,
      ).toBe(3);
    });

    it("an unknown bucket or source_bucket is invalid_argument listing the configured names", async () => {
      const server = await env.start();
      for (const args of [
        { source: "a", destination: "b", bucket: "nope" },
        { source: "a", destination: "b", source_bucket: "nope" },
      ]) {
        const err = await call(server.client, "copy_objects", args);
        expect(err.isError).toBe(true);
      }
      const err = await refusal(server.client, { source: "a", destination: "b", source_bucket: "nope" });
      expect(err.code).toBe("invalid_argument");
      expect(err.text).toContain("source_bucket");
      expect(err.text).toContain(server.store.name);
    });
  });
});
