/**
 * Local paths confined to roots, judged on real paths (after following symlinks). The decision is
 * confinementRefusal, a pure function of a real path and the roots; the rest resolves paths so it
 * can be applied. Every local path a caller gives goes through resolveLocalPath or
 * resolveWriteTarget once, before anything touches it.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { q, StorageError } from "../errors.js";
import { fromFsError } from "./errors.js";

/** True when `child` is `parent` or lies below it (a sibling sharing a name prefix does not). */
export function isInside(child: string, parent: string): boolean {
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

export type ConfinementReason = "outside_roots" | "pseudo_filesystem" | "store_directory" | "contains_store_directory";

export interface ConfinementRefusal {
  reason: ConfinementReason;
  /** Completes "<argument> <path> resolves to <real>, ..." in the outside_roots error. */
  message: string;
}

/** Why the real path `real` may not be used as a local path, or undefined when it may. No I/O. */
export function confinementRefusal(real: string, roots: Roots): ConfinementRefusal | undefined {
  if (!roots.some((root) => isInside(real, root))) return { reason: "outside_roots", message: "outside the allowed roots" };
  if (path.sep === "/" && PSEUDO_FILESYSTEMS.some((dir) => isInside(real, dir))) {
    return {
      reason: "pseudo_filesystem",
      message: "on a kernel pseudo-filesystem (/proc, /sys), which holds no data files",
    };
  }
  const store = roots.excluded?.find((dir) => isInside(real, dir) || isInside(dir, real));
  if (store === undefined) return undefined;
  return isInside(real, store)
    ? {
        reason: "store_directory",
        message: `inside the local store's directory ${q(store)} (its files are objects: use the object tools)`,
      }
    : { reason: "contains_store_directory", message: `a directory that contains the local store's directory ${q(store)}` };
}

export function assertInsideRoots(real: string, roots: Roots, argument: string, shown = real): void {
  const refused = confinementRefusal(real, roots);
  if (refused !== undefined && roots.length === 0) {
    throw new StorageError(
      "outside_roots",
      `${argument} ${q(shown)}: no local directory is allowed (the allowed roots are (none): the server started without --root in / or the home directory, which are never roots by default, or the client offers no roots); restart it with --root DIR (or R2_MCP_ROOTS) naming the folders it may read and write`,
      { path: shown },
    );
  }
  if (refused !== undefined) {
    throw new StorageError(
      "outside_roots",
      `${argument} ${q(shown)} resolves to ${q(real)}, ${refused.message}; the allowed roots are ${roots.map(q).join(", ") || "(none)"}. Use a path inside them or start the server with --root`,
      { path: shown },
    );
  }
}

function symlinkLoop(p: string, cause?: unknown): StorageError {
  return new StorageError("invalid_argument", `local path ${q(p)} goes through a symlink loop`, { path: p, cause });
}

/** The realpath of `p`, or undefined when nothing is there; a symlink loop is invalid_argument. */
export async function realpathOrUndefined(p: string): Promise<string | undefined> {
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
  const real = await realLocation(expandHome(p));
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
  const absolute = path.resolve(expandHome(p));
  const parent = path.dirname(absolute);
  if (parent === absolute) {
    throw new StorageError("invalid_argument", `${argument} ${q(p)} is a directory; give a file path`, { path: p });
  }
  const real = path.join(await realLocation(parent), path.basename(absolute));
  if (roots !== undefined) assertInsideRoots(real, roots, argument, p);
  return real;
}

/** A leading "~/" (or "~" alone) is the home directory, as in a shell; the roots still apply. */
export function expandHome(p: string, home = os.homedir()): string {
  if (p === "~") return home;
  if (p.startsWith("~/") || (path.sep === "\\" && p.startsWith("~\\"))) return path.join(home, p.slice(2));
  return p;
}

function checkPathArgument(p: string, argument: string): void {
  if (typeof p !== "string" || p.length === 0) {
    throw new StorageError("invalid_argument", `${argument} must be a non-empty path`);
  }
  if (p.includes("\0")) throw new StorageError("invalid_argument", `${argument} must not contain a NUL character`);
}
