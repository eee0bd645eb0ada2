import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { headObject } from "../../src/mcp/tools/head-object.js";
import { BACKENDS, callError, callOk, useInProcess } from "../helpers/in-process.js";

const md5 = (text: string) => createHash("md5").update(text).digest("hex");
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const CSV = "x,y\n1,2\n";

describe.each(BACKENDS)("head_object, %s backend", (backend) => {
  const env = useInProcess(backend);

  it("reports size, time, etag and the content type guessed from the extension; the text says them too", async () => {
    const server = await env.start();
    await server.seed("runs/m.csv", CSV);
    const { structured, text } = await callOk(server.client, headObject, { key: "runs/m.csv" });
    expect(structured).toEqual({
      exists: true,
      key: "runs/m.csv",
      size: 8,
      etag: md5(CSV),
      last_modified: expect.stringMatching(ISO_8601),
      content_type: "text/csv; charset=utf-8",
    });
    // The time is the write's, not the call's: it matches what the store itself reports.
    const info = await server.store.inner.head("runs/m.csv");
    expect(structured.last_modified).toBe(info?.lastModified.toISOString());
    expect(text).toBe(`"runs/m.csv": 8 B, text/csv; charset=utf-8, modified ${structured.last_modified}, etag ${md5(CSV)}`);
  });

  it("reports a content type given at upload over the guessed one", async () => {
    const server = await env.start();
    await server.seed("blob.csv", CSV, "application/x-lab");
    const { structured } = await callOk(server.client, headObject, { key: "blob.csv" });
    expect(structured.content_type).toBe("application/x-lab");
  });

  it("answers exists:false for a missing key, as a result and not an error", async () => {
    const server = await env.start();
    await server.seed("runs/other.csv", CSV);
    const { structured, text } = await callOk(server.client, headObject, { key: "runs/m.csv" });
    expect(structured).toEqual({ exists: false, key: "runs/m.csv" });
    expect(text).toBe('"runs/m.csv" does not exist');
  });

  it("a missing key that is a folder of objects says how many sit under it", async () => {
    const server = await env.start();
    for (const k of ["exp/43/a", "exp/43/b/c", "exp/430"]) await server.seed(k, "x");
    const { structured, text } = await callOk(server.client, headObject, { key: "exp/43" });
    expect(structured).toEqual({ exists: false, key: "exp/43", prefix_objects: 2 });
    expect(text).toBe(
      '"exp/43" does not exist as an object, but 2 objects sit under the prefix "exp/43/" (list_objects or summarize_prefix with that prefix shows them)',
    );
    if (backend === "s3") {
      const slash = await callOk(server.client, headObject, { key: "exp/43/" });
      expect(slash.structured).toEqual({ exists: false, key: "exp/43/", prefix_objects: 2 });
    }
  });

  it("refuses keys that are not keys with invalid_argument", async () => {
    const { client } = await env.start();
    for (const [key, message] of [
      ["", "key must be a non-empty string"],
      ["a".repeat(1025), "key is 1025 bytes of UTF-8; the limit is 1024"],
      ["nul\0key", "key must not contain a NUL character"],
    ]) {
      const { code, text } = await callError(client, headObject, { key });
      expect(code).toBe("invalid_argument");
      expect(text).toBe(`invalid_argument: ${message}`);
    }
  });

  it("answers outside_allowed_prefix for a key outside the allowed prefixes, even one that exists", async () => {
    const server = await env.start({ allowPrefixes: ["team/"] });
    await server.seed("secret.txt", "no");
    await server.seed("team/a.txt", "yes");
    for (const key of ["secret.txt", "team/../secret.txt", "teamx/a.txt"]) {
      const { code, text } = await callError(server.client, headObject, { key });
      expect(code).toBe("outside_allowed_prefix");
      expect(text).not.toContain("exists");
    }
    expect((await callOk(server.client, headObject, { key: "team/a.txt" })).structured.exists).toBe(true);
  });

  it("works on a read-only server", async () => {
    const server = await env.start({ readOnly: true });
    await server.seed("a.txt", "a");
    expect((await callOk(server.client, headObject, { key: "a.txt" })).structured).toMatchObject({ exists: true, size: 1 });
  });
});
