/**
 * A move deletes each source only while it is still the version copied. Another writer changing a
 * source after its copy is staged at the fault proxy with a `before` hook (the rewrite goes
 * straight to the server), at the two moments that matter: before the HEAD that precedes the
 * delete, and between that HEAD and the DELETE, where only the DELETE's If-Match can tell (fauxqs
 * ignores it; the conditional proxy behind the fault proxy answers as S3 does: 412, or 404 for a
 * missing key). Run `npm run build` first.
 */
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { copyObjects } from "../../src/mcp/tools/copy-objects.js";
import { call, callError, callOk } from "../helpers/calls.js";
import { killChildren } from "../helpers/run-cli.js";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { baseEnv, type RunningServer, startClient, textOf } from "../helpers/start-client.js";
import { type FaultRig, startFaultRig } from "./setup.js";

let rig: FaultRig;
let raw: S3Client;
const running: RunningServer[] = [];

beforeAll(async () => {
  rig = await startFaultRig();
  raw = rig.server.rawClient();
});
afterEach(async () => {
  rig.proxy.clearFaults();
  await Promise.all(running.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await killChildren();
  raw?.destroy();
  await rig?.close();
});

async function cli(): Promise<RunningServer> {
  const server = await startClient({
    args: ["--bucket", rig.server.bucket, "--endpoint", rig.proxy.endpoint, "--region", rig.server.region, "--max-attempts", "2"],
    cwd: rig.tmp.path,
    env: baseEnv({ R2_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY }),
    listTools: true,
  });
  running.push(server);
  return server;
}

const put = (key: string, body: string) => raw.send(new PutObjectCommand({ Bucket: rig.server.bucket, Key: key, Body: body }));

async function text(key: string): Promise<string | undefined> {
  try {
    const got = await raw.send(new GetObjectCommand({ Bucket: rig.server.bucket, Key: key }));
    return await got.Body!.transformToString("utf8");
  } catch {
    return undefined;
  }
}

/** Another writer rewriting `key` just before the next matching request reaches the server. */
function rewriteBefore(op: "HeadObject" | "DeleteObject", key: string, body: string): void {
  rig.proxy.inject({ op, key, times: 1, fault: { kind: "delay", ms: 0 }, before: () => put(key, body).then(() => undefined) });
}

describe("move over stdio, s3 backend: a source changed after its copy is kept and reported", () => {
  it("a source rewritten before the pre-delete HEAD, and one rewritten between that HEAD and the DELETE (If-Match), are both kept", async () => {
    const server = await cli();
    for (const n of [0, 1, 2]) await put(`mv/src/${n}.txt`, `original ${n}`);
    rewriteBefore("HeadObject", "mv/src/1.txt", "rewritten before the HEAD");
    rewriteBefore("DeleteObject", "mv/src/2.txt", "rewritten before the DELETE");
    const conditional = { ...rig.conditional.stats };

    const result = await call(server.client, "copy_objects", {
      source: "mv/src",
      destination: "mv/dst",
      recursive: true,
      move: true,
      max_workers: 1,
    });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({
      copied: 3,
      moved: 1,
      source_changed: ["mv/src/1.txt", "mv/src/2.txt"],
      server_side: true,
    });
    expect(textOf(result)).toMatch(/1 source deleted; 2 sources changed after being copied and were kept/);
    expect(textOf(result)).toMatch(/\nsources kept:\n {2}mv\/src\/1.txt\n {2}mv\/src\/2.txt$/);
    // The copies hold the versions copied; the rewritten sources are still there, the other one went.
    for (const n of [0, 1, 2]) expect(await text(`mv/dst/${n}.txt`)).toBe(`original ${n}`);
    expect(await text("mv/src/0.txt")).toBeUndefined();
    expect(await text("mv/src/1.txt")).toBe("rewritten before the HEAD");
    expect(await text("mv/src/2.txt")).toBe("rewritten before the DELETE");
    // Every DELETE carried If-Match; the one for 1.txt was never sent (the HEAD saw the change).
    expect(rig.conditional.stats.conditionalDeletes - conditional.conditionalDeletes).toBe(2);
    expect(rig.conditional.stats.keptDeletes - conditional.keptDeletes).toBe(1);
    expect(rig.proxy.count({ op: "DeleteObject", key: "mv/src/1.txt" })).toBe(0);

    // Repeating the move finds the kept sources different from their copies: a conflict, nothing lost.
    const again = await callError(server.client, "copy_objects", { source: "mv/src", destination: "mv/dst", recursive: true, move: true });
    expect(again.text).toMatch(/^already_exists: /);
    expect(again.structuredContent).toMatchObject({ conflicts: ["mv/dst/1.txt", "mv/dst/2.txt"] });
  });

  it("a single-key move whose source was deleted by someone else between the HEAD and the DELETE (404 to If-Match) reports it, not as moved", async () => {
    const server = await cli();
    await put("one/src.txt", "only");
    rig.proxy.inject({
      op: "DeleteObject",
      key: "one/src.txt",
      times: 1,
      fault: { kind: "delay", ms: 0 },
      before: async () => {
        await raw.send(new DeleteObjectCommand({ Bucket: rig.server.bucket, Key: "one/src.txt" }));
      },
    });
    const conditional = { ...rig.conditional.stats };
    const moved = await callOk(server.client, copyObjects, { source: "one/src.txt", destination: "one/dst.txt", move: true });
    expect(moved).toMatchObject({ copied: 1, moved: 0, source_changed: ["one/src.txt"] });
    expect(rig.conditional.stats.keptDeletes - conditional.keptDeletes).toBe(1);
    expect(await text("one/src.txt")).toBeUndefined();
    expect(await text("one/dst.txt")).toBe("only");
  });
});

describe("conditional delete on a server that refuses If-Match on DELETE", () => {
  // A mock: no local server answers 501 to the header; some S3-compatible servers may. The HEAD
  // before it has already confirmed the version, so the delete is sent again without the header.
  it("falls back to a plain DELETE after a matching HEAD", async () => {
    const store = rig.store();
    await put("nh/a.txt", "a");
    const info = (await store.head("nh/a.txt"))!;
    rig.proxy.inject({ op: "DeleteObject", key: "nh/a.txt", times: 1, fault: { kind: "respond", status: 501, code: "NotImplemented" } });
    expect(await store.delete("nh/a.txt", { ifMatch: info.etag })).toEqual({ existed: true });
    expect(await text("nh/a.txt")).toBeUndefined();
  });
});
