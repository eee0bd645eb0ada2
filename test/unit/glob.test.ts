/** The glob syntax shared by every tool that takes a glob. */
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/core/errors.js";
import { compileGlob } from "../../src/core/glob.js";

const cases: [pattern: string, key: string, matches: boolean][] = [
  ["*.ckpt", "model.ckpt", true],
  ["*.ckpt", "runs/model.ckpt", false],
  ["**/*.ckpt", "runs/exp42/model.ckpt", true],
  ["**/*.ckpt", "model.ckpt", true],
  ["runs/**", "runs/a/b/c.txt", true],
  ["runs/**/c.txt", "runs/c.txt", true],
  ["runs/*/c.txt", "runs/a/b/c.txt", false],
  ["exp4?/*", "exp42/a", true],
  ["exp4?/*", "exp4/a", false],
  ["a?c", "a/c", false],
  ["exp{42,43}/**", "exp43/metrics.csv", true],
  ["exp{42,43}/**", "exp44/metrics.csv", false],
  ["**/*.{png,jpg}", "img/a.jpg", true],
  ["data/.*", "data/.hidden", true],
  ["[ab].txt", "[ab].txt", true],
  ["[ab].txt", "a.txt", false],
  ["!a", "!a", true],
  ["!a", "b", false],
  ["a\\*b", "a*b", true],
  ["a\\*b", "axb", false],
  ["runs/metrics.csv", "runs/metrics.csv", true],
  ["runs/metrics.csv", "runs/metrics.csv.bak", false],
  ["runs/**", "runs", true],
  ["**", "a/b/c", true],
  ["a/**/b/**/c", "a/b/c", true],
  ["a/**/b/**/c", "a/x/b/y/z/c", true],
  ["a/**/b/**/c", "a/x/y/z/c", false],
  ["a**b", "axxb", true],
  ["a**b", "ax/xb", false],
  ["{a,b{1,2}}/*", "b2/x", true],
  ["{a,b{1,2}}/*", "b3/x", false],
  ["x\\\\{a,b}", "x\\a", true],
  ["\\{a,b\\}", "{a,b}", true],
  ["*é*", "cafés", true],
  ["??", "😀é", true],
];

describe("compileGlob", () => {
  it.each(cases)("%s against %s → %s", (pattern, key, matches) => {
    expect(compileGlob(pattern)(key)).toBe(matches);
  });

  it.each(["", "{a,b", "a}", "\\{a,b}", "x".repeat(1025), "a\0b"])("refuses %j with invalid_argument naming the argument", (pattern) => {
    const attempt = () => compileGlob(pattern, "include");
    expect(attempt).toThrow(StorageError);
    expect(attempt).toThrow(/^include /);
  });

  it("refuses more than 256 alternatives once expanded", () => {
    expect(() => compileGlob("{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}", "glob")).toThrow(/more than 256 alternatives/);
    expect(compileGlob("{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}")("abababab")).toBe(true);
  });

  // A regular expression built from these backtracks exponentially (seconds at 60 characters);
  // here the longest key and pattern answer at once, or the test times out.
  it("hostile patterns against 1024-byte keys answer without exponential backtracking", () => {
    const stars = compileGlob(`${"*a".repeat(300)}*b`);
    expect(stars("a".repeat(1024))).toBe(false);
    const globstars = compileGlob(`${"**/a/".repeat(100)}b`);
    expect(globstars(`${"a/".repeat(511)}c`)).toBe(false);
    const both = compileGlob(`**/${"*?".repeat(200)}x`);
    expect(both(`${"y".repeat(500)}/${"y".repeat(500)}`)).toBe(false);
  });
});
