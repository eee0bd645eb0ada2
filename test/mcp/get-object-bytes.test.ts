import { describe, expect, it } from "vitest";
import { getObjectBytes } from "../../src/mcp/tools/get-object-bytes.js";
import { BACKENDS, callError, callOk, useInProcess } from "../helpers/in-process.js";

const KIB = 1024;
const MIB = 1024 * KIB;
const TEXT = "0123456789";
const BINARY = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
/** A 1×1 transparent PNG. */
const PNG = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

describe.each(BACKENDS)("get_object_bytes, %s backend", (backend) => {
  const env = useInProcess(backend);
  const start = async (options: Parameters<typeof env.start>[0] = {}) => {
    const server = await env.start(options);
    await server.seed("a.txt", TEXT);
    await server.seed("bin/blob", BINARY);
    return server;
  };

  it("returns UTF-8 text as utf8 under auto, and puts the text itself in the text block", async () => {
    const { client } = await start();
    const { structured, text, content } = await callOk(client, getObjectBytes, { key: "a.txt" });
    expect(structured).toEqual({
      key: "a.txt",
      data: TEXT,
      encoding: "utf8",
      size: 10,
      range: { offset: 0, length: 10 },
      content_type: "text/plain; charset=utf-8",
    });
    expect(text).toBe(`"a.txt": 10 of 10 bytes from offset 0, as utf8\n\n${TEXT}`);
    expect(content).toHaveLength(1);
  });

  it("returns other bytes as base64 under auto, saying why, with the data in the text block too", async () => {
    const { client } = await start();
    const { structured, text } = await callOk(client, getObjectBytes, { key: "bin/blob" });
    expect(structured).toEqual({
      key: "bin/blob",
      data: BINARY.toString("base64"),
      encoding: "base64",
      size: 5,
      range: { offset: 0, length: 5 },
      content_type: "application/octet-stream",
    });
    expect(text).toBe(`"bin/blob": 5 of 5 bytes from offset 0, as base64 (not valid UTF-8 text)\n\n${BINARY.toString("base64")}`);
  });

  it("returns text as base64 when asked, and refuses encoding utf8 for bytes that are not text", async () => {
    const { client } = await start();
    const asBase64 = await callOk(client, getObjectBytes, { key: "a.txt", encoding: "base64" });
    expect(asBase64.structured).toMatchObject({ data: Buffer.from(TEXT).toString("base64"), encoding: "base64" });
    const { code, text } = await callError(client, getObjectBytes, { key: "bin/blob", encoding: "utf8" });
    expect(code).toBe("invalid_argument");
    expect(text).toBe('invalid_argument: "bin/blob" is not valid UTF-8 text; pass encoding "base64" (or "auto")');
  });

  it("reads byte ranges: offset and length, offset alone to the end, length alone from 0, a length past the end", async () => {
    const { client } = await start();
    const cases = [
      [{ offset: 2, length: 3 }, "234", 2],
      [{ offset: 7 }, "789", 7],
      [{ length: 4 }, "0123", 0],
      [{ offset: 8, length: 100 }, "89", 8],
    ] as const;
    for (const [range, data, offset] of cases) {
      const { structured, text } = await callOk(client, getObjectBytes, { key: "a.txt", ...range });
      expect(structured).toMatchObject({ data, size: 10, range: { offset, length: data.length } });
      expect(text).toBe(`"a.txt": ${data.length} of 10 bytes from offset ${offset}, as utf8\n\n${data}`);
    }
  });

  it("refuses an offset at or past the end of the object", async () => {
    const { client } = await start();
    for (const offset of [10, 11]) {
      const { code, text } = await callError(client, getObjectBytes, { key: "a.txt", offset });
      expect(code).toBe("invalid_argument");
      expect(text).toContain('the byte range is outside "a.txt"');
    }
  });

  it("returns up to 64 KiB by default; one byte more is too_large, naming ranges and download_file", async () => {
    const server = await env.start();
    await server.seed("exact.txt", "x".repeat(64 * KIB));
    await server.seed("over.txt", "x".repeat(64 * KIB + 1));
    expect((await callOk(server.client, getObjectBytes, { key: "exact.txt" })).structured.range.length).toBe(64 * KIB);
    const { code, text } = await callError(server.client, getObjectBytes, { key: "over.txt" });
    expect(code).toBe("too_large");
    expect(text).toBe(
      'too_large: "over.txt" is 64 KiB (65537 bytes), over max_bytes 65536; read it in ranges (offset and length) or save it with download_file',
    );
    expect((await callOk(server.client, getObjectBytes, { key: "over.txt", max_bytes: 64 * KIB + 1 })).structured.size).toBe(64 * KIB + 1);
    expect((await callOk(server.client, getObjectBytes, { key: "over.txt", offset: 1 })).structured.range).toEqual({
      offset: 1,
      length: 64 * KIB,
    });
  });

  it("refuses a range larger than max_bytes before reading it", async () => {
    const { client } = await start();
    const { code, text } = await callError(client, getObjectBytes, { key: "a.txt", length: 5, max_bytes: 4 });
    expect(code).toBe("too_large");
    expect(text).toBe("too_large: length 5 is over max_bytes 4; raise max_bytes (up to 4194304) or read smaller ranges");
    const ranged = await callError(client, getObjectBytes, { key: "a.txt", offset: 3, max_bytes: 4 });
    expect(ranged.text).toContain("give a length of at most 4");
  });

  it.each([
    [{ max_bytes: 0 }, "max_bytes must be an integer from 1 to 4194304; got 0"],
    [{ max_bytes: 4 * MIB + 1 }, "max_bytes must be an integer from 1 to 4194304; got 4194305"],
    [{ offset: -1 }, "offset must be an integer from 0 to 9007199254740991; got -1"],
    [{ length: 0 }, "length must be an integer from 1 to 4194304 (save larger objects with download_file); got 0"],
    [{ length: 4 * MIB + 1 }, "length must be an integer from 1 to 4194304 (save larger objects with download_file); got 4194305"],
  ])("refuses %o with invalid_argument naming the argument, never clamping", async (args, message) => {
    const { client } = await start();
    const { code, text } = await callError(client, getObjectBytes, { key: "a.txt", ...args });
    expect(code).toBe("invalid_argument");
    expect(text).toBe(`invalid_argument: ${message}`);
  });

  it("accepts the ends of the ranges: max_bytes 1 and 4 MiB, length 4 MiB, offset 0", async () => {
    const { client } = await start();
    expect((await callOk(client, getObjectBytes, { key: "a.txt", offset: 0, length: 1, max_bytes: 1 })).structured.data).toBe("0");
    const wide = await callOk(client, getObjectBytes, { key: "a.txt", length: 4 * MIB, max_bytes: 4 * MIB });
    expect(wide.structured.data).toBe(TEXT);
  });

  it("answers not_found for a missing key", async () => {
    const { client } = await start();
    const { code, text } = await callError(client, getObjectBytes, { key: "missing.txt" });
    expect(code).toBe("not_found");
    expect(text).toContain('"missing.txt"');
  });

  it("also returns a small PNG as image content, but not a range of it", async () => {
    const server = await env.start();
    await server.seed("pic.png", PNG);
    const whole = await callOk(server.client, getObjectBytes, { key: "pic.png" });
    expect(whole.structured).toMatchObject({ encoding: "base64", data: PNG.toString("base64"), content_type: "image/png" });
    expect(whole.content[1]).toEqual({ type: "image", data: PNG.toString("base64"), mimeType: "image/png" });
    const part = await callOk(server.client, getObjectBytes, { key: "pic.png", length: 8 });
    expect(part.content).toHaveLength(1);
  });

  it("reads only under the allowed prefixes", async () => {
    const server = await start({ allowPrefixes: ["bin/"] });
    const { code } = await callError(server.client, getObjectBytes, { key: "a.txt" });
    expect(code).toBe("outside_allowed_prefix");
    expect((await callOk(server.client, getObjectBytes, { key: "bin/blob" })).structured.size).toBe(5);
  });
});
