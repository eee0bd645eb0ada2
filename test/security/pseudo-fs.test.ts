/**
 * /proc and /sys mounted inside a root (common in containers: `-v /proc:/data/host-proc`), over
 * stdio with the built CLI on both backends. A path check sees an ordinary folder inside the root;
 * the server must refuse by the filesystem type of what it opened (statfs), so the server's own
 * /proc/self/environ (its credentials) never becomes an object. The server runs in its own user
 * and mount namespace (unshare -rm) with /proc and /sys bind-mounted under the root; where unshare
 * cannot make one, the tests skip saying why.
 */
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { snapshotAll } from "../helpers/bucket.js";
import { expectError } from "../helpers/calls.js";
import { type S3TestServer, startS3Server, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { BACKENDS, localCli, type RunningServer, s3Cli, startClient } from "../helpers/start-client.js";
import { makeTempDir, type TempDir, writeTree } from "../helpers/tmp.js";

const MOUNT = 'mount --rbind /proc "$1" && mount --rbind /sys "$2" && shift 2 && exec "$@"';

/** Why this machine cannot bind-mount /proc in a namespace of its own, or undefined when it can. */
function cannotMount(dir: string): string | undefined {
  if (process.platform !== "linux") return "bind mounts of /proc are Linux-only";
  try {
    const sys = path.join(dir, "..", "host-sys");
    execFileSync("unshare", ["-rm", "sh", "-c", MOUNT, "sh", dir, sys, "test", "-r", path.join(dir, "self", "environ")], { stdio: "pipe" });
    return undefined;
  } catch (err) {
    return `unshare -rm cannot bind-mount /proc here: ${(err as Error).message.split("\n")[0]}`;
  }
}

/** A small regular file sysfs has on most kernels. */
const SYS_FILES = ["kernel/uevent_seqnum", "kernel/profiling", "power/state"];

describe.each(BACKENDS)("/proc and /sys mounted inside a root, %s backend", (backend) => {
  let tmp: TempDir;
  let s3: S3TestServer | undefined;
  let raw: S3Client | undefined;
  let root: string;
  let server: RunningServer | undefined;
  let skip: string | undefined;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-pseudo-");
    root = path.join(tmp.path, "root");
    await writeTree(root, { "data/a.txt": "a regular file" });
    await mkdir(path.join(root, "host-proc"));
    await mkdir(path.join(root, "host-sys"));
    skip = cannotMount(path.join(tmp.path, "root", "host-proc"));
    if (skip) return;
    const args = ["--root", root];
    let cli: { args: string[]; env: Record<string, string> };
    if (backend === "s3") {
      s3 = await startS3Server();
      raw = s3.rawClient();
      cli = s3Cli(s3, args);
    } else {
      cli = localCli(path.join(tmp.path, "store"), args);
    }
    server = await startClient({
      ...cli,
      cwd: root,
      listTools: true,
      wrap: (command, commandArgs) => ({
        command: "unshare",
        args: ["-rm", "sh", "-c", MOUNT, "sh", path.join(root, "host-proc"), path.join(root, "host-sys"), command, ...commandArgs],
      }),
    });
  });

  afterAll(async () => {
    await server?.close();
    raw?.destroy();
    await s3?.close();
    await tmp?.cleanup();
  });

  const snapshot = () => snapshotAll(path.join(tmp.path, "root", "data"), raw && s3 ? { client: raw, server: s3 } : undefined);

  async function refused(tool: string, args: Record<string, unknown>) {
    const before = await snapshot();
    const result = await server!.call(tool, args);
    expectError(result, "outside_roots");
    expect(result.text).toContain("pseudo-filesystem");
    expect(result.text).not.toContain(TEST_SECRET_ACCESS_KEY);
    expect(await snapshot()).toEqual(before);
  }

  it("upload_file of <root>/host-proc/self/environ (the server's credentials) is outside_roots", async (ctx) => {
    if (skip) return ctx.skip(skip);
    await refused("upload_file", { local_path: "host-proc/self/environ", key: "leak/environ" });
  });

  it("upload_file of a sysfs file mounted inside the root is outside_roots", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const file = SYS_FILES.find((f) => existsSync(path.join("/sys", f)));
    if (file === undefined) return ctx.skip(`none of ${SYS_FILES.join(", ")} exists under /sys here`);
    await refused("upload_file", { local_path: `host-sys/${file}`, key: "leak/sys" });
  });

  it("upload_directory of a /proc folder mounted inside the root uploads nothing", async (ctx) => {
    if (skip) return ctx.skip(skip);
    await refused("upload_directory", { local_dir: "host-proc/sys/kernel/random", prefix: "leak/random/" });
  });

  it("download_file into the /proc mounted inside the root is outside_roots", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const put = await server!.call("upload_bytes", { key: "seed.txt", data: "seed" });
    expect(put.isError, put.text).toBeFalsy();
    await refused("download_file", { key: "seed.txt", local_path: "host-proc/planted.txt" });
  });
});
