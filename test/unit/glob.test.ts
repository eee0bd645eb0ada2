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
];

describe("compileGlob", () => {
  it.each(cases)("%s against %s → %s", (pattern, key, matches) => {
    expect(compileGlob(pattern)(key)).toBe(matches);
  });

  it.each(["", "{a,b", "a}", "x".repeat(1025), "a\0b"])("refuses %j with invalid_argument naming the argument", (pattern) => {
    const attempt = () => compileGlob(pattern, "include");
    expect(attempt).toThrow(StorageError);
    expect(attempt).toThrow(/^include /);
  });
});
