/**
 * Too many open files (issue 17): a server started with a small open-file limit (ulimit -n) and a
 * directory transfer with many workers runs out of descriptors. Each failure is an error result
 * with a real code (unavailable) saying what to do (lower max_workers, raise the limit), never
 * internal; the server keeps serving; nothing partial is left. Both backends.
 */
import { execFileSync } from "node:child_process";
import path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { BACKENDS, localCli, type RunningServer, s3Cli, startClient } from "../helpers/start-client.js";
import { makeTempDir, partFiles, type TempDir, writeTree } from "../helpers/tmp.js";

/** Enough for Node to load its modules and serve; far too few for 4 calls of 64 workers each. */
const LIMIT = 256;

function cannotLimit(): string | undefined {
  try {
    execFileSync("sh", ["-c", `ulimit -n ${LIMIT} && true`], { stdio: "pipe" });
    return undefined;
  } catch (err) {
    return `the shell cannot set ulimit -n ${LIMIT}: ${(err as Error).message.split("\n")[0]}`;
  }
}

describe.each(BACKENDS)("too many open files, %s backend", (backend) => {
  let tmp: TempDir;
  let s3: S3TestServer | undefined;
  let raw: S3Client | undefined;
  let server: RunningServer | undefined;
  const skip = cannotLimit();

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-emfile-");
    const files = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`many/f${String(i).padStart(3, "0")}.txt`, `file ${i}\n`]));
    await writeTree(tmp.path, files);
    if (skip) return;
    const args = ["--root", tmp.path];
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
      cwd: tmp.path,
      wrap: (command, commandArgs) => ({ command: "sh", args: ["-c", `ulimit -n ${LIMIT} && exec "$@"`, "sh", command, ...commandArgs] }),
    });
  });

  afterAll(async () => {
    await server?.close();
    raw?.destroy();
    await s3?.close();
    await tmp?.cleanup();
  });

  it("upload_directory and download_directory with 64 workers: unavailable naming max_workers and ulimit, never internal", async (ctx) => {
    if (skip) return ctx.skip(skip);
    const codes: string[] = [];
    const code = (r: { isError?: boolean; text: string }) => (r.isError ? r.text.slice(0, r.text.indexOf(":")) : "ok");
    for (let round = 0; round < 3; round++) {
      const ups = await Promise.all(
        [0, 1, 2, 3].map((c) =>
          server!.call("upload_directory", { local_dir: "many", prefix: `r${round}c${c}/`, max_workers: 64, overwrite: true }),
        ),
      );
      for (const up of ups) {
        codes.push(code(up));
        if (up.isError) expect(up.text).toMatch(/^unavailable: .*too many open files.*max_workers.*ulimit -n/s);
      }
      const downs = await Promise.all(
        [0, 1, 2, 3].map((c) =>
          server!.call("download_directory", { prefix: `r${round}c${c}/`, local_dir: `down/r${round}c${c}`, max_workers: 64 }),
        ),
      );
      for (const down of downs) {
        codes.push(code(down));
        if (down.isError && !down.text.startsWith("not_found")) expect(down.text).toMatch(/^unavailable: .*too many open files/s);
      }
      expect(await partFiles(path.join(tmp.path, "down"), { missingOk: true })).toEqual([]);
    }
    console.info(`race report: F9 EMFILE (${backend}): ${JSON.stringify({ limit: LIMIT, calls: codes.length, results: codes })}`);
    expect(codes).toContain("unavailable");
    expect(codes.filter((c) => !["ok", "unavailable", "not_found"].includes(c))).toEqual([]);
    // Still serving.
    const listed = await server!.call("list_objects", { limit: 1 });
    expect(listed.isError, listed.text).toBeFalsy();
  });
});
