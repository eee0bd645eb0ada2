import { createHash } from "node:crypto";
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

  it("pages 200 by default; the text shows 50 and says how many more are in structuredContent", async () => {
    const server = await env.start();
    const keys = Array.from({ length: 201 }, (_, i) => `k/${String(i).padStart(3, "0")}`);
    await Promise.all(keys.map((k) => server.seed(k, "x")));
    const first = await callOk(server.client, listObjects, {});
    expect(first.structured.objects.map((o) => o.key)).toEqual(keys.slice(0, 200));
    expect(first.structured.next_cursor).toEqual(expect.any(String));
    const lines = first.text.split("\n");
    expect(lines[0]).toBe('200 objects under "" (more: pass next_cursor as cursor)');
    expect(lines).toHaveLength(1 + 50 + 1);
    expect(lines.at(-1)).toBe("… 150 more in structuredContent");
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
});
