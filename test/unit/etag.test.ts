/** The ETag arithmetic downloads and comparisons rely on: part counts, likely part sizes, composing. */
import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { candidatePartSizes, multipartEtagOf, multipartParts } from "../../src/core/etag.js";
import { MIB } from "../helpers/bytes.js";

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest();

describe("multipart ETags", () => {
  it("reads the part count of a multipart ETag and nothing from other ETags", () => {
    expect(multipartParts("0123456789abcdef0123456789abcdef-128")).toBe(128);
    expect(multipartParts("0123456789abcdef0123456789abcdef")).toBeUndefined();
    expect(multipartParts("W/not-an-md5-3")).toBeUndefined();
  });

  it("composes the MD5 of the parts' MD5s with the part count, as S3 and R2 do", () => {
    const parts = [randomBytes(1000), randomBytes(1000), randomBytes(10)];
    const expected = `${createHash("md5")
      .update(Buffer.concat(parts.map(md5)))
      .digest("hex")}-3`;
    expect(multipartEtagOf(parts.map(md5))).toBe(expected);
  });

  it("offers only part sizes that cut the object into exactly that many parts, r2-mcp's own first", () => {
    expect(candidatePartSizes(1024 * MIB, 128)).toEqual([8 * MIB]);
    expect(candidatePartSizes(11 * MIB + 5, 3)).toEqual([5 * MIB]);
    expect(candidatePartSizes(150 * MIB, 10)).toEqual([15 * MIB, 16 * MIB]);
    expect(candidatePartSizes(18 * MIB + 7, 4)).toEqual([5 * MIB]);
    expect(candidatePartSizes(18 * MIB + 7, 5)).toEqual([]);
  });
});
