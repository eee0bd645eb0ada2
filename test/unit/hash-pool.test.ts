/** MD5 of written file ranges in a worker thread: the digests downloads are verified with. */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { closeSync, openSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashFileRanges } from "../../src/core/fs/hash-pool.js";
import { MIB } from "../helpers/bytes.js";
import { REPO_ROOT } from "../helpers/repo.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

describe("hashing file ranges off the main thread", () => {
  let tmp: TempDir;
  let file: string;
  let fd: number;
  // Not a multiple of anything used below: the last part and the last read are short.
  const data = randomBytes(5 * MIB + 12_345);

  beforeAll(async () => {
    tmp = await makeTempDir();
    file = path.join(tmp.path, "data.bin");
    writeFileSync(file, data);
    fd = openSync(file, "r");
  });
  afterAll(async () => {
    closeSync(fd);
    await tmp.cleanup();
  });

  it("gives the MD5 of the ranges added, in order, whatever their sizes", async () => {
    const hash = hashFileRanges(fd);
    let at = 0;
    for (const length of [1, 300_000, 2 * MIB + 7, 0, data.length]) {
      const take = Math.min(length, data.length - at);
      hash.add(at, take);
      at += take;
    }
    expect(at).toBe(data.length);
    const digests = await hash.digests();
    expect(digests.map((d) => d.toString("hex"))).toEqual([md5(data)]);
  });

  it("gives one MD5 per part, parts crossing the ranges added, the last part short", async () => {
    const partSize = MIB + 3;
    const hash = hashFileRanges(fd, partSize);
    for (let at = 0; at < data.length; at += 700_000) hash.add(at, Math.min(700_000, data.length - at));
    const expected: string[] = [];
    for (let at = 0; at < data.length; at += partSize) expected.push(md5(data.subarray(at, at + partSize)));
    expect((await hash.digests()).map((d) => d.toString("hex"))).toEqual(expected);
  });

  it("keeps hashes in flight at once apart, and hashes nothing as the MD5 of nothing", async () => {
    const hashes = Array.from({ length: 6 }, () => hashFileRanges(fd));
    for (const [i, h] of hashes.entries()) h.add(i * 1000, 1000);
    for (const [i, h] of hashes.entries()) h.add(MIB + i, 10);
    const got = await Promise.all(hashes.map((h) => h.digests()));
    got.forEach((digests, i) => {
      const expected = md5(Buffer.concat([data.subarray(i * 1000, i * 1000 + 1000), data.subarray(MIB + i, MIB + i + 10)]));
      expect(digests[0]?.toString("hex")).toBe(expected);
    });
    expect((await hashFileRanges(fd).digests())[0]?.toString("hex")).toBe(md5(Buffer.alloc(0)));
  });

  it("fails a hash whose range runs past the end of the file, and goes on hashing others", async () => {
    const past = hashFileRanges(fd);
    past.add(data.length - 10, 20);
    await expect(past.digests()).rejects.toThrow(/ended at byte/);
    const next = hashFileRanges(fd);
    next.add(0, 100);
    expect((await next.digests())[0]?.toString("hex")).toBe(md5(data.subarray(0, 100)));
  });

  it("keeps a process alive while a hash is open, and never after", () => {
    // Nothing else holds this process open: it exits by itself only if the worker lets go once
    // the hash is done, and it must still have printed the digest before that.
    const script = [
      `import { openSync } from "node:fs";`,
      `import { hashFileRanges } from ${JSON.stringify(path.join(REPO_ROOT, "src", "core", "fs", "hash-pool.ts"))};`,
      `const hash = hashFileRanges(openSync(${JSON.stringify(file)}, "r"));`,
      `hash.add(0, ${data.length});`,
      `hash.digests().then((d) => console.log(d[0].toString("hex")));`,
    ].join("\n");
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(run.signal).toBeNull();
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(md5(data));
  });
});
