/** Filters of listed objects: times as ISO 8601, bounds checked against each other, the predicate. */
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/core/errors.js";
import { compileFilter, filterFingerprint, parseTime } from "../../src/core/object-filter.js";

describe("parseTime", () => {
  it.each([
    ["2026-06-01", "2026-06-01T00:00:00.000Z"],
    ["2026-06-01T12:30", "2026-06-01T12:30:00.000Z"],
    ["2026-06-01T12:30:15Z", "2026-06-01T12:30:15.000Z"],
    ["2026-06-01T12:30:15.250Z", "2026-06-01T12:30:15.250Z"],
    ["2026-06-01T12:30:15.123456789Z", "2026-06-01T12:30:15.123Z"],
    ["2026-06-01T12:30:15+02:00", "2026-06-01T10:30:15.000Z"],
    ["2026-06-01T00:30:00-0130", "2026-06-01T02:00:00.000Z"],
    ["2024-02-29", "2024-02-29T00:00:00.000Z"],
  ])("reads %s as %s (UTC unless a zone is given)", (text, iso) => {
    expect(parseTime(text, "modified_after").toISOString()).toBe(iso);
  });

  it.each([
    "",
    "yesterday",
    "2026-6-1",
    "2026-02-30",
    "2025-02-29",
    "2026-13-01",
    "2026-06-01T24:00:00Z",
    "2026-06-01T12:60",
    "2026-06-01T12:00+25:00",
    "1717200000",
  ])("refuses %j with invalid_argument naming the argument", (text) => {
    const attempt = () => parseTime(text, "modified_before");
    expect(attempt).toThrow(StorageError);
    expect(attempt).toThrow(/^modified_before "/);
  });
});

describe("compileFilter", () => {
  const at = (iso: string) => new Date(iso);
  const object = { key: "exp/a/model.ckpt", size: 100, lastModified: at("2026-06-01T12:00:00Z") };

  it("keeps an object only when every part matches; sizes inclusive, after inclusive, before exclusive", () => {
    expect(compileFilter({})(object)).toBe(true);
    expect(compileFilter({ glob: "exp/**/*.ckpt", minSize: 100, maxSize: 100 })(object)).toBe(true);
    expect(compileFilter({ minSize: 101 })(object)).toBe(false);
    expect(compileFilter({ maxSize: 99 })(object)).toBe(false);
    expect(compileFilter({ modifiedAfter: object.lastModified })(object)).toBe(true);
    expect(compileFilter({ modifiedBefore: object.lastModified })(object)).toBe(false);
    expect(compileFilter({ modifiedBefore: at("2026-06-01T12:00:00.001Z") })(object)).toBe(true);
    expect(compileFilter({ glob: "exp/*.ckpt" })(object)).toBe(false);
  });

  it("refuses bounds that no object could meet, naming the arguments", () => {
    expect(() => compileFilter({ minSize: 2, maxSize: 1 })).toThrow(/min_size \(2\) is larger than max_size \(1\)/);
    expect(() => compileFilter({ modifiedAfter: at("2026-01-02"), modifiedBefore: at("2026-01-01") })).toThrow(
      /modified_after .* is not before modified_before/,
    );
    expect(() => compileFilter({ minSize: Number.NaN })).toThrow(/min_size/);
  });

  it("fingerprints tell filters apart and stay stable", () => {
    expect(filterFingerprint({ glob: "a" })).toBe(filterFingerprint({ glob: "a" }));
    expect(filterFingerprint({ glob: "a" })).not.toBe(filterFingerprint({ glob: "b" }));
    expect(filterFingerprint({ minSize: 1 })).not.toBe(filterFingerprint({ maxSize: 1 }));
    expect(filterFingerprint({})).not.toBe(filterFingerprint({ modifiedAfter: at("2026-01-01") }));
  });
});
