import { existsSync } from "node:fs";
import { open, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setFileTimes } from "../../src/core/fs/times.js";
import type { ObjectInfo } from "../../src/core/store.js";
import { downloadedTime, formatMtime, parseMtime } from "../../src/core/transfer/times.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

describe("mtime metadata (rclone's form)", () => {
  it("formats nanoseconds as seconds with nine decimals", () => {
    expect(formatMtime(1_700_000_000_123_456_789n)).toBe("1700000000.123456789");
    expect(formatMtime(1_700_000_000_000_000_000n)).toBe("1700000000.000000000");
    expect(formatMtime(5n)).toBe("0.000000005");
    expect(formatMtime(-1n)).toBeUndefined();
  });

  it("parses what rclone and others write, and nothing else", () => {
    expect(parseMtime("1700000000.123456789")).toBe(1_700_000_000_123_456_789n);
    expect(parseMtime("1700000000")).toBe(1_700_000_000_000_000_000n);
    expect(parseMtime("1700000000.5")).toBe(1_700_000_000_500_000_000n);
    // Digits past the nanosecond are dropped, not rounded.
    expect(parseMtime("1700000000.1234567899")).toBe(1_700_000_000_123_456_789n);
    expect(parseMtime(" 1700000000.25 ")).toBe(1_700_000_000_250_000_000n);
    for (const bad of ["", "yesterday", "-1", "1.7e9", "1700000000.", ".5", "0x10", "1 2", "9999999999999"]) {
      expect(parseMtime(bad), bad).toBeUndefined();
    }
    expect(parseMtime(undefined)).toBeUndefined();
  });
});

describe("downloadedTime", () => {
  const info = (lastModified: string, etag = "e", metadata?: Record<string, string>): ObjectInfo => ({
    key: "k",
    size: 1,
    etag,
    lastModified: new Date(lastModified),
    ...(metadata ? { metadata } : {}),
  });

  it("takes the mtime metadata first", () => {
    expect(downloadedTime(info("2026-01-01T00:00:00Z", "e", { mtime: "1600000000.5" }))).toBe(1_600_000_000_500_000_000n);
  });

  it("takes a listing's millisecond of the same version within the same second, else Last-Modified", () => {
    const head = info("2026-01-01T00:00:07Z");
    expect(downloadedTime(head)).toBe(BigInt(Date.parse("2026-01-01T00:00:07Z")) * 1_000_000n);
    expect(downloadedTime(head, info("2026-01-01T00:00:07.974Z"))).toBe(BigInt(Date.parse("2026-01-01T00:00:07.974Z")) * 1_000_000n);
    // Another version, or another second: the listing is not this object's time.
    expect(downloadedTime(head, info("2026-01-01T00:00:07.974Z", "other"))).toBe(BigInt(Date.parse("2026-01-01T00:00:07Z")) * 1_000_000n);
    expect(downloadedTime(head, info("2026-01-01T00:00:08.100Z"))).toBe(BigInt(Date.parse("2026-01-01T00:00:07Z")) * 1_000_000n);
    // A garbled mtime is no time.
    expect(downloadedTime(info("2026-01-01T00:00:07Z", "e", { mtime: "soon" }))).toBe(
      BigInt(Date.parse("2026-01-01T00:00:07Z")) * 1_000_000n,
    );
  });

  it("tells no time for an object without one", () => {
    expect(downloadedTime(info("1970-01-01T00:00:00Z"))).toBeUndefined();
  });
});

describe("setFileTimes", () => {
  let tmp: TempDir;
  beforeAll(async () => {
    tmp = await makeTempDir();
  });
  afterAll(async () => {
    await tmp.cleanup();
  });

  const times = [1_700_000_000_123_456_789n, 1_764_990_438_974_000_000n, 1_500_000_000_000_000_000n, 1_600_000_000_999_999_999n];

  it("sets both times through the descriptor within a microsecond", async () => {
    const file = path.join(tmp.path, "near");
    await writeFile(file, "x");
    const handle = await open(file, "r");
    try {
      for (const ns of times) {
        const got = await setFileTimes(handle, ns, file);
        const s = await stat(file, { bigint: true });
        expect(s.mtimeNs).toBe(got);
        expect(s.atimeNs).toBe(got);
        expect(got - ns < 1000n && ns - got < 1000n, `${ns} set as ${got}`).toBe(true);
      }
      // Whole milliseconds (a listing's Last-Modified): exact where libuv keeps whole microseconds (Node 20), else within 0.25 µs.
      const ms = 1_764_990_438_974_000_000n;
      const got = await setFileTimes(handle, ms, file);
      expect(got - ms < 250n && ms - got < 250n).toBe(true);
    } finally {
      await handle.close();
    }
  });

  it.skipIf(!existsSync("/usr/bin/touch") && !existsSync("/bin/touch"))(
    "sets the exact nanosecond when asked, with GNU touch on the descriptor",
    async () => {
      const file = path.join(tmp.path, "exact");
      await writeFile(file, "x");
      const handle = await open(file, "r+");
      try {
        for (const ns of times) {
          expect(await setFileTimes(handle, ns, file, { exact: true })).toBe(ns);
          const s = await stat(file, { bigint: true });
          expect({ atime: s.atimeNs, mtime: s.mtimeNs }).toEqual({ atime: ns, mtime: ns });
        }
      } finally {
        await handle.close();
      }
    },
  );
});
