/** Temporary directories, planted trees and byte-exact tree snapshots for filesystem assertions. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { chmod, lstat, mkdir, mkdtemp, readdir, readlink, realpath, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { OpenFile } from "../../src/core/fs/descriptor.js";
import type { PutBody } from "../../src/core/store.js";

export interface TempDir {
  /** Real (symlink-free) absolute path, so it compares equal to paths the code under test resolves. */
  path: string;
  /** Removes the tree; also works if a test left read-only directories behind. */
  cleanup(): Promise<void>;
}

export async function makeTempDir(prefix = "r2mcp-test-"): Promise<TempDir> {
  // realpath both ways: os.tmpdir() may itself be a symlink (macOS /var -> /private/var).
  const dir = await realpath(await mkdtemp(path.join(await realpath(os.tmpdir()), prefix)));
  return {
    path: dir,
    async cleanup() {
      try {
        await rm(dir, { recursive: true, force: true });
      } catch {
        await makeDirsWritable(dir); // a permission test may have chmod'ed a directory to 0o500
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

async function makeDirsWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700).catch(() => {});
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const e of entries) if (e.isDirectory()) await makeDirsWritable(path.join(dir, e.name));
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash); // streamed: snapshots of large files stay cheap
  return hash.digest("hex");
}

/**
 * Maps each path under `dir` (relative, "/"-separated, root excluded) to:
 * sha256 hex of the bytes for files, "dir" for directories, "symlink:<target>" for symlinks
 * (never followed), "other" for sockets/FIFOs/devices. Equal snapshots = byte-for-byte same tree.
 */
export async function snapshotTree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(abs: string, rel: string): Promise<void> {
    const names = (await readdir(abs)).sort();
    for (const name of names) {
      const childAbs = path.join(abs, name);
      const childRel = rel ? `${rel}/${name}` : name;
      const st = await lstat(childAbs);
      if (st.isSymbolicLink()) out[childRel] = `symlink:${await readlink(childAbs)}`;
      else if (st.isDirectory()) {
        out[childRel] = "dir";
        await walk(childAbs, childRel);
      } else if (st.isFile()) out[childRel] = await sha256File(childAbs);
      else out[childRel] = "other";
    }
  }
  await walk(dir, "");
  return out;
}

/** Writes files (relative "/"-separated paths) and symlinks (value `{ link: target }`) under dir, creating folders. */
export async function writeTree(dir: string, entries: Record<string, string | Buffer | { link: string }>): Promise<void> {
  for (const [relative, content] of Object.entries(entries)) {
    const target = path.join(dir, ...relative.split("/"));
    await mkdir(path.dirname(target), { recursive: true });
    if (typeof content === "object" && "link" in content) await symlink(content.link, target);
    else await writeFile(target, content);
  }
}

/** Every file under dir (recursive), relative and "/"-separated, sorted. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

/**
 * The temporary files a download leaves while it runs (or forgot to clean up) under dir. A missing
 * dir is an error unless missingOk (for downloads that may have been stopped before creating it).
 */
export async function partFiles(dir: string, { missingOk = false } = {}): Promise<string[]> {
  const names = await readdir(dir, { recursive: true }).catch((err: unknown) => {
    if (missingOk && (err as NodeJS.ErrnoException).code === "ENOENT") return [] as string[];
    throw err;
  });
  return names.map(String).filter((n) => n.endsWith(".r2-mcp-part"));
}

/** Runs `use` with `file` opened as a put body (by descriptor, as uploads open files), then closes it. */
export function withFileBody<T>(file: string, use: (body: PutBody) => Promise<T>): Promise<T> {
  return OpenFile.with(file, { roots: undefined, argument: "file", shown: file }, (opened) => use({ kind: "file", file: opened }));
}
