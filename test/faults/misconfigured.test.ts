/**
 * Wrong credentials, wrong bucket, unreachable endpoint: each a clear error with the next step,
 * within a bounded number of requests (small attempt budgets; nothing waits on a clock).
 *
 * fauxqs accepts any credentials, so for "wrong credentials" the fault proxy stands in for the
 * server's authentication (test double for auth only): a request signed with an access key other
 * than the suite's is answered 403 InvalidAccessKeyId, as R2 does. Everything else is the real
 * local server.
 */
import { mkdir, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Store } from "../../src/core/s3/store.js";
import { downloadDirectory, downloadFile, uploadDirectory, uploadFile } from "../../src/core/transfer/index.js";
import { failureOf } from "../helpers/assert.js";
import { closedPort } from "../helpers/net.js";
import { TEST_ACCESS_KEY_ID } from "../helpers/s3-server.js";
import { captureLog, type FaultRig, startFaultRig, storeConfig } from "./setup.js";

let rig: FaultRig;
let localFile: string;
let localDir: string;

beforeAll(async () => {
  rig = await startFaultRig({ accessKeyId: TEST_ACCESS_KEY_ID });
  localFile = path.join(rig.tmp.path, "a.txt");
  await writeFile(localFile, "local bytes");
  localDir = path.join(rig.tmp.path, "tree");
  await mkdir(localDir);
  await writeFile(path.join(localDir, "b.txt"), "b");
});
afterAll(async () => {
  await rig?.close();
});

/** Every operation of the store, so each one is held to the same mapping. */
function operations(store: S3Store): [string, () => Promise<unknown>][] {
  return [
    ["head", () => store.head("k/a.txt")],
    ["get", () => store.get("k/a.txt")],
    ["put bytes", () => store.put("k/a.txt", { kind: "bytes", data: Buffer.from("x") }, { mode: "create" })],
    ["upload file", () => uploadFile(store, localFile, "k/file.txt")],
    ["list", () => store.list({ prefix: "k/" })],
    ["delete", () => store.delete("k/a.txt")],
    ["download file", () => downloadFile(store, "k/a.txt", path.join(rig.tmp.path, "never", "a.txt"))],
    ["upload directory", () => uploadDirectory(store, localDir, "k/tree")],
    ["download directory", () => downloadDirectory(store, "k/", path.join(rig.tmp.path, "never-dir"))],
  ];
}

describe("wrong credentials", () => {
  it("every operation is access_denied after one request (a 403 is never retried), naming the settings to check", async () => {
    const store = rig.store({ credentials: { accessKeyId: "AKIDWRONGKEY", secretAccessKey: "wrong-secret-value" } });
    for (const [name, run] of operations(store)) {
      const before = rig.proxy.requests.length;
      const err = await failureOf(run());
      expect.soft(err.kind, name).toBe("access_denied");
      expect.soft(err.message, name).toMatch(/check the access key and secret \(R2_ACCESS_KEY_ID \/ R2_SECRET_ACCESS_KEY\)/);
      expect.soft(err.message, name).not.toContain("wrong-secret-value");
      // One request: the first one refused ends the call.
      expect.soft(rig.proxy.requests.length - before, name).toBe(1);
    }
    expect(await readdir(rig.tmp.path)).not.toContain("never");
  });
});

describe("wrong bucket", () => {
  it("every operation is bucket_not_found, HEAD-based ones included (not exists:false), naming bucket and endpoint", async () => {
    const store = rig.store({ bucket: "no-such-bucket" });
    for (const [name, run] of operations(store)) {
      const err = await failureOf(run());
      expect.soft(err.kind, name).toBe("bucket_not_found");
      expect.soft(err.message, name).toContain('"no-such-bucket"');
      expect.soft(err.message, name).toContain(rig.proxy.endpoint);
      expect.soft(err.message, name).toMatch(/--bucket \/ R2_BUCKET/);
    }
    // Never retried: 404s cannot succeed by repeating them.
    expect(rig.proxy.requests.filter((r) => r.bucket === "no-such-bucket").every((r) => r.attempt === 1)).toBe(true);
  });

  it("a missing key in an existing bucket is still exists:false, and the bucket is asked about once", async () => {
    const store = rig.store();
    const headBuckets = rig.proxy.count({ op: "HeadBucket" });
    expect(await store.head("k/missing-1")).toBeUndefined();
    expect(await store.head("k/missing-2")).toBeUndefined();
    expect(rig.proxy.count({ op: "HeadBucket" })).toBe(headBuckets + 1);
  });
});

describe("unreachable endpoint", () => {
  it("a closed loopback port: every operation is unavailable after the attempt budget, naming the endpoint", async () => {
    const port = await closedPort();
    const { log, entries } = captureLog();
    const store = new S3Store({ ...storeConfig(rig.server, `http://127.0.0.1:${port}`), maxAttempts: 2, log });
    try {
      for (const [name, run] of operations(store)) {
        const err = await failureOf(run());
        expect.soft(err.kind, name).toBe("unavailable");
        expect.soft(err.message, name).toContain(`http://127.0.0.1:${port}`);
        expect
          .soft(err.message, name)
          .toMatch(/after 2 attempts \(ECONNREFUSED\); check the endpoint URL \(--endpoint \/ R2_ENDPOINT_URL\)/);
      }
      // The SDK reported each failed request with its attempt count.
      const failed = entries.filter((e) => e.message.includes("failed after 2 attempts (ECONNREFUSED)"));
      expect(failed.length).toBeGreaterThanOrEqual(operations(store).length);
    } finally {
      await store.close();
    }
  });
});
