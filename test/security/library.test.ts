/**
 * The library's read-only mode: R2Client({ readOnly: true }) refuses every write to the bucket with
 * a clear access_denied (EACCES) error and changes nothing; reads and downloads still work.
 */
import path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStore, R2Client, StorageError } from "../../src/index.js";
import { plantObjects, snapshotAll } from "../helpers/bucket.js";
import { type S3TestServer, startS3Server, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { makeTempDir, type TempDir, writeTree } from "../helpers/tmp.js";

describe.each(["local", "s3"] as const)("R2Client read-only, %s backend", (backend) => {
  let tmp: TempDir;
  let s3: S3TestServer | undefined;
  let raw: S3Client | undefined;
  let client: R2Client;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-lib-");
    await writeTree(tmp.path, { "local/a.txt": "local file", "local/dir/b.txt": "b" });
    if (backend === "s3") {
      s3 = await startS3Server();
      raw = s3.rawClient();
      await plantObjects(raw, s3.bucket, { "seed/a.txt": "seed" });
      client = new R2Client({
        bucketName: s3.bucket,
        endpointUrl: s3.endpoint,
        regionName: s3.region,
        accessKeyId: TEST_ACCESS_KEY_ID,
        secretAccessKey: TEST_SECRET_ACCESS_KEY,
        readOnly: true,
        env: {},
      });
    } else {
      await writeTree(tmp.path, { "store/seed/a.txt": "seed" });
      client = new R2Client({ store: await LocalStore.open(path.join(tmp.path, "store")), readOnly: true });
    }
  });

  afterAll(async () => {
    await client?.close();
    raw?.destroy();
    await s3?.close();
    await tmp?.cleanup();
  });

  const writes: [string, (c: R2Client) => Promise<unknown>][] = [
    ["uploadBytes", (c) => c.uploadBytes("x", "new/x.txt")],
    ["uploadBytes with overwrite", (c) => c.uploadBytes("x", "seed/a.txt", { overwrite: true })],
    ["uploadFile", (c) => c.uploadFile(path.join(tmp.path, "local/a.txt"), "new/a.txt")],
    ["uploadDirectory", (c) => c.uploadDirectory(path.join(tmp.path, "local/dir"), "new/dir")],
    ["deleteObject", (c) => c.deleteObject("seed/a.txt")],
  ];

  it.each(writes)("%s is refused with access_denied / EACCES and changes nothing", async (name, write) => {
    const before = await snapshotAll(tmp.path, raw && s3 ? { client: raw, server: s3 } : undefined);
    const err = await write(client).then(
      () => expect.fail(`${name} should be refused`),
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(StorageError);
    expect(err).toMatchObject({ kind: "access_denied", code: "EACCES" });
    expect((err as Error).message).toMatch(/read-only/);
    expect(await snapshotAll(tmp.path, raw && s3 ? { client: raw, server: s3 } : undefined)).toEqual(before);
  });

  it("still reads and downloads", async () => {
    expect((await client.getObjectBytes("seed/a.txt")).toString("utf8")).toBe("seed");
    const out = await client.downloadFile("seed/a.txt", path.join(tmp.path, "downloaded.txt"));
    expect(out.size).toBe(4);
  });
});
