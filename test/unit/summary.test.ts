/** The prefix summary, built from object infos alone. */
import { describe, expect, it } from "vitest";
import { extensionOf, SummaryBuilder } from "../../src/core/summary.js";

const at = (day: number) => new Date(Date.UTC(2026, 0, day));

describe("extensionOf", () => {
  it.each([
    ["runs/model.ckpt", "ckpt"],
    ["a/b/archive.TAR.GZ", "gz"],
    ["a/.env", ""],
    ["README", ""],
    ["dir.d/file", ""],
    ["x/trailing.", ""],
  ])("%s → %j", (key, ext) => {
    expect(extensionOf(key)).toBe(ext);
  });
});

describe("SummaryBuilder", () => {
  it("counts, totals, ranks the largest and newest, and groups by extension and child folder", () => {
    const b = new SummaryBuilder("exp42/");
    b.add({ key: "exp42/a/one.ckpt", size: 300, lastModified: at(3) });
    b.add({ key: "exp42/a/two.ckpt", size: 100, lastModified: at(5) });
    b.add({ key: "exp42/b/log.txt", size: 50, lastModified: at(1) });
    b.add({ key: "exp42/top.csv", size: 10, lastModified: at(4) });
    const s = b.result(false);
    expect(s).toMatchObject({ objects: 4, bytes: 460, truncated: false, scanned: 4, oldestModified: at(1), newestModified: at(5) });
    expect(s.largest.map((o) => o.key)).toEqual(["exp42/a/one.ckpt", "exp42/a/two.ckpt", "exp42/b/log.txt", "exp42/top.csv"]);
    expect(s.newest.map((o) => o.key)).toEqual(["exp42/a/two.ckpt", "exp42/top.csv", "exp42/a/one.ckpt", "exp42/b/log.txt"]);
    expect(s.byExtension).toEqual([
      { extension: "ckpt", objects: 2, bytes: 400 },
      { extension: "txt", objects: 1, bytes: 50 },
      { extension: "csv", objects: 1, bytes: 10 },
    ]);
    expect(s.byPrefix).toEqual([
      { prefix: "exp42/a/", objects: 2, bytes: 400 },
      { prefix: "exp42/b/", objects: 1, bytes: 50 },
    ]);
  });

  it("keeps only the top 10 largest and newest, and the 20 largest extensions", () => {
    const b = new SummaryBuilder("");
    for (let i = 0; i < 30; i++) b.add({ key: `f${i}.e${i}`, size: i, lastModified: at(i + 1) });
    const s = b.result(true);
    expect(s.largest.map((o) => o.size)).toEqual([29, 28, 27, 26, 25, 24, 23, 22, 21, 20]);
    expect(s.newest[0]?.key).toBe("f29.e29");
    expect(s.newest).toHaveLength(10);
    expect(s.byExtension).toHaveLength(20);
    expect(s.byExtension[0]).toEqual({ extension: "e29", objects: 1, bytes: 29 });
    expect(s.truncated).toBe(true);
  });

  it("an empty prefix has no times and no groups", () => {
    const s = new SummaryBuilder("none/").result(false);
    expect(s).toEqual({
      objects: 0,
      bytes: 0,
      largest: [],
      newest: [],
      oldestModified: undefined,
      newestModified: undefined,
      byExtension: [],
      byPrefix: [],
      truncated: false,
      scanned: 0,
    });
  });
});
