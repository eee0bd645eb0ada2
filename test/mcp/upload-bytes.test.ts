import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { uploadBytes } from "../../src/mcp/tools/upload-bytes.js";
import { BACKENDS, callError, callOk, useInProcess } from "../helpers/in-process.js";

const md5 = (data: string | Buffer) => createHash("md5").update(data).digest("hex");
const MIB = 1024 * 1024;

describe.each(BACKENDS)("upload_bytes, %s backend", (backend) => {
  const env = useInProcess(backend);

  it("creates an object from text by default, and says so with its size and etag", async () => {
    const server = await env.start();
    const { structured, text } = await callOk(server.client, uploadBytes, { key: "notes/a.txt", data: "hello" });
    expect(structured).toEqual({ key: "notes/a.txt", size: 5, etag: md5("hello"), replaced: false });
    expect(text).toBe(`created "notes/a.txt" (5 B, etag ${md5("hello")})`);
    expect(await server.objects()).toEqual({ "notes/a.txt": "hello" });
  });

  it("takes data as text unless encoding says base64: the default never decodes", async () => {
    const server = await env.start();
    await callOk(server.client, uploadBytes, { key: "literal.txt", data: "aGk=" });
    const decoded = await callOk(server.client, uploadBytes, { key: "decoded.txt", data: "aGk=", encoding: "base64" });
    expect(decoded.structured).toEqual({ key: "decoded.txt", size: 2, etag: md5("hi"), replaced: false });
    expect(await server.objects()).toEqual({ "decoded.txt": "hi", "literal.txt": "aGk=" });
  });

  it("stores binary base64 byte for byte, and accepts base64 broken over lines", async () => {
    const server = await env.start();
    const bytes = Buffer.from([0, 255, 128, 10, 13, 7]);
    const b64 = bytes.toString("base64");
    const { structured } = await callOk(server.client, uploadBytes, {
      key: "bin",
      data: `${b64.slice(0, 4)}\n${b64.slice(4)}`,
      encoding: "base64",
    });
    expect(structured).toMatchObject({ size: 6, etag: md5(bytes) });
    const got = await server.store.inner.get("bin");
    const chunks: Buffer[] = [];
    for await (const chunk of got.body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks)).toEqual(bytes);
  });

  it("stores the content type given, else guesses it from the key", async () => {
    const server = await env.start();
    await callOk(server.client, uploadBytes, { key: "t.csv", data: "a,b" });
    await callOk(server.client, uploadBytes, { key: "t.dat", data: "a,b", content_type: "text/csv" });
    expect((await server.store.inner.head("t.csv"))?.contentType).toBe("text/csv; charset=utf-8");
    expect((await server.store.inner.head("t.dat"))?.contentType).toBe("text/csv");
  });

  it("never replaces silently: already_exists leaves the object as it was; overwrite: true replaces it and says so", async () => {
    const server = await env.start();
    await server.seed("a.txt", "original");
    const { code, text } = await callError(server.client, uploadBytes, { key: "a.txt", data: "new" });
    expect(code).toBe("already_exists");
    expect(text).toBe('already_exists: "a.txt" exists; pass overwrite: true to replace it');
    expect(await server.objects()).toEqual({ "a.txt": "original" });

    const replaced = await callOk(server.client, uploadBytes, { key: "a.txt", data: "new", overwrite: true });
    expect(replaced.structured).toEqual({ key: "a.txt", size: 3, etag: md5("new"), replaced: true });
    expect(replaced.text).toMatch(/^replaced "a\.txt" \(3 B, /);
    expect(await server.objects()).toEqual({ "a.txt": "new" });
  });

  it("reports replaced: false for overwrite: true on a new key", async () => {
    const server = await env.start();
    const { structured, text } = await callOk(server.client, uploadBytes, { key: "fresh.txt", data: "x", overwrite: true });
    expect(structured.replaced).toBe(false);
    expect(text).toMatch(/^created /);
  });

  it("refuses data that is not base64, writing nothing", async () => {
    const server = await env.start();
    for (const data of ["abc", "ab$=", "a===", "@@@@"]) {
      const { code, text } = await callError(server.client, uploadBytes, { key: "x.bin", data, encoding: "base64" });
      expect(code).toBe("invalid_argument");
      expect(text).toContain("data is not valid base64");
    }
    expect(await server.objects()).toEqual({});
  });

  it("takes exactly 5 MiB; one byte more is too_large pointing to upload_file, writing nothing", async () => {
    const server = await env.start();
    const exact = await callOk(server.client, uploadBytes, {
      key: "big/exact",
      data: Buffer.alloc(5 * MIB, 1).toString("base64"),
      encoding: "base64",
    });
    expect(exact.structured.size).toBe(5 * MIB);
    for (const [data, encoding] of [
      [Buffer.alloc(5 * MIB + 1, 1).toString("base64"), "base64"],
      ["x".repeat(5 * MIB + 1), "utf8"],
      ["x".repeat(8 * MIB), "utf8"],
    ]) {
      const { code, text } = await callError(server.client, uploadBytes, { key: "big/over", data, encoding });
      expect(code).toBe("too_large");
      expect(text).toContain("upload_file");
    }
    expect(Object.keys(await server.objects())).toEqual(["big/exact"]);
  });

  it("refuses a content type that is not a media type, and invalid keys", async () => {
    const server = await env.start();
    const type = await callError(server.client, uploadBytes, { key: "a.txt", data: "x", content_type: "text/plain\r\nX-Evil: 1" });
    expect(type.code).toBe("invalid_argument");
    expect(type.text).toContain("content_type");
    for (const key of ["", "a".repeat(1025)])
      expect((await callError(server.client, uploadBytes, { key, data: "x" })).code).toBe("invalid_argument");
    expect(await server.objects()).toEqual({});
  });

  it("writes only under the allowed prefixes", async () => {
    const server = await env.start({ allowPrefixes: ["team/"] });
    for (const key of ["other/a.txt", "team/../a.txt", "team"]) {
      const { code } = await callError(server.client, uploadBytes, { key, data: "x" });
      expect(code).toBe("outside_allowed_prefix");
    }
    await callOk(server.client, uploadBytes, { key: "team/a.txt", data: "x" });
    expect(await server.objects()).toEqual({ "team/a.txt": "x" });
  });
});
