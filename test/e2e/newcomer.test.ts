/**
 * A newcomer's first session: no account, `r2-mcp --local store` started in a clean folder (so the
 * only root is that folder, the default), relative paths, the tools an assistant would reach for
 * in order. Every step goes through the built CLI over stdio.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteObject } from "../../src/mcp/tools/delete-object.js";
import { downloadDirectory } from "../../src/mcp/tools/download-directory.js";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { uploadDirectory } from "../../src/mcp/tools/upload-directory.js";
import { call, callOk, structured } from "../helpers/calls.js";
import { localCli, type RunningServer, startClient, textOf } from "../helpers/start-client.js";
import { makeTempDir, snapshotTree, type TempDir } from "../helpers/tmp.js";

const EXPERIMENT: Record<string, string | Buffer> = {
  "notes.md": "# first run\nlearning rate 3e-4, looks stable\n",
  "config.json": JSON.stringify({ lr: 3e-4, epochs: 3 }, null, 2),
  "results/metrics.csv": "epoch,loss\n1,0.91\n2,0.55\n3,0.42\n",
  "results/plots/loss curve.bin": Buffer.from([0x00, 0xff, 0x10, 0x80, 0x7f]),
};

describe("a newcomer's first session with --local", () => {
  let tmp: TempDir;
  let server: RunningServer;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-newcomer-");
    for (const [relative, content] of Object.entries(EXPERIMENT)) {
      const file = path.join(tmp.path, "experiment", relative);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
    }
    // No --root: the working directory is the root, as for someone who just tries it.
    const cli = localCli("store");
    // listTools: the client validates every result against the output schemas.
    server = await startClient({ ...cli, cwd: tmp.path, listTools: true });
  });

  afterAll(async () => {
    await server?.close();
    await tmp?.cleanup();
  });

  it("uploads a folder, browses it, reads a file, downloads it elsewhere, deletes one object", async () => {
    const { client } = server;
    const keys = Object.keys(EXPERIMENT)
      .map((k) => `runs/first/${k}`)
      .sort();

    const uploaded = await callOk(client, uploadDirectory, {
      local_dir: "experiment",
      prefix: "runs/first",
    });
    expect(uploaded.uploaded).toBe(4);
    expect([...uploaded.keys].sort()).toEqual(keys);

    const everything = await callOk(client, listObjects, {});
    expect(everything.objects.map((o) => o.key)).toEqual(keys);
    expect(everything.next_cursor).toBeUndefined();

    const topLevel = await callOk(client, listObjects, { recursive: false });
    expect(topLevel).toEqual({ objects: [], prefixes: ["runs/"] });
    const oneLevel = await call(client, "list_objects", { prefix: "runs/first/", recursive: false });
    expect(oneLevel.structuredContent).toMatchObject({ prefixes: ["runs/first/results/"] });
    expect(structured(oneLevel, listObjects.output).objects.map((o) => o.key)).toEqual(["runs/first/config.json", "runs/first/notes.md"]);
    expect(textOf(oneLevel)).toContain("runs/first/results/");

    const notes = await call(client, "get_object_bytes", { key: "runs/first/notes.md" });
    expect(notes.structuredContent).toMatchObject({ encoding: "utf8", data: EXPERIMENT["notes.md"] });
    expect(textOf(notes)).toContain("learning rate 3e-4");

    const downloaded = await callOk(client, downloadDirectory, {
      prefix: "runs/first",
      local_dir: "copy/of/first",
    });
    expect(downloaded.downloaded).toBe(4);
    expect(await snapshotTree(path.join(tmp.path, "copy", "of", "first"))).toEqual(await snapshotTree(path.join(tmp.path, "experiment")));

    expect(await callOk(client, deleteObject, { key: "runs/first/notes.md" })).toEqual({ key: "runs/first/notes.md", existed: true });
    const after = await callOk(client, listObjects, { prefix: "runs/" });
    expect(after.objects.map((o) => o.key)).toEqual(keys.filter((k) => k !== "runs/first/notes.md"));

    // The local copy is untouched by the delete, and a smooth session logs no warnings.
    expect(await snapshotTree(path.join(tmp.path, "copy", "of", "first"))).toEqual(await snapshotTree(path.join(tmp.path, "experiment")));
    expect(server.stderr()).not.toMatch(/r2-mcp (warning|error|critical|alert|emergency):/);
    expect(server.transportErrors).toEqual([]);
  });
});
