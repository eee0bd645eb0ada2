/**
 * Local path confinement. confinementRefusal is pure (real paths in, a reason code out), so its
 * cases are a table of plain strings; the resolving functions around it are checked against real
 * symlinks in a temp directory. The end-to-end refusals (each tool, each backend) are the attack
 * matrix in test/security/.
 */
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StorageError } from "../../src/core/errors.js";
import {
  assertInsideRoots,
  type ConfinementReason,
  confinementRefusal,
  type Roots,
  realLocation,
  realRoots,
  resolveLocalPath,
  resolveWriteTarget,
  rootsExcluding,
} from "../../src/core/fs/roots.js";
import { rejectionOf } from "../helpers/assert.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

const store = rootsExcluding(["/data"], ["/data/store"]);

describe.runIf(path.sep === "/")("confinementRefusal (pure decision)", () => {
  const cases: [string, string, Roots, ConfinementReason | undefined][] = [
    ["a file inside a root", "/data/project/a.txt", ["/data/project"], undefined],
    ["the root itself", "/data/project", ["/data/project"], undefined],
    ["a root given with a trailing slash", "/data/project/a.txt", ["/data/project/"], undefined],
    ["a path outside the root", "/etc/passwd", ["/data/project"], "outside_roots"],
    ["the parent of the root", "/data", ["/data/project"], "outside_roots"],
    ["a sibling sharing the root's name as a prefix", "/a/bc", ["/a/b"], "outside_roots"],
    ["a file below such a sibling", "/a/bc/x.txt", ["/a/b"], "outside_roots"],
    ["inside the second of several roots", "/srv/two/x.txt", ["/srv/one", "/srv/two"], undefined],
    ["inside the first of several roots", "/srv/one/x.txt", ["/srv/one", "/srv/two"], undefined],
    ["outside every one of several roots", "/srv/three/x.txt", ["/srv/one", "/srv/two"], "outside_roots"],
    ["anything under root /", "/home/user/x.txt", ["/"], undefined],
    ["/proc under root /", "/proc", ["/"], "pseudo_filesystem"],
    ["/proc/self/environ under root /", "/proc/self/environ", ["/"], "pseudo_filesystem"],
    ["/sys/kernel under root /", "/sys/kernel", ["/"], "pseudo_filesystem"],
    ["a name that merely starts with /proc", "/procfs/x", ["/"], undefined],
    ["/proc under a root that is /proc itself", "/proc/self/environ", ["/proc"], "pseudo_filesystem"],
    ["/proc outside the roots (outside wins)", "/proc/self/environ", ["/data"], "outside_roots"],
    ["a file inside the store directory", "/data/store/obj.bin", store, "store_directory"],
    ["the store directory itself", "/data/store", store, "store_directory"],
    ["a directory that contains the store directory", "/data", store, "contains_store_directory"],
    ["a sibling sharing the store's name as a prefix", "/data/storefront/x", store, undefined],
    ["another folder beside the store", "/data/other/x", store, undefined],
    ["the store directory outside the roots (outside wins)", "/b/store/x", rootsExcluding(["/a"], ["/b/store"]), "outside_roots"],
    ["a root inside the store directory", "/data/store/sub/x", rootsExcluding(["/data/store/sub"], ["/data/store"]), "store_directory"],
    ["no roots at all: any path", "/data/x.txt", [], "outside_roots"],
    ["no roots at all: /", "/", [], "outside_roots"],
  ];

  it.each(cases)("%s: %s", (_, real, roots, reason) => {
    expect(confinementRefusal(real, roots)?.reason).toBe(reason);
  });

  it("says why in words that complete the outside_roots message", () => {
    expect(confinementRefusal("/etc/passwd", ["/data"])?.message).toBe("outside the allowed roots");
    expect(confinementRefusal("/proc/1/environ", ["/"])?.message).toBe(
      "on a kernel pseudo-filesystem (/proc, /sys), which holds no data files",
    );
    expect(confinementRefusal("/data/store/x", store)?.message).toBe(
      `inside the local store's directory "/data/store" (its files are objects: use the object tools)`,
    );
    expect(confinementRefusal("/data", store)?.message).toBe(`a directory that contains the local store's directory "/data/store"`);
  });

  it("assertInsideRoots throws outside_roots naming the path as given, its real location and the roots", () => {
    const err = (() => {
      try {
        assertInsideRoots("/etc/passwd", ["/data", "/srv"], "local_path", "../../etc/passwd");
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(StorageError);
    expect((err as StorageError).kind).toBe("outside_roots");
    expect((err as StorageError).path).toBe("../../etc/passwd");
    expect((err as StorageError).message).toBe(
      `local_path "../../etc/passwd" resolves to "/etc/passwd", outside the allowed roots; the allowed roots are "/data", "/srv". Use a path inside them or start the server with --root`,
    );
    expect(() => assertInsideRoots("/x", [], "local_path")).toThrow(/no local directory is allowed.*--root DIR/);
    expect(() => assertInsideRoots("/data/a", ["/data"], "local_path")).not.toThrow();
  });
});

describe.runIf(path.sep === "/")("resolving local paths through real symlinks", () => {
  let tmp: TempDir;
  let root: string;
  let outside: string;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-roots-unit-");
    root = path.join(tmp.path, "root");
    outside = path.join(tmp.path, "outside");
    await mkdir(path.join(root, "real"), { recursive: true });
    await mkdir(outside);
    await writeFile(path.join(outside, "target.txt"), "outside");
    await symlink("../outside", path.join(root, "to-outside"));
    await symlink("real", path.join(root, "to-real"));
    await symlink("../outside/target.txt", path.join(root, "file-link"));
    await symlink("../outside/missing/deeper", path.join(root, "dangling"));
    await symlink("dangling", path.join(root, "dangling-chain"));
    await symlink("loop-b", path.join(root, "loop-a"));
    await symlink("loop-a", path.join(root, "loop-b"));
  });

  afterAll(async () => {
    await tmp?.cleanup();
  });

  const kind = async (promise: Promise<unknown>) => (await rejectionOf(promise)).kind;

  it("realLocation follows symlinks, and keeps the missing rest of the path", async () => {
    expect(await realLocation(path.join(root, "to-real", "new", "file.txt"))).toBe(path.join(root, "real", "new", "file.txt"));
    expect(await realLocation(path.join(root, "to-outside", "target.txt"))).toBe(path.join(outside, "target.txt"));
  });

  it("realLocation follows a dangling symlink (and a chain of them) to where a write would land", async () => {
    const landing = path.join(outside, "missing", "deeper", "x.txt");
    expect(await realLocation(path.join(root, "dangling", "x.txt"))).toBe(landing);
    expect(await realLocation(path.join(root, "dangling-chain", "x.txt"))).toBe(landing);
  });

  it("realLocation refuses a symlink loop as invalid_argument", async () => {
    expect(await kind(realLocation(path.join(root, "loop-a")))).toBe("invalid_argument");
    expect(await kind(realLocation(path.join(root, "loop-a", "x.txt")))).toBe("invalid_argument");
  });

  it("resolveLocalPath refuses a path whose symlinks lead out of the roots, and accepts one that stays inside", async () => {
    expect(await kind(resolveLocalPath(path.join(root, "file-link"), [root], "local_path"))).toBe("outside_roots");
    expect(await kind(resolveLocalPath(path.join(root, "dangling", "x"), [root], "local_path"))).toBe("outside_roots");
    expect(await resolveLocalPath(path.join(root, "to-real"), [root], "local_path")).toBe(path.join(root, "real"));
    // No roots given (the library from a script): resolved, never refused.
    expect(await resolveLocalPath(path.join(root, "file-link"), undefined, "local_path")).toBe(path.join(outside, "target.txt"));
  });

  it("resolveLocalPath refuses an empty path and a NUL before touching the filesystem", async () => {
    expect(await kind(resolveLocalPath("", [root], "local_path"))).toBe("invalid_argument");
    expect(await kind(resolveLocalPath(`${root}/a\0b`, [root], "local_path"))).toBe("invalid_argument");
  });

  it("resolveWriteTarget resolves the parent but not the name: a symlink at the target is the target", async () => {
    // The link itself is what gets refused or replaced, never its target outside the roots.
    expect(await resolveWriteTarget(path.join(root, "file-link"), [root], "local_path")).toBe(path.join(root, "file-link"));
    expect(await resolveWriteTarget(path.join(root, "to-real", "new.txt"), [root], "local_path")).toBe(path.join(root, "real", "new.txt"));
  });

  it("resolveWriteTarget refuses a parent that leads out of the roots, and a path with no file name", async () => {
    expect(await kind(resolveWriteTarget(path.join(root, "to-outside", "new.txt"), [root], "local_path"))).toBe("outside_roots");
    expect(await kind(resolveWriteTarget(path.join(root, "dangling", "new.txt"), [root], "local_path"))).toBe("outside_roots");
    expect(await kind(resolveWriteTarget("/", ["/"], "local_path"))).toBe("invalid_argument");
  });

  it("resolveWriteTarget refuses a path in the local store's directory", async () => {
    const roots = rootsExcluding([tmp.path], [root]);
    expect(await kind(resolveWriteTarget(path.join(root, "real", "x.txt"), roots, "local_path"))).toBe("outside_roots");
    expect(await resolveWriteTarget(path.join(outside, "x.txt"), roots, "local_path")).toBe(path.join(outside, "x.txt"));
  });

  it("realRoots resolves symlinked roots and keeps a missing root as given", async () => {
    expect(await realRoots([path.join(root, "to-real"), path.join(tmp.path, "not-yet")])).toEqual([
      path.join(root, "real"),
      path.join(tmp.path, "not-yet"),
    ]);
  });
});
