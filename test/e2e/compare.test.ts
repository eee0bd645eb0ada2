/**
 * compare_directory, and include / exclude on the directory transfers, over the real stdio
 * transport (see test/helpers/tools-server.ts), against the embedded local store and fauxqs.
 */
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { compareDirectory } from "../../src/mcp/tools/compare-directory.js";
import { downloadDirectory } from "../../src/mcp/tools/download-directory.js";
import { uploadDirectory } from "../../src/mcp/tools/upload-directory.js";
import { call, callError, callOk } from "../helpers/calls.js";
import { SERVED } from "../helpers/start-client.js";
import { filesUnder } from "../helpers/tmp.js";
import { useToolsServer } from "../helpers/tools-server.js";

const PROJECT = {
  "train.py": "print('train')\n",
  "data/metrics.csv": "epoch,loss\n1,0.5\n",
  ".git/HEAD": "ref: refs/heads/main\n",
  ".git/objects/ab/cdef": "blob",
  "__pycache__/train.cpython-312.pyc": "bytecode",
  "data/scratch.tmp": "temporary",
};
const KEPT = ["data/metrics.csv", "train.py"];
const SKIP = [".git/", "__pycache__/", "*.tmp"];

describe.each(SERVED)("compare_directory and include/exclude over stdio, %s backend, protocol %s", (backend, era) => {
  const fx = useToolsServer(backend, era);

  it("uploads without .git, __pycache__ and *.tmp, then says the folder and the prefix agree on what was kept", async () => {
    const dir = await fx.localDir("project", PROJECT);
    const uploaded = await callOk(fx.client, uploadDirectory, { local_dir: dir, prefix: "code/v1", exclude: SKIP });
    expect([...uploaded.keys].sort()).toEqual(KEPT.map((k) => `code/v1/${k}`));

    const kept = await call(fx.client, "compare_directory", { local_dir: "project", prefix: "code/v1", exclude: SKIP });
    expect(kept.structuredContent).toMatchObject({ identical: 2, different: 0, only_local: 0, only_remote: 0, in_sync: true });
    const all = await callOk(fx.client, compareDirectory, { local_dir: "project", prefix: "code/v1" });
    expect(all).toMatchObject({ identical: 2, only_local: 4, in_sync: false });
    expect(all.only_local_paths).toEqual([".git/HEAD", ".git/objects/ab/cdef", "__pycache__/train.cpython-312.pyc", "data/scratch.tmp"]);

    await writeFile(path.join(dir, "train.py"), "print('train v2')\n");
    const changed = await call(fx.client, "compare_directory", { local_dir: "project", prefix: "code/v1", exclude: SKIP });
    expect(changed.structuredContent).toMatchObject({
      identical: 1,
      different: 1,
      different_paths: [{ path: "train.py", reason: "size_differs" }],
    });
    // A small answer stays small: the whole result, text and structured, well under 4 KB.
    expect(JSON.stringify(changed).length).toBeLessThan(4096);
  });

  it("downloads only what include keeps, and refuses a hostile glob with invalid_argument, writing nothing", async () => {
    const dir = await fx.localDir("project2", PROJECT);
    await callOk(fx.client, uploadDirectory, { local_dir: dir, prefix: "code/v2" });
    const target = path.join(fx.root, "only-csv");
    const got = await callOk(fx.client, downloadDirectory, { prefix: "code/v2", local_dir: target, include: ["*.csv"] });
    expect(got.downloaded).toBe(1);
    expect(await filesUnder(target)).toEqual(["data/metrics.csv"]);

    const err = await callError(fx.client, "download_directory", {
      prefix: "code/v2",
      local_dir: path.join(fx.root, "never"),
      exclude: ["{a,{b,{c,{d"],
    });
    expect(err.text).toMatch(/^invalid_argument: exclude\[0\] /);
    expect(existsSync(path.join(fx.root, "never"))).toBe(false);
  });
});
