/**
 * r2-mcp beside aws-cli and rclone (issue 16, item 4): after an r2-mcp download, `aws s3 sync` and
 * `rclone copy` find nothing to move in either direction, multipart objects included; after an
 * r2-mcp upload, rclone reads each file's modification time from the object. The real tools run
 * against the suite's fauxqs on 127.0.0.1 with made-up credentials (test/helpers/interop.ts); each
 * test is skipped, saying why, where its tool is not installed. Every test also shows the tool
 * seeing a difference (a file given another time), so none can pass by the tool seeing nothing.
 */
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Store } from "../../src/core/s3/store.js";
import { R2Client } from "../../src/index.js";
import { MIB } from "../helpers/bytes.js";
import { awsCli, findTool, RCLONE_REMOTE, rclone } from "../helpers/interop.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

const AWS = findTool("aws");
const RCLONE = findTool("rclone");
const TOUCH = existsSync("/usr/bin/touch") || existsSync("/bin/touch");
const needs = (tool: string | undefined, name: string) => (tool ? "" : ` (skipped: ${name} is not installed)`);

/** What `aws s3 sync --dryrun` would do, one line per file ("(dryrun) download: ..."). */
const dryRunLines = (out: { stdout: string }) => out.stdout.split("\n").filter((l) => l.startsWith("(dryrun) "));

/** What `rclone copy --dry-run` would do: files it would copy, and files whose time it would reset. */
function rcloneWould(out: { stderr: string }): { copy: string[]; retime: string[] } {
  const names = (what: RegExp) => [...out.stderr.matchAll(what)].map((m) => m[1] as string).sort();
  return {
    copy: names(/NOTICE: (.+?): Skipped copy as --dry-run/g),
    retime: names(/NOTICE: (.+?): Skipped update modification time as --dry-run/g),
  };
}

/** A time in nanoseconds as rclone lsl prints it (UTC): "2023-11-14 22:13:20.123456789". */
function lslTime(ns: bigint): string {
  const seconds = new Date(Number(ns / 1_000_000_000n) * 1000).toISOString().slice(0, 19).replace("T", " ");
  return `${seconds}.${(ns % 1_000_000_000n).toString().padStart(9, "0")}`;
}

const mtimeOf = async (file: string) => (await stat(file, { bigint: true })).mtimeNs;

async function filesIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

/** Gives every file under `dir` the time now, as r2-mcp 0.1 left downloaded files. */
async function touchAll(dir: string): Promise<void> {
  const now = new Date();
  for (const file of await filesIn(dir)) await utimes(file, now, now);
}

describe("interop with aws-cli and rclone", () => {
  let server: S3TestServer;
  let raw: S3Client;
  let tmp: TempDir;
  let client: R2Client;
  // Above the 16 MiB ranged-download threshold; 4 parts of 5 MiB.
  const big = randomBytes(17 * MIB + 4321);
  const uri = (prefix: string) => `s3://${server.bucket}/${prefix}`;
  const remote = (prefix: string) => `${RCLONE_REMOTE}:${server.bucket}/${prefix}`;
  const aws = (args: string[]) => awsCli(AWS as string, server, tmp.path)(args);
  const rc = (args: string[]) => rclone(RCLONE as string, server, tmp.path)(args);

  beforeAll(async () => {
    server = await startS3Server();
    raw = server.rawClient();
    tmp = await makeTempDir("r2mcp-interop-");
    const store = new S3Store({
      bucket: server.bucket,
      endpoint: server.endpoint,
      region: server.region,
      credentials: server.credentials,
      multipartThreshold: 5 * MIB,
    });
    client = new R2Client({ store });
    // Objects other tools wrote: no mtime metadata, one of them multipart.
    for (const [Key, Body] of [
      ["theirs/small.txt", "small"],
      ["theirs/sub/c.txt", "charlie"],
    ]) {
      await raw.send(new PutObjectCommand({ Bucket: server.bucket, Key, Body }));
    }
    await new Upload({ client: raw, partSize: 5 * MIB, params: { Bucket: server.bucket, Key: "theirs/big.bin", Body: big } }).done();
    // Files r2-mcp uploads: their own (nanosecond) times; big.bin goes multipart.
    const src = path.join(tmp.path, "src");
    await mkdir(path.join(src, "sub"), { recursive: true });
    await writeFile(path.join(src, "small.txt"), "small");
    await writeFile(path.join(src, "sub", "c.txt"), "charlie");
    await writeFile(path.join(src, "big.bin"), big.subarray(0, 12 * MIB));
    await client.uploadDirectory(src, "ours");
  }, 120_000);

  afterAll(async () => {
    raw?.destroy();
    await client?.close();
    await server?.close();
    await tmp?.cleanup();
  });

  it.skipIf(!AWS)(
    `aws s3 sync moves nothing either way after download_directory, multipart object included${needs(AWS, "aws-cli")}`,
    async () => {
      const dl = path.join(tmp.path, "aws-theirs");
      await client.downloadDirectory("theirs", dl);
      const down = await aws(["s3", "sync", uri("theirs"), dl, "--dryrun"]);
      expect(down.code, down.stderr).toBe(0);
      expect(dryRunLines(down)).toEqual([]);
      const up = await aws(["s3", "sync", dl, uri("theirs"), "--dryrun"]);
      expect(up.code, up.stderr).toBe(0);
      expect(dryRunLines(up)).toEqual([]);

      // The same files with the time of the download, as before: every one is moved both ways.
      await touchAll(dl);
      expect(dryRunLines(await aws(["s3", "sync", uri("theirs"), dl, "--dryrun"]))).toHaveLength(3);
      expect(dryRunLines(await aws(["s3", "sync", dl, uri("theirs"), "--dryrun"]))).toHaveLength(3);
    },
  );

  it.skipIf(!AWS)(
    `aws s3 sync moves nothing after upload_directory, nor after downloading those objects again${needs(AWS, "aws-cli")}`,
    async () => {
      const src = path.join(tmp.path, "src");
      const up = await aws(["s3", "sync", src, uri("ours"), "--dryrun"]);
      expect(up.code, up.stderr).toBe(0);
      expect(dryRunLines(up)).toEqual([]);
      const dl = path.join(tmp.path, "aws-ours");
      await client.downloadDirectory("ours", dl);
      expect(dryRunLines(await aws(["s3", "sync", uri("ours"), dl, "--dryrun"]))).toEqual([]);
      expect(dryRunLines(await aws(["s3", "sync", dl, uri("ours"), "--dryrun"]))).toEqual([]);
    },
  );

  it.skipIf(!RCLONE)(
    `rclone copies nothing either way after download_directory, and keeps the multipart object${needs(RCLONE, "rclone")}`,
    async () => {
      const dl = path.join(tmp.path, "rclone-theirs");
      await client.downloadDirectory("theirs", dl);
      const down = await rc(["copy", remote("theirs"), dl, "--dry-run"]);
      expect(down.code, down.stderr).toBe(0);
      const would = rcloneWould(down);
      expect(would.copy).toEqual([]);
      // A multipart object has no MD5 to compare, so only an exact time keeps it: set to the nanosecond.
      if (TOUCH) expect(would.retime).not.toContain("big.bin");
      const up = await rc(["copy", dl, remote("theirs"), "--dry-run"]);
      expect(up.code, up.stderr).toBe(0);
      expect(rcloneWould(up).copy).toEqual([]);
      const check = await rc(["check", remote("theirs"), dl]);
      expect(check.code, check.stderr).toBe(0);

      // With the time of the download, as before: rclone fetches the multipart object again.
      await touchAll(dl);
      expect(rcloneWould(await rc(["copy", remote("theirs"), dl, "--dry-run"])).copy).toEqual(["big.bin"]);
    },
  );

  it.skipIf(!RCLONE)(
    `rclone reads each uploaded file's time to the nanosecond and copies nothing after upload_directory${needs(RCLONE, "rclone")}`,
    async () => {
      const src = path.join(tmp.path, "src");
      const expected = new Map<string, string>();
      for (const file of await filesIn(src)) expected.set(path.relative(src, file), lslTime(await mtimeOf(file)));
      const lsl = await rc(["lsl", remote("ours")]);
      expect(lsl.code, lsl.stderr).toBe(0);
      const listed = new Map(
        lsl.stdout
          .trim()
          .split("\n")
          .map((line) => /^\s*\d+ (\S+ \S+) (.+)$/.exec(line))
          .filter((m) => m !== null)
          .map((m) => [m[2] as string, m[1] as string]),
      );
      expect(listed).toEqual(expected);
      const again = await rc(["copy", src, remote("ours"), "--dry-run"]);
      expect(again.code, again.stderr).toBe(0);
      expect(rcloneWould(again)).toEqual({ copy: [], retime: [] });
    },
  );

  it.skipIf(!RCLONE)(
    `rclone copies nothing after downloading what r2-mcp uploaded; the multipart file gets its exact time${needs(RCLONE, "rclone")}`,
    async () => {
      const src = path.join(tmp.path, "src");
      const dl = path.join(tmp.path, "rclone-ours");
      await client.downloadDirectory("ours", dl);
      if (TOUCH) expect(await mtimeOf(path.join(dl, "big.bin"))).toBe(await mtimeOf(path.join(src, "big.bin")));
      const down = await rc(["copy", remote("ours"), dl, "--dry-run"]);
      expect(down.code, down.stderr).toBe(0);
      expect(rcloneWould(down).copy).toEqual([]);
      if (TOUCH) expect(rcloneWould(down).retime).not.toContain("big.bin");

      await utimes(path.join(dl, "big.bin"), 1_000_000_000, 1_000_000_000);
      expect(rcloneWould(await rc(["copy", remote("ours"), dl, "--dry-run"])).copy).toEqual(["big.bin"]);
    },
  );

  it.skipIf(!RCLONE)(
    `download_directory honours the mtime rclone stores; rclone then copies nothing${needs(RCLONE, "rclone")}`,
    async () => {
      const src = path.join(tmp.path, "rclone-src");
      await mkdir(src);
      await writeFile(path.join(src, "r.txt"), "from rclone");
      await utimes(path.join(src, "r.txt"), 1_600_000_000.25, 1_600_000_000.25);
      // rclone's own multipart uploads cannot complete on fauxqs (bench/README.md): a single PUT.
      const put = await rc(["copy", src, remote("rclone")]);
      expect(put.code, put.stderr).toBe(0);
      expect((await client.head("rclone/r.txt"))?.metadata).toEqual({ mtime: expect.stringMatching(/^1600000000\.25/) });
      const dl = path.join(tmp.path, "rclone-dl");
      await client.downloadDirectory("rclone", dl);
      expect(await mtimeOf(path.join(dl, "r.txt"))).toBe(await mtimeOf(path.join(src, "r.txt")));
      const down = await rc(["copy", remote("rclone"), dl, "--dry-run"]);
      expect(down.code, down.stderr).toBe(0);
      expect(rcloneWould(down)).toEqual({ copy: [], retime: [] });
    },
  );
});
