/**
 * One object by key over the real stdio transport (see test/helpers/tools-server.ts): head_object's
 * metadata, get_object_bytes' encodings, ranges and caps, and delete_object. Against the embedded
 * local store and against fauxqs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { deleteObject } from "../../src/mcp/tools/delete-object.js";
import { getObjectBytes } from "../../src/mcp/tools/get-object-bytes.js";
import { headObject } from "../../src/mcp/tools/head-object.js";
import { uploadBytes } from "../../src/mcp/tools/upload-bytes.js";
import { MIB, md5Hex } from "../helpers/bytes.js";
import { call, callError, callOk } from "../helpers/calls.js";
import { ISO_8601 } from "../helpers/spec.js";
import { SERVED } from "../helpers/start-client.js";
import { useToolsServer } from "../helpers/tools-server.js";

/** A 1×1 transparent PNG. */
const PNG_1X1 = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

describe.each(SERVED)("tools over stdio, %s backend, protocol %s", (backend, era) => {
  const fx = useToolsServer(backend, era);

  describe("head_object", () => {
    it("reports size, etag, content type and an ISO 8601 time for an existing key", async () => {
      const body = "col\n1\n2\n";
      await callOk(fx.client, uploadBytes, { key: "head/table.csv", data: body, content_type: "text/csv" });
      const head = await callOk(fx.client, headObject, { key: "head/table.csv" });
      expect(head).toMatchObject({ exists: true, key: "head/table.csv", size: Buffer.byteLength(body), etag: md5Hex(body) });
      expect(head.content_type).toMatch(/^text\/csv/);
      expect(head.last_modified).toMatch(ISO_8601);
      expect(Number.isNaN(Date.parse(head.last_modified as string))).toBe(false);
    });

    it("answers exists:false for a missing key, without an error", async () => {
      const result = await call(fx.client, "head_object", { key: "head/missing.txt" });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toEqual({ exists: false, key: "head/missing.txt" });
    });
  });

  describe("get_object_bytes", () => {
    beforeAll(async () => {
      await callOk(fx.client, uploadBytes, { key: "get/text.txt", data: "héllo wörld ✓\n" });
      await callOk(fx.client, uploadBytes, { key: "get/digits.txt", data: "0123456789" });
      await callOk(fx.client, uploadBytes, {
        key: "get/blob.bin",
        data: Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]).toString("base64"),
        encoding: "base64",
      });
      await callOk(fx.client, uploadBytes, { key: "get/pixel.png", data: PNG_1X1.toString("base64"), encoding: "base64" });
    });

    it("returns UTF-8 text as utf8 under auto", async () => {
      const body = "héllo wörld ✓\n";
      const got = await callOk(fx.client, getObjectBytes, { key: "get/text.txt" });
      expect(got).toMatchObject({ key: "get/text.txt", data: body, encoding: "utf8", size: Buffer.byteLength(body) });
      expect(got.range).toEqual({ offset: 0, length: Buffer.byteLength(body) });
      expect(got.content_type).toMatch(/^text\/plain/);
      const asBase64 = await callOk(fx.client, getObjectBytes, { key: "get/text.txt", encoding: "base64" });
      expect(asBase64.encoding).toBe("base64");
      expect(Buffer.from(asBase64.data, "base64").toString("utf8")).toBe(body);
    });

    it("returns non-UTF-8 bytes as base64 under auto, and refuses encoding utf8 for them", async () => {
      const got = await callOk(fx.client, getObjectBytes, { key: "get/blob.bin" });
      expect(got.encoding).toBe("base64");
      expect([...Buffer.from(got.data, "base64")]).toEqual([0xff, 0xfe, 0x00, 0x01, 0x80]);
      expect(got.size).toBe(5);
      const err = await callError(fx.client, "get_object_bytes", { key: "get/blob.bin", encoding: "utf8" });
      expect(err.text).toMatch(/^invalid_argument: /);
    });

    it("reads byte ranges with offset and length", async () => {
      const mid = await callOk(fx.client, getObjectBytes, { key: "get/digits.txt", offset: 2, length: 3 });
      expect(mid).toMatchObject({ data: "234", size: 10, range: { offset: 2, length: 3 } });
      const tail = await callOk(fx.client, getObjectBytes, { key: "get/digits.txt", offset: 7 });
      expect(tail).toMatchObject({ data: "789", range: { offset: 7, length: 3 } });
      const head = await callOk(fx.client, getObjectBytes, { key: "get/digits.txt", length: 4 });
      expect(head).toMatchObject({ data: "0123", range: { offset: 0, length: 4 } });
      for (const args of [{ offset: -1 }, { length: 0 }]) {
        const err = await callError(fx.client, "get_object_bytes", { key: "get/digits.txt", ...args });
        expect(err.text, JSON.stringify(args)).toMatch(/^invalid_argument: /);
      }
    });

    it("refuses an object over max_bytes without a range, naming download_file; a range within it works", async () => {
      const small = await callError(fx.client, "get_object_bytes", { key: "get/digits.txt", max_bytes: 4 });
      expect(small.text).toMatch(/^too_large: /);
      expect(small.text).toContain("download_file");

      // The default cap is 64 KiB.
      const big = "x".repeat(64 * 1024 + 1);
      await callOk(fx.client, uploadBytes, { key: "get/big.txt", data: big });
      const over = await callError(fx.client, "get_object_bytes", { key: "get/big.txt" });
      expect(over.text).toMatch(/^too_large: /);
      expect(over.text).toContain("download_file");
      const range = await callOk(fx.client, getObjectBytes, { key: "get/big.txt", offset: 1000, length: 10 });
      expect(range).toMatchObject({ data: "x".repeat(10), size: big.length });
      const raised = await callOk(fx.client, getObjectBytes, { key: "get/big.txt", max_bytes: 128 * 1024 });
      expect(raised.data).toBe(big);
    });

    it("refuses max_bytes of 0 or above 4 MiB", async () => {
      for (const max_bytes of [0, 4 * MIB + 1]) {
        const err = await callError(fx.client, "get_object_bytes", { key: "get/digits.txt", max_bytes });
        expect(err.text, `max_bytes ${max_bytes}`).toMatch(/^invalid_argument: /);
      }
      const atCap = await callOk(fx.client, getObjectBytes, { key: "get/digits.txt", max_bytes: 4 * MIB });
      expect(atCap.data).toBe("0123456789");
    });

    it("answers not_found for a missing key", async () => {
      const err = await callError(fx.client, "get_object_bytes", { key: "get/missing.txt" });
      expect(err.text).toMatch(/^not_found: /);
      expect(err.text).toContain("get/missing.txt");
    });

    it("also returns a small PNG as MCP image content", async () => {
      const result = await call(fx.client, "get_object_bytes", { key: "get/pixel.png" });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ encoding: "base64", data: PNG_1X1.toString("base64"), content_type: "image/png" });
      expect(result.content[0]?.type).toBe("text");
      expect(result.content).toContainEqual({ type: "image", mimeType: "image/png", data: PNG_1X1.toString("base64") });
      // Text is not an image.
      const text = await call(fx.client, "get_object_bytes", { key: "get/text.txt" });
      expect(text.content.map((c) => c.type)).toEqual(["text"]);
    });
  });

  describe("delete_object", () => {
    it("deletes, reports whether the key existed, and honours missing_ok", async () => {
      await callOk(fx.client, uploadBytes, { key: "del/x.txt", data: "x" });
      expect(await callOk(fx.client, deleteObject, { key: "del/x.txt" })).toEqual({ key: "del/x.txt", existed: true });
      expect((await callOk(fx.client, headObject, { key: "del/x.txt" })).exists).toBe(false);
      expect(await callOk(fx.client, deleteObject, { key: "del/x.txt" })).toEqual({ key: "del/x.txt", existed: false });
      const err = await callError(fx.client, "delete_object", { key: "del/x.txt", missing_ok: false });
      expect(err.text).toMatch(/^not_found: /);
      expect(err.text).toContain("del/x.txt");
    });
  });
});
