/**
 * delete_objects, and the folder hint of delete_object and head_object, over the real stdio
 * transport against the embedded local store and fauxqs: "delete the exp42 run" in one call.
 */
import { describe, expect, it } from "vitest";
import { deleteObject } from "../../src/mcp/tools/delete-object.js";
import { deleteObjects } from "../../src/mcp/tools/delete-objects.js";
import { headObject } from "../../src/mcp/tools/head-object.js";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { uploadDirectory } from "../../src/mcp/tools/upload-directory.js";
import { call, callError, callOk } from "../helpers/calls.js";
import { SERVED } from "../helpers/start-client.js";
import { useToolsServer } from "../helpers/tools-server.js";

describe.each(SERVED)("delete_objects over stdio, %s backend, protocol %s", (backend, era) => {
  const fx = useToolsServer(backend, era);
  const seedRun = async (name: string, files: number) => {
    const tree = Object.fromEntries(Array.from({ length: files }, (_, i) => [`f${String(i).padStart(3, "0")}.bin`, "x".repeat(i + 1)]));
    const dir = await fx.localDir(name, tree);
    await callOk(fx.client, uploadDirectory, { local_dir: dir, prefix: `experiments/${name}/`, max_workers: 16 });
  };
  const keysUnder = async (prefix: string) => (await callOk(fx.client, listObjects, { prefix, limit: 1000 })).objects.map((o) => o.key);

  it("deletes a run in one call, a dry run first; its neighbour exp420 stays; the answers stay under 4 KB", async () => {
    await seedRun("exp42", 120);
    await seedRun("exp420", 3);
    const dry = await call(fx.client, "delete_objects", { prefix: "experiments/exp42", dry_run: true });
    expect(dry.structuredContent).toMatchObject({ deleted: 120, bytes: 7260, dry_run: true, prefix: "experiments/exp42/" });
    expect(JSON.stringify(dry).length).toBeLessThan(4096);
    expect(await keysUnder("experiments/exp42/")).toHaveLength(120);

    const done = await call(fx.client, "delete_objects", { prefix: "experiments/exp42" });
    expect(done.isError).toBeFalsy();
    expect(done.structuredContent).toMatchObject({ deleted: 120, bytes: 7260, failed: [], dry_run: false });
    expect(JSON.stringify(done).length).toBeLessThan(4096);
    expect(await keysUnder("experiments/exp42/")).toEqual([]);
    expect(await keysUnder("experiments/exp420/")).toHaveLength(3);
  });

  it("deletes a list of keys and names the missing ones; too_large and bad arguments change nothing", async () => {
    await seedRun("keys", 5);
    const done = await callOk(fx.client, deleteObjects, {
      keys: ["experiments/keys/f000.bin", "experiments/keys/f004.bin", "experiments/keys/nope"],
    });
    expect(done).toMatchObject({ deleted: 2, bytes: 6, missing: ["experiments/keys/nope"] });
    const big = await callError(fx.client, "delete_objects", { prefix: "experiments/keys/", max_objects: 2 });
    expect(big.text).toMatch(/^too_large: "experiments\/keys\/" holds 3 objects/);
    for (const args of [{ prefix: "experiments/keys/", keys: ["experiments/keys/f001.bin"] }, { keys: [] }, { prefix: "" }]) {
      expect((await callError(fx.client, "delete_objects", args)).text).toMatch(/^invalid_argument: /);
    }
    expect(await keysUnder("experiments/keys/")).toEqual([
      "experiments/keys/f001.bin",
      "experiments/keys/f002.bin",
      "experiments/keys/f003.bin",
    ]);
  });

  it("delete_object and head_object on a folder-like key say what sits under it", async () => {
    await seedRun("exp43", 8);
    const head = await callOk(fx.client, headObject, { key: "experiments/exp43" });
    expect(head).toMatchObject({ exists: false, prefix_objects: 8 });
    const del = await callOk(fx.client, deleteObject, { key: "experiments/exp43" });
    expect(del).toMatchObject({ existed: false, prefix_objects: 8 });
    expect(await keysUnder("experiments/exp43/")).toHaveLength(8);
    if (backend === "s3") {
      const slash = await call(fx.client, "delete_object", { key: "experiments/exp43/" });
      expect(slash.structuredContent).toMatchObject({ existed: false, prefix_objects: 8 });
      expect(JSON.stringify(slash.content)).toContain("delete_objects");
    }
  });
});
