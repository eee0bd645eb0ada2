import { describe, expect, it } from "vitest";
import { deleteObject } from "../../src/mcp/tools/delete-object.js";
import { BACKENDS, callError, callOk, useInProcess } from "../helpers/in-process.js";

describe.each(BACKENDS)("delete_object, %s backend", (backend) => {
  const env = useInProcess(backend);
  const start = async (options: Parameters<typeof env.start>[0] = {}) => {
    const server = await env.start(options);
    await server.seed("runs/a.txt", "a");
    await server.seed("runs/b.txt", "b");
    return server;
  };

  it("deletes one object, leaves the others, and reports that it existed", async () => {
    const server = await start();
    const { structured, text } = await callOk(server.client, deleteObject, { key: "runs/a.txt" });
    expect(structured).toEqual({ key: "runs/a.txt", existed: true });
    expect(text).toBe('deleted "runs/a.txt"');
    expect(await server.objects()).toEqual({ "runs/b.txt": "b" });
  });

  it("accepts a missing key by default (missing_ok true), saying there was nothing to delete", async () => {
    const server = await start();
    const { structured, text } = await callOk(server.client, deleteObject, { key: "runs/nope.txt" });
    expect(structured).toEqual({ key: "runs/nope.txt", existed: false });
    expect(text).toBe('"runs/nope.txt" did not exist; nothing to delete');
    expect(await server.objects()).toEqual({ "runs/a.txt": "a", "runs/b.txt": "b" });
  });

  it("answers not_found for a missing key with missing_ok false; an existing key is still deleted", async () => {
    const server = await start();
    const { code, text } = await callError(server.client, deleteObject, { key: "runs/nope.txt", missing_ok: false });
    expect(code).toBe("not_found");
    expect(text).toBe('not_found: "runs/nope.txt" does not exist; nothing was deleted (pass missing_ok: true to accept that)');
    const { structured } = await callOk(server.client, deleteObject, { key: "runs/b.txt", missing_ok: false });
    expect(structured.existed).toBe(true);
    expect(await server.objects()).toEqual({ "runs/a.txt": "a" });
  });

  it("deletes a key, not a prefix: a folder-like key leaves what is under it and says so, pointing to delete_objects", async () => {
    const server = await start();
    const { structured, text } = await callOk(server.client, deleteObject, { key: "runs" });
    expect(structured).toEqual({ key: "runs", existed: false, prefix_objects: 2 });
    expect(text).toBe(
      '"runs" did not exist as an object; nothing was deleted; 2 objects sit under the prefix "runs/" and were NOT deleted: delete_objects {prefix: "runs/"} deletes them (dry_run: true first shows them)',
    );
    expect(Object.keys(await server.objects())).toEqual(["runs/a.txt", "runs/b.txt"]);
    const strict = await callError(server.client, deleteObject, { key: "runs", missing_ok: false });
    expect(strict.code).toBe("not_found");
    expect(strict.text).toContain('2 objects sit under the prefix "runs/" and were NOT deleted: delete_objects');
  });

  it.runIf(backend === "s3")("a key ending in / with objects under it is not answered as a success with nothing to say", async () => {
    const server = await start();
    for (let i = 0; i < 8; i++) await server.seed(`experiments/exp43/f${i}.bin`, "x");
    const { structured, text } = await callOk(server.client, deleteObject, { key: "experiments/exp43/" });
    expect(structured).toEqual({ key: "experiments/exp43/", existed: false, prefix_objects: 8 });
    expect(text).toContain('8 objects sit under the prefix "experiments/exp43/" and were NOT deleted');
  });

  it("refuses invalid keys with invalid_argument", async () => {
    const server = await start();
    for (const key of ["", "a".repeat(1025), "nul\0"]) {
      expect((await callError(server.client, deleteObject, { key })).code).toBe("invalid_argument");
    }
    expect(Object.keys(await server.objects())).toHaveLength(2);
  });

  it("deletes only under the allowed prefixes: outside them the object stays", async () => {
    const server = await start({ allowPrefixes: ["runs/a"] });
    for (const key of ["runs/b.txt", "runs/a/../b.txt"]) {
      const { code, text } = await callError(server.client, deleteObject, { key });
      expect(code).toBe("outside_allowed_prefix");
      expect(text).toContain('"runs/a"');
    }
    await callOk(server.client, deleteObject, { key: "runs/a.txt" });
    expect(await server.objects()).toEqual({ "runs/b.txt": "b" });
  });
});
