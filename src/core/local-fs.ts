/**
 * All local filesystem safety in one place: paths confined to roots (after resolving symlinks),
 * writes that never leave a partial file and never replace an existing one by accident, and a
 * directory walk that refuses symlinks leading out of the roots.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, type Dirent, constants as fsConstants, type Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { cancelledError, q, StorageError } from "./errors.js";
import { fromFsError } from "./fs/errors.js";
import { localRelativeToKeyPart } from "./keys.js";

function isInside(child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(path.sep) ? parent : parent + path.sep);
}

/**
 * Allowed roots (real paths), and real paths inside them that no local path may reach: the local
 * store's own directory, whose files are objects (reaching them as local files would bypass
 * --read-only, --allow-prefix and the store's own checks).
 */
export type Roots = readonly string[] & { readonly excluded?: readonly string[] };

export function rootsExcluding(roots: readonly string[], excluded: readonly string[]): Roots {
  return Object.assign([...roots], { excluded: [...excluded] });
}

/**
 * Kernel pseudo-filesystems: never data files, and /proc/self/environ holds the server's own
 * credentials. Refused even when a root contains them (e.g. --root /).
 */
const PSEUDO_FILESYSTEMS = ["/proc", "/sys"];

/** Why `real` may not be used as a local path, or undefined when it may. */
function refusal(real: string, roots: Roots): string | undefined {
  if (!roots.some((root) => isInside(real, root))) return "outside the allowed roots";
  if (path.sep === "/" && PSEUDO_FILESYSTEMS.some((dir) => isInside(real, dir))) {
    return "on a kernel pseudo-filesystem (/proc, /sys), which holds no data files";
  }
  const store = roots.excluded?.find((dir) => isInside(real, dir) || isInside(dir, real));
  if (store !== undefined) {
    return isInside(real, store)
      ? `inside the local store's directory ${q(store)} (its files are objects: use the object tools)`
      : `a directory that contains the local store's directory ${q(store)}`;
  }
  return undefined;
}

function symlinkLoop(p: string, cause?: unknown): StorageError {
  return new StorageError("invalid_argument", `local path ${q(p)} goes through a symlink loop`, { path: p, cause });
}

async function realpathOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await fs.realpath(p);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    if (code === "ELOOP") throw symlinkLoop(p, err);
    throw fromFsError(err, p);
  }
}

async function readlinkOrUndefined(p: string): Promise<string | undefined> {
  try {
    return await fs.readlink(p);
  } catch {
    return undefined; // missing, or not a symlink
  }
}

/** Links followed while resolving one path, as the kernel's own limit (Linux MAXSYMLINKS). */
const MAX_LINKS = 40;

/**
 * The real location of `p`: its realpath when it exists, else the real location of its nearest
 * existing parent joined with the rest. A dangling symlink anywhere on the way is followed to its
 * target (a write through it would land there), so `root/link/new.txt` with `link` pointing to a
 * missing directory outside the roots resolves outside the roots.
 */
export async function realLocation(p: string, linksFollowed = 0): Promise<string> {
  let current = path.resolve(p);
  const rest: string[] = [];
  for (;;) {
    const real = await realpathOrUndefined(current);
    if (real !== undefined) return path.join(real, ...rest);
    const link = await readlinkOrUndefined(current);
    if (link !== undefined) {
      if (linksFollowed >= MAX_LINKS) throw symlinkLoop(p);
      return path.join(await realLocation(path.resolve(path.dirname(current), link), linksFollowed + 1), ...rest);
    }
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
export async function resolveLocalPath(p: string, roots: Roots | undefined, argument: string): Promise<string> {
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
export async function resolveWriteTarget(p: string, roots: Roots | undefined, argument: string): Promise<string> {
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

export function assertInsideRoots(real: string, roots: Roots, argument: string, shown = real): void {
  const reason = refusal(real, roots);
  if (reason !== undefined) {
    throw new StorageError(
      "outside_roots",
      `${argument} ${q(shown)} resolves to ${q(real)}, ${reason}; the allowed roots are ${roots.map(q).join(", ") || "(none)"}. Use a path inside them or start the server with --root`,
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
  /** Entries (mostly symlinks) whose real location may not be read: outside the roots, on /proc or /sys, or in the local store. */
  outside: string[];
}

/**
 * Every regular file under `dir`, following symlinks that stay inside the roots (each real
 * directory visited once, so link cycles end) and collecting those that leave them.
 */
export async function walkDirectory(dir: string, roots: Roots | undefined): Promise<WalkResult> {
  const files: LocalFile[] = [];
  const outside: string[] = [];
  const visited = new Set<string>();

  async function visit(realDir: string, relative: string): Promise<void> {
    if (visited.has(realDir)) return;
    visited.add(realDir);
    let entries: Dirent[];
    try {
      entries = await fs.readdir(realDir, { withFileTypes: true });
    } catch (err) {
      throw fromFsError(err, realDir, "local directory");
    }
    for (const entry of entries) {
      const entryPath = path.join(realDir, entry.name);
      const entryRelative = relative ? `${relative}/${entry.name}` : entry.name;
      let real = entryPath;
      let stat: Stats;
      if (entry.isSymbolicLink()) {
        const target = await realpathOrUndefined(entryPath);
        if (target === undefined) continue; // dangling link: nothing to upload
        real = target;
      }
      // Links leading out of the roots, and plain folders on a pseudo-filesystem (walking / under --root /).
      if (roots !== undefined && refusal(real, roots) !== undefined) {
        outside.push(entryPath);
        continue;
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
  let stat: Stats;
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

/** Network chunks are small (16-64 KiB); they are gathered to this size per write. */
const WRITE_BATCH = 256 * 1024;

/**
 * Writes every chunk of `source` into the temporary file (plain writes on the handle: a stream
 * over a FileHandle would keep it busy and block close), gathering chunks into large writes.
 * `onChunk` sees every chunk as it arrives. Returns the bytes written.
 */
export async function writeToTemp(
  tmp: TempFile,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  options: { signal?: AbortSignal; onChunk?: (chunk: Uint8Array, received: number) => void; position?: number } = {},
): Promise<number> {
  let position = options.position ?? 0;
  let received = 0;
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  const flush = async () => {
    const chunks = pending;
    const total = pendingBytes;
    pending = [];
    pendingBytes = 0;
    // One gathered write, without copying the chunks together; a short write (rare on regular
    // files) is finished from where it stopped.
    let done = (await tmp.handle.writev(chunks, position)).bytesWritten;
    if (done < total) {
      const rest = Buffer.concat(chunks, total);
      while (done < total) done += (await tmp.handle.write(rest, done, total - done, position + done)).bytesWritten;
    }
    position += total;
  };
  for await (const chunk of source) {
    if (options.signal?.aborted) throw cancelledError(options.signal.reason);
    pending.push(chunk);
    pendingBytes += chunk.length;
    received += chunk.length;
    options.onChunk?.(chunk, received);
    if (pendingBytes >= WRITE_BATCH) await flush();
  }
  if (pendingBytes > 0) await flush();
  return received;
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

function redirected(target: string, link: string): StorageError {
  return new StorageError(
    "outside_roots",
    `refusing to write ${q(target)}: ${q(link)} is a symlink, and a write never goes through a symlink; remove it or choose another path`,
    { path: target },
  );
}

/**
 * Checks, without creating anything, that every existing folder between `dir` and `parent` is a
 * real directory and not a symlink (a planned write is refused before any byte is written).
 */
export async function assertNoSymlinkBelow(dir: string, parent: string, target: string): Promise<void> {
  if (!isInside(parent, dir)) throw redirected(target, parent);
  let current = dir;
  for (const part of path.relative(dir, parent).split(path.sep).filter(Boolean)) {
    current = path.join(current, part);
    const stat = await fs.lstat(current).catch(() => undefined);
    if (stat === undefined) return; // the rest is created by ensureParentInside
    if (stat.isSymbolicLink()) throw redirected(target, current);
    if (!stat.isDirectory()) {
      throw new StorageError("not_a_directory", `a parent of local path ${q(target)} is not a directory: ${q(current)}`, { path: target });
    }
  }
}

/**
 * Creates the parent directories of `target` below `dir`, one at a time and never through a
 * symlink: `mkdir -p` would follow a symlink planted below `dir` and create folders wherever it
 * points before any check could see it. `dir` itself is a real location the caller resolved.
 */
export async function ensureParentInside(dir: string, target: string): Promise<void> {
  const parent = path.dirname(target);
  if (!isInside(parent, dir)) throw redirected(target, parent);
  try {
    await fs.mkdir(dir, { recursive: true });
  } catch (err) {
    throw fromFsError(err, dir, "local directory");
  }
  let current = dir;
  for (const part of path.relative(dir, parent).split(path.sep).filter(Boolean)) {
    current = path.join(current, part);
    let stat = await fs.lstat(current).catch(() => undefined);
    if (stat === undefined) {
      try {
        await fs.mkdir(current); // not recursive: fails on anything (even a symlink) created meanwhile
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw fromFsError(err, current, "local directory");
      }
      stat = await fs.lstat(current).catch((err: unknown) => {
        throw fromFsError(err, current, "local directory");
      });
    }
    if (stat.isSymbolicLink()) throw redirected(target, current);
    if (!stat.isDirectory()) {
      throw new StorageError("not_a_directory", `a parent of local path ${q(target)} is not a directory: ${q(current)}`, { path: target });
    }
  }
  // Belt and braces: the folder the file lands in is exactly the one planned.
  const realParent = await fs.realpath(parent).catch((err: unknown) => {
    throw fromFsError(err, parent, "local directory");
  });
  if (realParent !== parent) {
    throw new StorageError(
      "outside_roots",
      `refusing to write ${q(target)}: a symlink below ${q(dir)} would redirect it to ${q(realParent)}`,
      { path: target },
    );
  }
}
