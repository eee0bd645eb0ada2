/**
 * R2Client's allowPrefixes: the library is held to the same allowed-prefix policy as the server
 * (one implementation, the guarded store), on both backends.
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStore, R2Client, StorageError } from "../../src/index.js";
import { type S3TestServer, startS3Server, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

describe.each(["local", "s3"] as const)("R2Client allowPrefixes, %s backend", (backend) => {
  let tmp: TempDir;
  let s3: S3TestServer | undefined;
  let full: R2Client;
  let confined: R2Client;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-policy-");
    if (backend === "s3") {
      s3 = await startS3Server();
      const options = {
        bucketName: s3.bucket,
        endpointUrl: s3.endpoint,
        regionName: s3.region,
        accessKeyId: TEST_ACCESS_KEY_ID,
        secretAccessKey: TEST_SECRET_ACCESS_KEY,
        env: {},
      };
      full = new R2Client(options);
      confined = new R2Client({ ...options, allowPrefixes: ["ok/"] });
    } else {
      const store = await LocalStore.open(path.join(tmp.path, "store"));
      full = new R2Client({ store });
      confined = new R2Client({ store, allowPrefixes: ["ok/"] });
    }
    await full.uploadBytes("allowed", "ok/a.txt");
    await full.uploadBytes("not for you", "secret/b.txt");
    await mkdir(path.join(tmp.path, "up"));
    await writeFile(path.join(tmp.path, "up", "f.txt"), "local");
  });

  afterAll(async () => {
    await full?.close();
    await s3?.close();
    await tmp?.cleanup();
  });

  it("refuses reads, writes, deletes, listings and transfers outside with outside_allowed_prefix; nothing changes", async () => {
    const attempts: [string, () => Promise<unknown>][] = [
      ["head", () => confined.head("secret/b.txt")],
      ["exists", () => confined.exists("secret/b.txt")],
      ["getObjectBytes", () => confined.getObjectBytes("secret/b.txt")],
      ["list", () => confined.list("secret/")],
      ["list of the whole bucket", () => confined.list()],
      ["uploadBytes", () => confined.uploadBytes("x", "secret/c.txt")],
      ["uploadFile", () => confined.uploadFile(path.join(tmp.path, "up", "f.txt"), "secret/f.txt")],
      ["uploadDirectory", () => confined.uploadDirectory(path.join(tmp.path, "up"), "secret/up")],
      ["downloadFile", () => confined.downloadFile("secret/b.txt", path.join(tmp.path, "got.txt"))],
      ["downloadDirectory", () => confined.downloadDirectory("secret/", path.join(tmp.path, "got"))],
      ["deleteObject", () => confined.deleteObject("secret/b.txt")],
    ];
    for (const [name, attempt] of attempts) {
      const err = await attempt().then(
        () => expect.fail(`${name} should be refused`),
        (e: unknown) => e,
      );
      expect(err, name).toBeInstanceOf(StorageError);
      expect(err, name).toMatchObject({ kind: "outside_allowed_prefix", code: "EACCES" });
    }
    expect((await full.list()).objects.map((o) => o.key).sort()).toEqual(["ok/a.txt", "secret/b.txt"]);
    expect((await full.getObjectBytes("secret/b.txt")).toString()).toBe("not for you");
    expect((await readdir(tmp.path)).sort()).toEqual(backend === "local" ? ["store", "up"] : ["up"]);
  });

  it("works as usual inside the allowed prefixes", async () => {
    expect((await confined.getObjectBytes("ok/a.txt")).toString()).toBe("allowed");
    expect((await confined.list("ok/")).objects.map((o) => o.key)).toEqual(["ok/a.txt"]);
    const put = await confined.uploadBytes("new", "ok/new.txt");
    expect(put.replaced).toBe(false);
    expect(await confined.deleteObject("ok/new.txt")).toEqual({ key: "ok/new.txt", existed: true });
  });
});
