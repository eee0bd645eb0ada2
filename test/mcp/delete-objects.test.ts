import { describe, expect, it } from "vitest";
import { deleteObjects } from "../../src/mcp/tools/delete-objects.js";
import { BACKENDS, callError, callOk, useInProcess } from "../helpers/in-process.js";

const RUN = {
  "experiments/exp42/a.csv": "a".repeat(10),
  "experiments/exp42/sub/b.bin": "b".repeat(20),
  "experiments/exp42/sub/c.txt": "c",
  "experiments/exp4/keep.txt": "exp4 is another folder",
  "experiments/exp420.txt": "not under exp42/",
  "other/x.txt": "x",
};

describe.each(BACKENDS)("delete_objects, %s backend", (backend) => {
  const env = useInProcess(backend);
  const start = async (options: Parameters<typeof env.start>[0] = {}) => {
    const server = await env.start(options);
    for (const [key, data] of Object.entries(RUN)) await server.seed(key, data);
    return server;
  };
  const without = (...keys: string[]) => Object.fromEntries(Object.entries(RUN).filter(([k]) => !keys.includes(k)));

  it("deletes a folder in one call, with a trailing / added: exp42 never touches exp420.txt", async () => {
    const server = await start();
    const { structured, text } = await callOk(server.client, deleteObjects, { prefix: "experiments/exp42" });
    expect(structured).toEqual({
      deleted: 3,
      bytes: 31,
      keys: ["experiments/exp42/a.csv", "experiments/exp42/sub/b.bin", "experiments/exp42/sub/c.txt"],
      failed: [],
      failed_count: 0,
      missing: [],
      dry_run: false,
      prefix: "experiments/exp42/",
    });
    expect(text.split("\n")[0]).toBe('deleted 3 objects, 31 B under "experiments/exp42/"');
    expect(await server.objects()).toEqual(
      without("experiments/exp42/a.csv", "experiments/exp42/sub/b.bin", "experiments/exp42/sub/c.txt"),
    );
    const again = await callOk(server.client, deleteObjects, { prefix: "experiments/exp42/" });
    expect(again.structured.deleted).toBe(0);
    expect(again.text).toBe('deleted 0 objects, 0 B under "experiments/exp42/"');
  });

  it("dry_run lists what would go and deletes nothing", async () => {
    const server = await start();
    const { structured, text } = await callOk(server.client, deleteObjects, { prefix: "experiments/exp4", dry_run: true });
    expect(structured).toMatchObject({ deleted: 1, bytes: 22, keys: ["experiments/exp4/keep.txt"], dry_run: true });
    expect(text).toBe(
      'dry run: would delete 1 object, 22 B under "experiments/exp4/"; nothing was deleted\nwould delete experiments/exp4/keep.txt',
    );
    expect(await server.objects()).toEqual(RUN);
  });

  it("deletes an exact key list; keys that do not exist are reported missing", async () => {
    const server = await start();
    const { structured, text } = await callOk(server.client, deleteObjects, {
      keys: ["experiments/exp420.txt", "other/x.txt", "other/never.txt", "other/x.txt"],
    });
    // The text names every key, for hosts that show only the text.
    expect(text).toBe(
      [
        "deleted 2 objects, 17 B",
        "deleted experiments/exp420.txt",
        "deleted other/x.txt",
        "1 key did not exist:",
        "missing other/never.txt",
      ].join("\n"),
    );
    expect(structured).toEqual({
      deleted: 2,
      bytes: 17,
      keys: ["experiments/exp420.txt", "other/x.txt"],
      failed: [],
      failed_count: 0,
      missing: ["other/never.txt"],
      dry_run: false,
    });
    expect(await server.objects()).toEqual(without("experiments/exp420.txt", "other/x.txt"));
  });

  it("a dry run's text names the first 10 keys it would delete and where the rest are; the structured result lists 50", async () => {
    const server = await env.start();
    const keys = Array.from({ length: 60 }, (_, i) => `many/k${String(i).padStart(2, "0")}`);
    for (const key of keys) await server.seed(key, "x");
    const { structured, text } = await callOk(server.client, deleteObjects, { prefix: "many", dry_run: true });
    expect(structured.keys).toEqual(keys.slice(0, 50));
    const lines = text.split("\n");
    expect(lines[0]).toBe('dry run: would delete 60 objects, 60 B under "many/"; nothing was deleted');
    expect(lines.slice(1, 11)).toEqual(keys.slice(0, 10).map((k) => `would delete ${k}`));
    expect(lines.slice(11)).toEqual(['… and 50 more, all under "many/"']);
    expect(Object.keys(await server.objects())).toHaveLength(60);
  });

  it("more objects than max_objects is too_large naming the count, and nothing is deleted", async () => {
    const server = await start();
    const { code, text, structured } = await callError(server.client, deleteObjects, { prefix: "experiments/", max_objects: 4 });
    expect(code).toBe("too_large");
    expect(text).toContain('"experiments/" holds 5 objects');
    expect(text).toContain("max_objects: 5");
    expect(structured).toMatchObject({ deleted: 0, keys: [] });
    expect(await server.objects()).toEqual(RUN);
    const keys = await callError(server.client, deleteObjects, { keys: ["other/x.txt", "experiments/exp420.txt"], max_objects: 1 });
    expect(keys.code).toBe("too_large");
    expect(await server.objects()).toEqual(RUN);
    expect((await callOk(server.client, deleteObjects, { prefix: "experiments/", max_objects: 5 })).structured.deleted).toBe(5);
  });

  it("deletes more than one batch of 1000 with progress", async () => {
    const server = await env.start();
    const keys = Array.from({ length: 1003 }, (_, i) => `big/${String(i).padStart(4, "0")}`);
    for (let i = 0; i < keys.length; i += 50) await Promise.all(keys.slice(i, i + 50).map((k) => server.seed(k, "x")));
    await server.seed("big-other", "stays");
    const progress: number[] = [];
    const result = await server.client.callTool(
      { name: "delete_objects", arguments: { prefix: "big", max_objects: 2000 } },
      {
        onprogress: (p) => progress.push(p.progress),
      },
    );
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ deleted: 1003, bytes: 1003, failed_count: 0 });
    expect((result.structuredContent as { keys: string[] }).keys).toHaveLength(50);
    expect(progress.at(-1)).toBe(1003);
    expect(await server.objects()).toEqual({ "big-other": "stays" });
    // The answer stays small whatever was deleted.
    expect(JSON.stringify(result).length).toBeLessThan(4096);
  }, 120_000);

  it.each([
    [{}, "exactly one of prefix"],
    [{ prefix: "experiments/", keys: ["other/x.txt"] }, "not both"],
    [{ prefix: "" }, "must not be empty"],
    [{ keys: [] }, "1 to 1000 keys; got 0"],
    [{ keys: Array.from({ length: 1001 }, (_, i) => `k${i}`) }, "got 1001"],
    [{ keys: ["other/x.txt", ""] }, "keys"],
    [{ prefix: "experiments/", max_objects: 0 }, "max_objects must be an integer from 1 to 100000"],
    [{ prefix: "experiments/", max_objects: 100_001 }, "max_objects"],
  ])("refuses %j with invalid_argument (%s), deleting nothing", async (args, mention) => {
    const server = await start();
    const { code, text } = await callError(server.client, deleteObjects, args);
    expect(code).toBe("invalid_argument");
    expect(text).toContain(mention);
    expect(await server.objects()).toEqual(RUN);
  });

  it("deletes only under the allowed prefixes: a folder or any key outside refuses the whole call", async () => {
    const server = await start({ allowPrefixes: ["experiments/exp42/"] });
    for (const args of [
      { prefix: "experiments/" },
      { prefix: "experiments/exp4" },
      { keys: ["experiments/exp42/a.csv", "other/x.txt"] },
      { keys: ["experiments/exp42/../exp4/keep.txt"] },
    ]) {
      const { code } = await callError(server.client, deleteObjects, args);
      expect(code, JSON.stringify(args)).toBe("outside_allowed_prefix");
    }
    expect(await server.objects()).toEqual(RUN);
    const { structured } = await callOk(server.client, deleteObjects, { prefix: "experiments/exp42" });
    expect(structured.deleted).toBe(3);
  });

  it("is not offered on a read-only server", async () => {
    const server = await start({ readOnly: true });
    const names = (await server.client.listTools()).tools.map((t) => t.name);
    expect(names).not.toContain("delete_objects");
  });
});
