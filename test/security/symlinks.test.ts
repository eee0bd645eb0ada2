/**
 * Symlink escapes with real symlinks in temp directories, beyond the refusals of the matrix: what
 * happens when a call is allowed to proceed (overwrite onto a link, links that stay inside the
 * roots), and a multi-file download meeting a planted link.
 */
import { lstat, readFile, readlink } from "node:fs/promises";
import path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { expectNoSecrets } from "../helpers/assert.js";
import { expectError, structured } from "../helpers/calls.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { type CliArgs, localCli, type RunningServer, SERVED, s3Cli, startClient } from "../helpers/start-client.js";
import { makeTempDir, snapshotTree, type TempDir, writeTree } from "../helpers/tmp.js";

/** Everything these servers said (messages, stderr), for the secrets check. */
const transcript: string[] = [];
/** Servers log at debug into the transcript, and the client validates every result (tools/list first). */
const watched = { transcript, logLevel: "debug", listTools: true } as const;

describe.each(SERVED)("symlinks, %s backend, protocol %s", (backend, era) => {
  let tmp: TempDir;
  let s3: S3TestServer | undefined;
  let raw: S3Client | undefined;
  let root: string;
  let outside: string;
  let server: RunningServer;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-links-");
    root = path.join(tmp.path, "root");
    outside = path.join(tmp.path, "outside");
    await writeTree(outside, { "target.txt": "outside, must not change" });
    await writeTree(root, {
      "data/one.txt": "one",
      "data/nested/two.txt": "two",
      "tree/real.txt": "real",
      "tree/alias": { link: "../data" },
      "tree/loop": { link: "." },
      "loop-a": { link: "loop-b" },
      "loop-b": { link: "loop-a" },
      "out-link": { link: "../outside/target.txt" },
      "multi/sub": { link: "../../outside" },
      "multi2/sub": { link: "../../outside" },
    });
    let cli: CliArgs;
    if (backend === "s3") {
      s3 = await startS3Server();
      raw = s3.rawClient();
      cli = s3Cli(s3, ["--root", root, "--log-level", "debug"]);
    } else {
      cli = localCli(path.join(tmp.path, "store"), ["--root", root, "--log-level", "debug"]);
    }
    server = await startClient({ ...cli, cwd: root, era, ...watched });
    for (const [key, data] of Object.entries({ "src/a.txt": "A", "multi/a.txt": "first", "multi/sub/x.txt": "second" })) {
      const put = await server.call("upload_bytes", { key, data });
      expect(put.isError, put.text).toBeFalsy();
    }
  });

  afterAll(async () => {
    await server?.close();
    raw?.destroy();
    await s3?.close();
    await tmp?.cleanup();
  });

  it("download_file with overwrite onto a symlink replaces the link itself, never its target", async () => {
    const link = path.join(root, "out-link");
    const result = await server.call("download_file", { key: "src/a.txt", local_path: link, overwrite: true });
    expect(result.isError, result.text).toBeFalsy();
    expect((await lstat(link)).isSymbolicLink()).toBe(false);
    expect(await readFile(link, "utf8")).toBe("A");
    expect(await readFile(path.join(outside, "target.txt"), "utf8")).toBe("outside, must not change");
  });

  it("upload_directory follows a symlink that stays inside the roots, and ends on a link cycle", async () => {
    const result = await server.call("upload_directory", { local_dir: "tree", prefix: "tree/" });
    expect(result.isError, result.text).toBeFalsy();
    const listed = await server.call("list_objects", { prefix: "tree/" });
    const keys = structured(listed, listObjects.output).objects.map((o) => o.key);
    expect(keys).toEqual(["tree/alias/nested/two.txt", "tree/alias/one.txt", "tree/real.txt"]);
  });

  it("refuses a symlink loop as a local path with invalid_argument, not an internal error", async () => {
    const result = await server.call("upload_file", { local_path: "loop-a", key: "t/loop" });
    expectError(result, "invalid_argument");
    expect(result.text).toContain("loop");
  });

  it("a multi-file download meeting a planted link writes nothing outside the roots", async () => {
    const before = await snapshotTree(outside);
    const result = await server.call("download_directory", { prefix: "multi/", local_dir: "multi", max_workers: 1 });
    expectError(result, "outside_roots");
    expect(await snapshotTree(outside)).toEqual(before);
    expect(await readlink(path.join(root, "multi", "sub"))).toBe("../../outside");
  });

  // downloadDirectory (src/core/transfer/directories.ts) checks every planned parent for symlinks
  // (src/core/fs/safe-mkdir.ts assertNoSymlinkBelow) before writing anything, so files planned
  // before the link ("multi/a.txt") are not written either.
  it("a multi-file download meeting a planted link writes nothing at all (all-or-nothing)", async () => {
    const before = await snapshotTree(root);
    const result = await server.call("download_directory", { prefix: "multi/", local_dir: "multi2", max_workers: 1 });
    expectError(result, "outside_roots");
    expect(await snapshotTree(root)).toEqual(before);
  });

  it("no credential in anything this server said", () => {
    expectNoSecrets(transcript);
  });
});
