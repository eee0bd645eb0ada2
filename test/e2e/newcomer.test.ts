/**
 * A newcomer's first session: no account, `r2-mcp --local store` started in a clean folder (so the
 * only root is that folder, the default), relative paths, the tools an assistant would reach for
 * in order. Every step goes through the built CLI over stdio.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compareDirectory } from "../../src/mcp/tools/compare-directory.js";
import { deleteObject } from "../../src/mcp/tools/delete-object.js";
import { downloadDirectory } from "../../src/mcp/tools/download-directory.js";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { summarizePrefix } from "../../src/mcp/tools/summarize-prefix.js";
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

  it("manages an experiment in one or two calls a task, each small answer under 4 KB", async () => {
    const { client } = server;
    /** Every task's calls and the size of each whole result (content and structuredContent), for the issue note. */
    const sizes: Record<string, number> = {};
    const measured = async (task: string, name: string, args: Record<string, unknown>) => {
      const result = await call(client, name, args);
      expect(result.isError, `${task}: ${textOf(result)}`).toBeFalsy();
      sizes[task] = JSON.stringify(result).length;
      return result;
    };

    // 500 objects, as in the issue: 50 checkpoints, 400 data shards, 50 logs.
    const run: Record<string, string | Buffer> = {};
    for (let i = 0; i < 50; i++) run[`checkpoints/epoch_${String(i).padStart(2, "0")}.ckpt`] = Buffer.alloc(1000 + i * 100, i);
    for (let i = 0; i < 400; i++) run[`shards/shard_${String(i).padStart(3, "0")}.bin`] = `shard ${i}\n`;
    for (let i = 0; i < 50; i++) run[`logs/epoch_${String(i).padStart(2, "0")}.log`] = `epoch ${i} loss ${(1 / (i + 1)).toFixed(4)}\n`;
    run[".git/HEAD"] = "ref: refs/heads/main\n";
    run["__pycache__/train.cpython-312.pyc"] = "bytecode";
    for (const [relative, content] of Object.entries(run)) {
      const file = path.join(tmp.path, "exp42", relative);
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, content);
    }

    // "Upload the run, without .git and __pycache__": one call.
    const up = await measured("upload without .git/__pycache__", "upload_directory", {
      local_dir: "exp42",
      prefix: "experiments/exp42",
      exclude: [".git/", "__pycache__/"],
    });
    expect(structured(up, uploadDirectory.output).uploaded).toBe(500);

    // "Is my local copy identical to the bucket?": one call.
    const same = await measured("is my local copy identical?", "compare_directory", {
      local_dir: "exp42",
      prefix: "experiments/exp42",
      exclude: [".git/", "__pycache__/"],
    });
    expect(structured(same, compareDirectory.output)).toMatchObject({ identical: 500, in_sync: true, different: 0, only_local: 0 });
    expect(textOf(same)).toMatch(/^"exp42" vs "experiments\/exp42\/": in sync, 500 identical/);
    const since = new Date().toISOString();
    await writeFile(path.join(tmp.path, "exp42", "logs", "epoch_49.log"), "epoch 49 loss rerun\n");
    await writeFile(path.join(tmp.path, "exp42", "logs", "notes.txt"), "rerun 49\n");
    const changed = await measured("what differs from the bucket?", "compare_directory", {
      local_dir: "exp42",
      prefix: "experiments/exp42",
      exclude: [".git/", "__pycache__/"],
    });
    expect(structured(changed, compareDirectory.output)).toMatchObject({
      identical: 499,
      different: 1,
      only_local: 1,
      different_paths: [{ path: "logs/epoch_49.log", reason: "size_differs" }],
      only_local_paths: ["logs/notes.txt"],
    });

    // "How big is exp42? Which files are largest?": one call.
    const size = await measured("how big is exp42, which files are largest?", "summarize_prefix", { prefix: "experiments/exp42/" });
    const summary = structured(size, summarizePrefix.output);
    expect(summary.objects).toBe(500);
    expect(summary.largest[0]).toEqual({ key: "experiments/exp42/checkpoints/epoch_49.ckpt", size: 5900 });

    // "Find all .ckpt files": one call (one page of 50).
    const ckpts = await measured("find all .ckpt files", "list_objects", { prefix: "experiments/", glob: "**/*.ckpt" });
    expect((ckpts.structuredContent as { objects: unknown[] }).objects).toHaveLength(50);

    // "What changed since I last looked?": one call.
    await callOk(client, uploadDirectory, {
      local_dir: "exp42/logs",
      prefix: "experiments/exp42/logs",
      overwrite: true,
      include: ["notes.txt", "epoch_49.log"],
    });
    const recent = await measured("what changed since I last looked?", "list_objects", { prefix: "experiments/", modified_after: since });
    expect((recent.structuredContent as { objects: { key: string }[] }).objects.map((o) => o.key).sort()).toEqual([
      "experiments/exp42/logs/epoch_49.log",
      "experiments/exp42/logs/notes.txt",
    ]);

    // "Copy one file", "move exp42 to exp43", "delete the exp43 run": one or two calls each, on the server.
    const one = await measured("copy one file", "copy_objects", {
      source: "experiments/exp42/logs/notes.txt",
      destination: "experiments/notes-copy.txt",
    });
    expect(one.structuredContent).toMatchObject({ copied: 1, server_side: true });
    const moved = await measured("move exp42 to exp43", "copy_objects", {
      source: "experiments/exp42",
      destination: "experiments/exp43",
      recursive: true,
      move: true,
    });
    expect(moved.structuredContent).toMatchObject({ copied: 501, moved: 501 });
    const dry = await measured("what would deleting exp43 remove?", "delete_objects", { prefix: "experiments/exp43", dry_run: true });
    expect(dry.structuredContent).toMatchObject({ deleted: 501, dry_run: true });
    const gone = await measured("delete the exp43 run", "delete_objects", { prefix: "experiments/exp43" });
    expect(gone.structuredContent).toMatchObject({ deleted: 501, failed_count: 0 });
    const left = await callOk(client, listObjects, { prefix: "experiments/" });
    expect(left.objects.map((o) => o.key)).toEqual(["experiments/notes-copy.txt"]);

    for (const [task, bytes] of Object.entries(sizes)) {
      if (task !== "find all .ckpt files") expect(bytes, task).toBeLessThan(4096);
    }
    console.log(JSON.stringify(sizes, null, 2));
  });
});
