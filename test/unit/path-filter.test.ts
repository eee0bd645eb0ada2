/** include / exclude: the glob syntax applied to relative paths the way .gitignore users expect. */
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/core/errors.js";
import { compilePathFilter } from "../../src/core/path-filter.js";

const keeps = (options: { include?: string[]; exclude?: string[] }, relative: string) => compilePathFilter(options)!.keeps(relative);

describe("compilePathFilter", () => {
  it("is undefined with nothing to filter", () => {
    expect(compilePathFilter({})).toBeUndefined();
    expect(compilePathFilter({ include: [], exclude: [] })).toBeUndefined();
  });

  const SKIP = [".git/", "__pycache__/", "*.tmp", "data/raw", "runs/*/ckpt/"];
  it.each([
    ["train.py", true],
    [".git/config", false],
    ["vendor/lib/.git/HEAD", false],
    [".git", true], // a file named .git (a worktree's pointer) is not a folder
    ["pkg/__pycache__/m.cpython-312.pyc", false],
    ["b.tmp", false],
    ["deep/er/b.tmp", false],
    ["b.tmp.txt", true],
    ["data/raw", false],
    ["data/raw/2024/x.bin", false],
    ["data/rawer/x.bin", true],
    ["other/data/raw/x.bin", true],
    ["runs/1/ckpt/model.pt", false],
    ["runs/1/ckpt", true],
    ["runs/1/2/ckpt/model.pt", true],
  ] as const)("exclude %s → kept %s", (relative, kept) => {
    expect(keeps({ exclude: SKIP }, relative)).toBe(kept);
  });

  it.each([
    ["a/b.csv", true],
    ["b.csv", true],
    ["a/b.txt", false],
    ["results/x/b.txt", true],
    ["results", false],
    ["x/results/b.bin", true],
  ] as const)("include *.csv and results/: %s → kept %s", (relative, kept) => {
    expect(keeps({ include: ["*.csv", "results/"] }, relative)).toBe(kept);
  });

  it("lets exclude win over include", () => {
    expect(keeps({ include: ["*.csv"], exclude: ["tmp/"] }, "tmp/a.csv")).toBe(false);
    expect(keeps({ include: ["*.csv"], exclude: ["tmp/"] }, "keep/a.csv")).toBe(true);
  });

  it("skips a folder only when every path under it is excluded", () => {
    const filter = compilePathFilter({ exclude: [".git/", "?", "data/raw"], include: ["*.csv"] })!;
    expect(filter.skipsFolder(".git")).toBe(true);
    expect(filter.skipsFolder("a/.git")).toBe(true);
    expect(filter.skipsFolder("data/raw")).toBe(true);
    expect(filter.skipsFolder("data")).toBe(false);
    // "?" excludes any one-character name, folders included.
    expect(filter.skipsFolder("x")).toBe(true);
    expect(filter.skipsFolder("xy")).toBe(false);
  });

  it("refuses unusable patterns and too many of them with invalid_argument naming the entry", () => {
    expect(() => compilePathFilter({ exclude: ["ok", "{a,b"] })).toThrow(/^exclude\[1\] "\{a,b" has unbalanced/);
    expect(() => compilePathFilter({ include: [""] })).toThrow(/^include\[0\] must not be empty/);
    expect(() => compilePathFilter({ exclude: Array.from({ length: 101 }, () => "*.tmp") })).toThrow(
      /^exclude has 101 patterns; the limit is 100/,
    );
    try {
      compilePathFilter({ include: ["a\0"] });
    } catch (err) {
      expect(err).toBeInstanceOf(StorageError);
      expect((err as StorageError).kind).toBe("invalid_argument");
    }
  });
});
