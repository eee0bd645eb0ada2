import { describe, expect, it } from "vitest";
import { presignUrl } from "../../src/mcp/tools/presign-url.js";
import { BACKENDS, callError, callOk, useInProcess } from "../helpers/in-process.js";

const WEEK = 7 * 24 * 3600;

/** What an expires_at should be for a link made between `before` and now. */
function expectExpiry(expiresAt: string, before: number, seconds: number): void {
  const at = Date.parse(expiresAt);
  expect(at).toBeGreaterThanOrEqual(before + seconds * 1000);
  expect(at).toBeLessThanOrEqual(Date.now() + seconds * 1000);
}

const signedHeaders = (url: string) => new URL(url).searchParams.get("X-Amz-SignedHeaders")?.split(";");

describe.each(BACKENDS)("presign_url, %s backend", (backend) => {
  const env = useInProcess(backend);

  // Capabilities differ: the local store has no URLs, S3 signs them. A local bucket beside S3
  // ones answers unsupported (test/e2e/buckets.test.ts).
  if (backend === "local") {
    it("is not registered with only a local store", async () => {
      const server = await env.start();
      expect((await server.client.listTools()).tools.map((t) => t.name)).not.toContain("presign_url");
    });
  }

  if (backend === "s3") {
    it.each([0, -1, WEEK + 1])("refuses expires_in %s with invalid_argument in seconds, never clamping", async (expires_in) => {
      const { client } = await env.start();
      const { code, text } = await callError(client, presignUrl, { key: "a.txt", expires_in });
      expect(code).toBe("invalid_argument");
      expect(text).toBe(`invalid_argument: expires_in must be an integer from 1 to 604800 seconds; got ${expires_in}`);
    });

    it("refuses keys outside the allowed prefixes, and PUT links on a read-only server (GET stays allowed)", async () => {
      const { client } = await env.start({ allowPrefixes: ["shared/"], readOnly: true });
      expect((await callError(client, presignUrl, { key: "private/a.txt" })).code).toBe("outside_allowed_prefix");
      const put = await callError(client, presignUrl, { key: "shared/a.txt", method: "PUT" });
      expect(put.code).toBe("access_denied");
      expect(put.text).toContain("ask for a GET link instead");
    });

    it("makes a GET link valid for an hour by default that downloads the object; the text carries the whole URL", async () => {
      const server = await env.start();
      await server.seed("runs/a.txt", "shared bytes");
      const before = Date.now();
      const { structured, text } = await callOk(server.client, presignUrl, { key: "runs/a.txt" });
      expect(structured).toEqual({
        url: expect.stringContaining(server.s3!.endpoint),
        method: "GET",
        expires_at: expect.any(String),
        headers: {},
      });
      expectExpiry(structured.expires_at, before, 3600);
      expect(new URL(structured.url).searchParams.get("X-Amz-Expires")).toBe("3600");
      // Asked for by the user: the signature is not redacted.
      expect(text).toBe(`GET link for "runs/a.txt", valid until ${structured.expires_at}:\n${structured.url}`);
      const response = await fetch(structured.url);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe("shared bytes");
    });

    it("takes expires_in from 1 second up to 7 days", async () => {
      const { client, seed } = await env.start();
      await seed("a.txt", "a");
      for (const expires_in of [1, WEEK]) {
        const before = Date.now();
        const { structured } = await callOk(client, presignUrl, { key: "a.txt", expires_in });
        expect(new URL(structured.url).searchParams.get("X-Amz-Expires")).toBe(String(expires_in));
        expectExpiry(structured.expires_at, before, expires_in);
      }
    });

    it("makes PUT links create-only by default: If-None-Match: * is signed and returned; overwrite: true drops it", async () => {
      const server = await env.start();
      const createOnly = await callOk(server.client, presignUrl, { key: "inbox/new.txt", method: "PUT" });
      expect(createOnly.structured).toMatchObject({ method: "PUT", headers: { "If-None-Match": "*" } });
      expect(signedHeaders(createOnly.structured.url)).toContain("if-none-match");
      expect(createOnly.text).toContain("send header If-None-Match: *; it cannot replace an existing object");
      // fauxqs ignores the condition itself (see s3-server.ts), so only the upload is checked here.
      const upload = await fetch(createOnly.structured.url, {
        method: "PUT",
        headers: createOnly.structured.headers,
        body: "from a teammate",
      });
      expect(upload.status).toBe(200);
      expect(await server.objects()).toEqual({ "inbox/new.txt": "from a teammate" });

      const replacing = await callOk(server.client, presignUrl, { key: "inbox/new.txt", method: "PUT", overwrite: true });
      expect(replacing.structured.headers).toEqual({});
      expect(signedHeaders(replacing.structured.url)).not.toContain("if-none-match");
    });
  }
});
