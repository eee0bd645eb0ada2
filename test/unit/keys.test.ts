/** Key validation and key → local path mapping: keys from a bucket are untrusted input. */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/core/errors.js";
import {
  directoryPrefix,
  joinKey,
  keyToLocalPath,
  localRelativeToKeyPart,
  MAX_KEY_BYTES,
  unsafePathReason,
  validateKey,
} from "../../src/core/keys.js";

function invalidReason(key: string): StorageError {
  try {
    validateKey(key);
  } catch (err) {
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).kind).toBe("invalid_argument");
    return err as StorageError;
  }
  return expect.fail(`validateKey accepted ${JSON.stringify(key)}`);
}

describe("validateKey", () => {
  it("accepts any 1..1024 bytes of UTF-8 without NUL, including odd characters", () => {
    for (const key of ["a", "runs/a.csv", "a//b", "../x", "/abs", "a\\b", "trailing/", " ", "😀", "%20+=&?#"]) {
      expect(validateKey(key)).toBe(key);
    }
    expect(MAX_KEY_BYTES).toBe(1024);
    expect(validateKey("k".repeat(1024))).toHaveLength(1024);
    expect(validateKey("é".repeat(512))).toHaveLength(512); // 1024 bytes
  });

  it("refuses the empty key, NUL, lone surrogates and keys over 1024 bytes of UTF-8", () => {
    expect(invalidReason("").message).toMatch(/non-empty/);
    expect(invalidReason("a\0b").message).toMatch(/NUL/);
    expect(invalidReason("a\uD800b").message).toMatch(/UTF-8/);
    expect(invalidReason("k".repeat(1025)).message).toMatch(/1025 bytes/);
    expect(invalidReason("é".repeat(513)).message).toMatch(/1026 bytes/); // 513 characters
    expect(invalidReason("😀".repeat(257)).message).toMatch(/1028 bytes/);
  });

  it("names the argument it checked", () => {
    try {
      validateKey("", "prefix");
      expect.fail("accepted an empty key");
    } catch (err) {
      expect((err as Error).message).toMatch(/^prefix /);
    }
  });
});

describe("unsafePathReason", () => {
  it.each([
    ["", /empty/],
    ["..", /"\.\."/],
    [".", /"\."/],
    ["a/../b", /"\.\."/],
    ["a/./b", /"\."/],
    ["a//b", /empty path segment/],
    ["a/", /empty path segment/],
    ["/a", /starts with \//],
    ["a\\b", /backslash/],
    ["..\\x", /backslash/],
    ["C:x", /drive letter/],
    ["c:/x", /drive letter/],
    ["a\0b", /NUL/],
  ])("%j is unsafe (%s)", (relative, reason) => {
    expect(unsafePathReason(relative)).toMatch(reason);
  });

  it.each([["a"], ["a/b/c.txt"], ["..foo"], ["a..b/c"], [".hidden"], ["a b/ü 😀.txt"], ["~"], ["ab:c"]])(
    "%j is a safe relative path",
    (relative) => {
      expect(unsafePathReason(relative)).toBeUndefined();
    },
  );
});

describe("keyToLocalPath", () => {
  const dir = path.resolve("/srv/downloads/target");

  it("maps keys under the prefix to paths strictly inside the directory", () => {
    for (const prefix of ["p", "p/"]) {
      expect(keyToLocalPath("p/a/b.txt", prefix, dir)).toEqual({
        ok: true,
        path: path.join(dir, "a", "b.txt"),
        relative: "a/b.txt",
      });
    }
    expect(keyToLocalPath("x/y", "", dir)).toEqual({ ok: true, path: path.join(dir, "x", "y"), relative: "x/y" });
    expect(keyToLocalPath("p/..foo", "p", dir)).toMatchObject({ ok: true, path: path.join(dir, "..foo") });
    expect(keyToLocalPath("p/~", "p", dir)).toMatchObject({ ok: true, path: path.join(dir, "~") });
  });

  const hostile: [string, string][] = [
    ["p/../../etc/x", "p"],
    ["p/..", "p"],
    ["p/.", "p"],
    ["p/./x", "p"],
    ["p/x/../../y", "p"],
    ["p//x", "p"],
    ["p/", "p"],
    ["p/x/", "p"],
    ["/abs", ""],
    ["//abs", ""],
    ["p/a\\b", "p"],
    ["p/..\\..\\x", "p"],
    ["p/C:x", "p"],
    ["p/C:\\Windows\\x", "p"],
    ["p/\0x", "p"],
    ["q/x", "p"],
    ["px/y", "p"],
    ["../x", ""],
    ["..", ""],
  ];

  it.each(hostile)("refuses %j under prefix %j", (key, prefix) => {
    const mapped = keyToLocalPath(key, prefix, dir);
    expect(mapped.ok).toBe(false);
    if (!mapped.ok) expect(mapped.reason.length).toBeGreaterThan(0);
  });

  it("never returns a path outside the directory, whatever the key", () => {
    const pieces = ["..", ".", "", "a", "\\", "C:", "/", "\0", "..\\", "b c", "😀"];
    let accepted = 0;
    for (const a of pieces) {
      for (const b of pieces) {
        for (const c of pieces) {
          const key = `p/${a}/${b}${c}`;
          const mapped = keyToLocalPath(key, "p", dir);
          if (mapped.ok) {
            accepted++;
            expect(mapped.path.startsWith(dir + path.sep)).toBe(true);
            expect(path.relative(dir, mapped.path).split(path.sep)).not.toContain("..");
          }
        }
      }
    }
    expect(accepted).toBeGreaterThan(0);
  });
});

describe("prefix helpers", () => {
  it("directoryPrefix and joinKey add exactly one slash", () => {
    expect(directoryPrefix("")).toBe("");
    expect(directoryPrefix("a")).toBe("a/");
    expect(directoryPrefix("a/")).toBe("a/");
    expect(joinKey("", "x/y")).toBe("x/y");
    expect(joinKey("runs", "x")).toBe("runs/x");
    expect(joinKey("runs/", "x")).toBe("runs/x");
  });

  it("localRelativeToKeyPart turns native separators into /", () => {
    expect(localRelativeToKeyPart(["a", "b", "c.txt"].join(path.sep))).toBe("a/b/c.txt");
  });
});
