/**
 * Per-key failures of a batch delete. No local S3 server refuses single keys inside a
 * DeleteObjects request (fauxqs deletes them all), so these tests use a MOCK of that one fault:
 * SDK middleware that adds <Error> entries to the real server's answer, as R2 or S3 would for keys
 * a token may not delete. Everything else is real: fauxqs, the store, the MCP server in process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Store } from "../../src/core/s3/store.js";
import { deleteObjects } from "../../src/mcp/tools/delete-objects.js";
import { callOk, useInProcess } from "../helpers/in-process.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";

/** Adds `errors` to every DeleteObjects answer of `store` (the mock described above). */
function refuseInBatch(store: S3Store, errors: { Key: string; Code: string; Message: string }[]): void {
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === "DeleteObjectsCommand") {
        (result.output as { Errors?: unknown[] }).Errors = errors;
      }
      return result;
    },
    { step: "initialize", name: "refuseInBatch" },
  );
}

describe("S3Store.deleteMany: keys the server refuses inside a batch", () => {
  let server: S3TestServer;
  let store: S3Store;
  beforeAll(async () => {
    server = await startS3Server();
    store = new S3Store({ bucket: server.bucket, endpoint: server.endpoint, region: server.region, credentials: server.credentials });
  });
  afterAll(async () => {
    await store?.close();
    await server?.close();
  });

  it("reports each refused key with its stable code; NoSuchKey counts as deleted", async () => {
    for (const k of ["b/1", "b/2", "b/3"]) await store.put(k, { kind: "bytes", data: Buffer.from(k) }, { mode: "create" });
    refuseInBatch(store, [
      { Key: "b/2", Code: "AccessDenied", Message: "Access Denied" },
      { Key: "b/3", Code: "NoSuchKey", Message: "gone already" },
    ]);
    const result = await store.deleteMany(["b/1", "b/2", "b/3"]);
    expect(result.deleted).toEqual(["b/1", "b/3"]);
    expect(result.failed).toEqual([{ key: "b/2", code: "access_denied", message: expect.stringContaining('"b/2"') }]);
  });
});

describe("delete_objects: what failed per key", () => {
  const env = useInProcess("s3");

  it("lists the refused keys with their codes, says so first in the text, and counts only what went", async () => {
    const server = await env.start();
    for (const k of ["run/a", "run/b", "run/c"]) await server.seed(k, "xx");
    refuseInBatch(server.store.inner as S3Store, [{ Key: "run/b", Code: "AccessDenied", Message: "Access Denied" }]);
    const { structured, text } = await callOk(server.client, deleteObjects, { prefix: "run" });
    expect(structured).toMatchObject({
      deleted: 2,
      bytes: 4,
      keys: ["run/a", "run/c"],
      failed: [{ key: "run/b", code: "access_denied" }],
      failed_count: 1,
    });
    expect(text.split("\n")[0]).toBe("1 object could NOT be deleted and remain:");
    expect(text).toContain("failed access_denied: run/b");
  });
});
