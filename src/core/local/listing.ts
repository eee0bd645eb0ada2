/**
 * The keys of a local store under a prefix, as S3 lists them: sorted in UTF-8 byte order, and with
 * a delimiter one level only, folders shown as prefixes while some key is under them. The walks
 * never enter symlinks (Dirent types are not followed).
 */
import type { Dirent } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { fromFsError } from "../fs/errors.js";
import { unsafePathReason } from "../keys.js";
import type { ListOptions } from "../store.js";
import { isRealDirectory, isReservedKey } from "./layout.js";

/** S3 lists keys in UTF-8 byte order; JS string order differs above U+FFFF. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

/** A key, or with a delimiter a common prefix ending in "/". */
export interface ListEntry {
  name: string;
  isPrefix: boolean;
}

/** The deepest directory every key under a prefix lives in, and the name filter within it. */
interface Level {
  dir: string;
  dirKey: string;
  namePrefix: string;
}

function levelOf(root: string, prefix: string): Level | undefined {
  const slash = prefix.lastIndexOf("/");
  const dirKey = slash >= 0 ? prefix.slice(0, slash + 1) : "";
  const namePrefix = prefix.slice(slash + 1);
  // A prefix whose directory part could not be a stored path matches nothing stored here.
  if (dirKey !== "" && unsafePathReason(dirKey.slice(0, -1))) return undefined;
  // Nor does one inside a reserved folder: half-written files and sidecars are not objects.
  if (isReservedKey(dirKey)) return undefined;
  return { dir: path.join(root, ...dirKey.split("/").filter(Boolean)), dirKey, namePrefix };
}

/**
 * Every entry under `options.prefix` in the store at `root`, sorted as S3 sorts keys. The folder
 * the walk starts from must not be a symlink either, or a planted link would list files outside
 * the store.
 */
export async function listEntries(root: string, options: Pick<ListOptions, "prefix" | "delimiter">): Promise<ListEntry[]> {
  const level = levelOf(root, options.prefix ?? "");
  if (level === undefined || !(await isRealDirectory(level.dir))) return [];
  const entries = options.delimiter ? await levelEntries(level) : await allKeys(level);
  return entries.sort((a, b) => compareKeys(a.name, b.name));
}

async function readDir(dir: string): Promise<Dirent[]> {
  try {
    return await fs.readdir(dir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return [];
    throw fromFsError(err, dir, "local store directory");
  }
}

/** The store's own folders sit at the top level only. */
function skip(dirKey: string, name: string): boolean {
  return dirKey === "" && isReservedKey(name);
}

async function allKeys(level: Level): Promise<ListEntry[]> {
  const out: ListEntry[] = [];
  const walk = async (dir: string, dirKey: string, filter: string): Promise<void> => {
    for (const entry of await readDir(dir)) {
      if (!entry.name.startsWith(filter) || skip(dirKey, entry.name)) continue;
      const key = dirKey + entry.name;
      if (entry.isDirectory()) await walk(path.join(dir, entry.name), `${key}/`, "");
      else if (entry.isFile()) out.push({ name: key, isPrefix: false });
    }
  };
  await walk(level.dir, level.dirKey, level.namePrefix);
  return out;
}

async function levelEntries(level: Level): Promise<ListEntry[]> {
  const out: ListEntry[] = [];
  for (const entry of await readDir(level.dir)) {
    if (!entry.name.startsWith(level.namePrefix) || skip(level.dirKey, entry.name)) continue;
    const key = level.dirKey + entry.name;
    if (entry.isFile()) out.push({ name: key, isPrefix: false });
    else if (entry.isDirectory() && (await holdsAnyFile(path.join(level.dir, entry.name)))) {
      out.push({ name: `${key}/`, isPrefix: true });
    }
  }
  return out;
}

/** S3 has no empty "directories": a prefix exists only while some key is under it. */
async function holdsAnyFile(dir: string): Promise<boolean> {
  for (const entry of await readDir(dir)) {
    if (entry.isFile()) return true;
    if (entry.isDirectory() && (await holdsAnyFile(path.join(dir, entry.name)))) return true;
  }
  return false;
}
