/**
 * The same faults end to end: the built CLI (dist/cli.js) over stdio, in front of the fault proxy
 * and the real local S3 server. A failed tool call is an error result whose text starts with the
 * SPEC code and says what to do next; the server keeps serving. Run `npm run build` first.
 *
 * The fault proxy also stands in for authentication here (fauxqs checks none): a request signed
 * with another access key than the suite's gets 403 InvalidAccessKeyId. Test double for auth only.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { uploadBytes } from "../../src/mcp/tools/upload-bytes.js";
import { uploadDirectory } from "../../src/mcp/tools/upload-directory.js";
import { callError, callOk } from "../helpers/calls.js";
import { closedPort } from "../helpers/net.js";
import { killChildren } from "../helpers/run-cli.js";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { baseEnv, type RunningServer, startClient } from "../helpers/start-client.js";
import { type FaultRig, startFaultRig } from "./setup.js";

let rig: FaultRig;
let raw: S3Client;
const running: RunningServer[] = [];

beforeAll(async () => {
  rig = await startFaultRig({ accessKeyId: TEST_ACCESS_KEY_ID });
  raw = rig.server.rawClient();
});
afterAll(async () => {
  await Promise.all(running.map((s) => s.close()));
  await killChildren();
  raw?.destroy();
  await rig?.close();
});

async function cli(options: { endpoint?: string; bucket?: string; accessKeyId?: string } = {}): Promise<RunningServer> {
  // listTools: the client validates structured results against the schemas.
  const server = await startClient({
    args: [
      "--bucket",
      options.bucket ?? rig.server.bucket,
      "--endpoint",
      options.endpoint ?? rig.proxy.endpoint,
      "--region",
      rig.server.region,
      "--max-attempts",
      "2",
      "--root",
      rig.tmp.path,
    ],
    cwd: rig.tmp.path,
    env: baseEnv({ R2_ACCESS_KEY_ID: options.accessKeyId ?? TEST_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY }),
    listTools: true,
  });
  running.push(server);
  return server;
}

describe("faults through the MCP server", () => {
  it("upload_directory with a key that keeps failing: an unavailable error result listing what completed; the same call again finishes", async () => {
    const server = await cli();
    const dir = path.join(rig.tmp.path, "cli-tree");
    await mkdir(dir, { recursive: true });
    const names = ["a.txt", "b.txt", "c.txt", "d.txt", "e.txt"];
    for (const n of names) await writeFile(path.join(dir, n), `content of ${n}`);
    const broken = rig.proxy.inject({ op: "PutObject", key: "cli/c.txt", fault: { kind: "respond", status: 500, code: "InternalError" } });

    const failed = await callError(server.client, "upload_directory", { local_dir: dir, prefix: "cli", max_workers: 1 });
    expect(failed.text).toMatch(
      /^unavailable: .*"cli\/c.txt".*after 2 attempts.*\(2 of 5 completed; failed: "cli\/c.txt" \(unavailable\); 2 not started; repeat the call/,
    );
    expect(failed.structuredContent).toMatchObject({ uploaded: 2, keys: ["cli/a.txt", "cli/b.txt"], error: { code: "unavailable" } });
    const listed = await raw.send(new ListObjectsV2Command({ Bucket: rig.server.bucket, Prefix: "cli/" }));
    expect((listed.Contents ?? []).map((o) => o.Key)).toEqual(["cli/a.txt", "cli/b.txt"]);
    expect(rig.proxy.attempts({ op: "PutObject", key: "cli/c.txt" })).toHaveLength(2);

    broken.remove();
    const again = await callOk(server.client, uploadDirectory, {
      local_dir: dir,
      prefix: "cli",
      max_workers: 1,
    });
    expect(again).toMatchObject({
      uploaded: 3,
      keys: ["cli/c.txt", "cli/d.txt", "cli/e.txt"],
      skipped: ["cli/a.txt", "cli/b.txt"],
      conflicts: [],
    });
  });

  it("503 SlowDown once: upload_bytes succeeds on the second attempt (--max-attempts 2)", async () => {
    const server = await cli();
    rig.proxy.inject({ op: "PutObject", key: "cli/slow.txt", times: 1, fault: { kind: "respond", status: 503, code: "SlowDown" } });
    const result = await callOk(server.client, uploadBytes, { key: "cli/slow.txt", data: "slow" });
    expect(result).toMatchObject({ key: "cli/slow.txt", size: 4, replaced: false });
    expect(rig.proxy.attempts({ op: "PutObject", key: "cli/slow.txt" })).toEqual([1, 2]);
  });

  // A 301 comes from a real S3 endpoint when the bucket lives in another region; no local server
  // sends one, so the fault proxy answers it (test double for the redirect only).
  it("301 PermanentRedirect: invalid_argument naming the endpoint and region settings, not internal", async () => {
    const server = await cli();
    rig.proxy.inject({
      op: "PutObject",
      key: "cli/moved.txt",
      times: 1,
      fault: { kind: "respond", status: 301, code: "PermanentRedirect" },
    });
    const failed = await callError(server.client, "upload_bytes", { key: "cli/moved.txt", data: "x" });
    expect(failed.text).toMatch(/^invalid_argument: .*redirected.*--endpoint.*--region/);
  });

  it("wrong bucket: head_object is bucket_not_found (not exists:false), and so is a listing", async () => {
    const server = await cli({ bucket: "no-such-bucket" });
    const head = await callError(server.client, "head_object", { key: "a.txt" });
    expect(head.text).toMatch(
      /^bucket_not_found: bucket "no-such-bucket" does not exist at http:\/\/127\.0\.0\.1:\d+; check the bucket name \(--bucket \/ R2_BUCKET\)/,
    );
    const list = await callError(server.client, "list_objects", {});
    expect(list.text).toMatch(/^bucket_not_found: /);
  });

  it("wrong credentials: access_denied naming the settings to check, after one request", async () => {
    const server = await cli({ accessKeyId: "AKIDWRONGKEY" });
    const before = rig.proxy.requests.length;
    const list = await callError(server.client, "list_objects", {});
    expect(list.text).toMatch(/^access_denied: .*InvalidAccessKeyId.*R2_ACCESS_KEY_ID \/ R2_SECRET_ACCESS_KEY/);
    expect(list.text).not.toContain(TEST_SECRET_ACCESS_KEY);
    expect(rig.proxy.requests.length - before).toBe(1);
  });

  it("unreachable endpoint (a closed loopback port): unavailable naming the endpoint", async () => {
    const port = await closedPort();
    const server = await cli({ endpoint: `http://127.0.0.1:${port}` });
    const list = await callError(server.client, "list_objects", {});
    expect(list.text).toMatch(
      new RegExp(
        `^unavailable: the storage endpoint at http://127\\.0\\.0\\.1:${port} did not answer LIST.*after 2 attempts \\(ECONNREFUSED\\)`,
      ),
    );
    const head = await callError(server.client, "head_object", { key: "a.txt" });
    expect(head.text).toMatch(/^unavailable: /);
  });
});
