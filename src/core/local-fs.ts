/**
 * All local filesystem safety in one place: paths confined to roots (after resolving symlinks),
 * writes that never leave a partial file and never replace an existing one by accident, and a
 * directory walk that refuses symlinks leading out of the roots.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, constants as fsConstants } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { StorageError, cancelledError, fromFsError, q } from "./errors.js";
import { localRelativeToKeyPart } from "./keys.js";

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}

async function realpathOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await fs.realpath(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw fromFsError(err, p);
  }
}

/**
 * The real location of `p`: its realpath when it exists, else the realpath of its nearest
 * existing parent joined with the rest. A dangling symlink at `p` resolves to its parent + name.
 */
export async function realLocation(p: string): Promise<string> {
  let current = path.resolve(p);
  const rest: string[] = [];
  for (;;) {
    const real = await realpathOrUndefined(current);
    if (real !== undefined) return path.join(real, ...rest);
    const parent = path.dirname(current);
    if (parent === current) return path.join(current, ...rest);
    rest.unshift(path.basename(current));
    current = parent;
  }
}

/** Roots as real paths (a root that does not exist is kept as given, resolved). */
export async function realRoots(roots: readonly string[]): Promise<string[]> {
  return Promise.all(roots.map(async (r) => (await realpathOrUndefined(path.resolve(r))) ?? path.resolve(r)));
}

/**
 * Resolves a caller-supplied local path and checks it lies inside one of the roots after following
 * symlinks. `roots` undefined means unrestricted (the library used from a script).
 */
export async function resolveLocalPath(
  p: string,
  roots: readonly string[] | undefined,
  argument: string,
): Promise<string> {
  checkPathArgument(p, argument);
  const real = await realLocation(p);
  if (roots !== undefined) assertInsideRoots(real, roots, argument, p);
  return real;
}

/**
 * Like resolveLocalPath, for a file about to be written: its parent is resolved through symlinks,
 * its own name is not, so a symlink already at the target is refused or (with overwrite) replaced
 * itself, never written through.
 */
export async function resolveWriteTarget(
  p: string,
  roots: readonly string[] | undefined,
  argument: string,
): Promise<string> {
  checkPathArgument(p, argument);
  const absolute = path.resolve(p);
  const parent = path.dirname(absolute);
  if (parent === absolute) {
    throw new StorageError("invalid_argument", `${argument} ${q(p)} is a directory; give a file path`, { path: p });
  }
  const real = path.join(await realLocation(parent), path.basename(absolute));
  if (roots !== undefined) assertInsideRoots(real, roots, argument, p);
  return real;
}

function checkPathArgument(p: string, argument: string): void {
  if (typeof p !== "string" || p.length === 0) {
    throw new StorageError("invalid_argument", `${argument} must be a non-empty path`);
  }
  if (p.includes("\0")) throw new StorageError("invalid_argument", `${argument} must not contain a NUL character`);
}

export function assertInsideRoots(real: string, roots: readonly string[], argument: string, shown = real): void {
  if (!roots.some((root) => isInside(real, root))) {
    throw new StorageError(
      "outside_roots",
      `${argument} ${q(shown)} resolves to ${q(real)}, outside the allowed roots (${roots.map(q).join(", ")}); use a path inside them or start the server with --root`,
      { path: shown },
    );
  }
}

export async function md5File(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash("md5");
  const stream = createReadStream(file, signal ? { signal } : {});
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** A regular file to upload: its resolved location, its path relative to the walked directory. */
export interface LocalFile {
  path: string;
  relative: string;
  size: number;
}

export interface WalkResult {
  files: LocalFile[];
  /** Symlinks whose target lies outside the roots (each as the link's own path). */
  outside: string[];
}

/**
 * Every regular file under `dir`, following symlinks that stay inside the roots (each real
 * directory visited once, so link cycles end) and collecting those that leave them.
 */
export async function walkDirectory(dir: string, roots: readonly string[] | undefined): Promise<WalkResult> {
  const files: LocalFile[] = [];
  const outside: string[] = [];
  const visited = new Set<string>();

  async function visit(realDir: string, relative: string): Promise<void> {
    if (visited.has(realDir)) return;
    visited.add(realDir);
    let entries;
    try {
      entries = await fs.readdir(realDir, { withFileTypes: true });
    } catch (err) {
      throw fromFsError(err, realDir, "local directory");
    }
    for (const entry of entries) {
      const entryPath = path.join(realDir, entry.name);
      const entryRelative = relative ? `${relative}/${entry.name}` : entry.name;
      let real = entryPath;
      let stat;
      if (entry.isSymbolicLink()) {
        const target = await realpathOrUndefined(entryPath);
        if (target === undefined) continue; // dangling link: nothing to upload
        if (roots !== undefined && !roots.some((root) => isInside(target, root))) {
          outside.push(entryPath);
          continue;
        }
        real = target;
      }
      try {
        stat = await fs.stat(real);
      } catch (err) {
        throw fromFsError(err, entryPath);
      }
      if (stat.isDirectory()) await visit(real, entryRelative);
      else if (stat.isFile()) files.push({ path: real, relative: localRelativeToKeyPart(entryRelative), size: stat.size });
      // Sockets, FIFOs and devices are not data files; reading a FIFO would block forever.
    }
  }

  await visit(dir, "");
  files.sort((a, b) => (a.relative < b.relative ? -1 : a.relative > b.relative ? 1 : 0));
  return { files, outside };
}

/** Refuses to write to `target` when something is there and overwrite is off. */
export async function checkWritableTarget(target: string, overwrite: boolean, argument = "local path"): Promise<boolean> {
  let stat;
  try {
    stat = await fs.lstat(target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return false;
    throw fromFsError(err, target, argument);
  }
  if (stat.isDirectory()) {
    throw new StorageError("invalid_argument", `${argument} ${q(target)} is a directory; give a file path`, { path: target });
  }
  if (!overwrite) {
    throw new StorageError("already_exists", `${argument} ${q(target)} exists; pass overwrite: true to replace it`, {
      path: target,
    });
  }
  return true;
}

/** A temporary file beside its target (or in `dir`), so the final rename stays on one filesystem. */
export interface TempFile {
  path: string;
  handle: fs.FileHandle;
}

export async function createTempBeside(target: string, dir = path.dirname(target)): Promise<TempFile> {
  const tmp = path.join(dir, `.${path.basename(target).slice(0, 64)}.${randomBytes(6).toString("hex")}.r2-mcp-part`);
  try {
    // wx: never open something that already exists (a planted file or link with this name).
    const handle = await fs.open(tmp, "wx", 0o644);
    return { path: tmp, handle };
  } catch (err) {
    throw fromFsError(err, target);
  }
}

/**
 * Writes every chunk of `source` into the temporary file (plain writes on the handle: a stream
 * over a FileHandle would keep it busy and block close). Returns the bytes written.
 */
export async function writeToTemp(
  tmp: TempFile,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: { signal?: AbortSignal; onChunk?: (chunk: Uint8Array, written: number) => void; position?: number } = {},
): Promise<number> {
  const start = options.position ?? 0;
  let written = 0;
  for await (const chunk of source) {
    if (options.signal?.aborted) throw cancelledError(options.signal.reason);
    let offset = 0;
    while (offset < chunk.length) {
      const { bytesWritten } = await tmp.handle.write(chunk, offset, chunk.length - offset, start + written + offset);
      offset += bytesWritten;
    }
    written += chunk.length;
    options.onChunk?.(chunk, written);
  }
  return written;
}

export async function discardTemp(tmp: TempFile): Promise<void> {
  await tmp.handle.close().catch(() => undefined);
  await fs.rm(tmp.path, { force: true }).catch(() => undefined);
}

/**
 * Puts a finished temporary file at `target` in one step. Without overwrite it is a hard link,
 * which fails if anything (file, directory, symlink) already has that name: an exclusive create
 * that also never shows a partial file. With overwrite it is a rename, which replaces a symlink
 * itself rather than writing through it.
 */
export async function commitTemp(tmp: TempFile, target: string, overwrite: boolean): Promise<void> {
  try {
    await tmp.handle.sync();
    await tmp.handle.close();
    if (overwrite) {
      await fs.rename(tmp.path, target);
      return;
    }
    try {
      await fs.link(tmp.path, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Filesystems without hard links: fall back to an exclusive copy.
      if (code === "EPERM" || code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "EXDEV") {
        await fs.copyFile(tmp.path, target, fsConstants.COPYFILE_EXCL);
      } else {
        throw err;
      }
    }
    await fs.rm(tmp.path, { force: true });
  } catch (err) {
    await discardTemp(tmp);
    throw fromFsError(err, target);
  }
}

/**
 * Creates the parent directories of `target` below `dir` and checks that the parent is exactly
 * where it should be: a symlink planted anywhere below `dir` would make the real parent differ,
 * and the write is refused instead of following it.
 */
export async function ensureParentInside(dir: string, target: string): Promise<void> {
  const parent = path.dirname(target);
  try {
    await fs.mkdir(parent, { recursive: true });
  } catch (err) {
    throw fromFsError(err, parent, "local directory");
  }
  const realParent = await fs.realpath(parent).catch((err: unknown) => {
    throw fromFsError(err, parent, "local directory");
  });
  if (realParent !== parent || !isInside(parent, dir)) {
    throw new StorageError(
      "outside_roots",
      `refusing to write ${q(target)}: a symlink below ${q(dir)} would redirect it to ${q(realParent)}`,
      { path: target },
    );
  }
}
