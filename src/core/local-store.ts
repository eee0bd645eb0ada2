/**
 * ObjectStore over a local directory: the embedded default behind --local DIR. Each object is a
 * plain file at DIR/<key>, so the data stays browsable; the semantics (listing order, delimiter,
 * not-found, no-overwrite) are those of S3, held by the same contract suite.
 */
import { createHash } from "node:crypto";
import { createReadStream, type Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { guessContentType } from "./content-type.js";
import { alreadyExists, cancelledError, q, StorageError, throwIfAborted } from "./errors.js";
import { commitTemp, createTempBeside, discardTemp, writeToTemp } from "./fs/atomic-write.js";
import { fromFsError } from "./fs/errors.js";
import { ensureParentInside } from "./fs/safe-mkdir.js";
import { unsafePathReason, validateKey } from "./keys.js";
import {
  type ByteRange,
  checkListLimit,
  decodeCursor,
  encodeCursor,
  type GetResult,
  type ListOptions,
  type ListPage,
  type ObjectInfo,
  type ObjectStore,
  type PutBody,
  type PutOptions,
  type PutResult,
  type StoreCapabilities,
  type TransferOptions,
} from "./store.js";

const CURSOR_TAG = "local";

/** Holds writes in progress; never listed, and no key may use it. */
const TMP_DIR = ".r2-mcp-tmp";
/** Content types given at upload that the key's extension would not give; never listed either. */
const META_DIR = ".r2-mcp-meta";
const RESERVED = [TMP_DIR, META_DIR];

/** S3 lists keys in UTF-8 byte order; JS string order differs above U+FFFF. */
function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

interface Entry {
  name: string;
  isPrefix: boolean;
}

export class LocalStore implements ObjectStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  private readonly root: string;
  private readonly tmpDir: string;
  /** MD5 per file version, so listings and HEADs do not re-read unchanged files. */
  private readonly etags = new Map<string, { stamp: string; etag: string }>();
  private ready: Promise<void> | undefined;

  /** `dir` must be a real path (no symlinks); open() resolves it. */
  private constructor(dir: string, name: string) {
    this.root = dir;
    this.name = name;
    this.capabilities = { remote: false, parallelRanges: false, presign: false, directory: dir };
    this.tmpDir = path.join(dir, TMP_DIR);
  }

  /** Opens (creating it if needed) the store in `dir`; `name` is how messages and resource URIs call it. */
  static async open(dir: string, options: { name?: string } = {}): Promise<LocalStore> {
    const resolved = path.resolve(dir);
    try {
      await fs.mkdir(resolved, { recursive: true });
      const stat = await fs.stat(resolved);
      if (!stat.isDirectory()) throw Object.assign(new Error("not a directory"), { code: "ENOTDIR" });
      return new LocalStore(await fs.realpath(resolved), options.name ?? "local");
    } catch (err) {
      const e = fromFsError(err, resolved, "local store directory");
      if ((err as NodeJS.ErrnoException).code === "ENOTDIR" || (err as NodeJS.ErrnoException).code === "EEXIST") {
        throw new StorageError("not_a_directory", `local store directory ${q(resolved)} is not a directory`, {
          path: resolved,
          cause: err,
        });
      }
      throw e;
    }
  }

  /** Keys that cannot be files safely are refused, as SPEC.md "Keys, paths and limits" says. */
  private pathOf(key: string, argument = "key"): string {
    validateKey(key, argument);
    const reason = unsafePathReason(key);
    if (reason) {
      throw new StorageError("invalid_argument", `${argument} ${q(key)} cannot be stored in the local store: ${reason}`, { key });
    }
    if (RESERVED.some((dir) => key === dir || key.startsWith(`${dir}/`))) {
      throw new StorageError("invalid_argument", `${argument} ${q(key)} is reserved by the local store`, { key });
    }
    return path.join(this.root, ...key.split("/"));
  }

  /**
   * The file of an existing `key`, or undefined. A folder on the way that is a symlink (planted in
   * the store directory) is not followed: reads, HEADs and deletes stay inside the store, as writes do.
   */
  private async located(key: string): Promise<string | undefined> {
    const file = this.pathOf(key);
    return (await this.isRealDirectory(path.dirname(file))) ? file : undefined;
  }

  /** True when `dir` exists inside the store and no part of it below the root is a symlink. */
  private async isRealDirectory(dir: string): Promise<boolean> {
    try {
      return (await fs.realpath(dir)) === dir;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") return false;
      throw fromFsError(err, dir, "local store directory");
    }
  }

  private async etagOf(file: string, stat: { ino: number; size: number; mtimeMs: number }): Promise<string> {
    const stamp = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    const cached = this.etags.get(file);
    if (cached?.stamp === stamp) return cached.etag;
    const hash = createHash("md5");
    for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
    const etag = hash.digest("hex");
    this.etags.set(file, { stamp, etag });
    return etag;
  }

  /** One flat file per key, named by the key's hash: no key can collide with another's. */
  private metaPath(key: string): string {
    return path.join(this.root, META_DIR, createHash("sha256").update(key).digest("hex"));
  }

  /** The content type stored with `key`, else the one its extension gives (as S3 defaults it). */
  private async contentTypeOf(key: string): Promise<string> {
    const stored = await fs.readFile(this.metaPath(key), "utf8").catch(() => undefined);
    return stored ?? guessContentType(key);
  }

  private async saveContentType(key: string, contentType: string | undefined): Promise<void> {
    const file = this.metaPath(key);
    if (contentType === undefined || contentType === guessContentType(key)) {
      await fs.rm(file, { force: true });
      return;
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(tmp, contentType);
    await fs.rename(tmp, file);
  }

  /**
   * The object at `key`, or undefined; directories and symlinks are not objects. Listings leave
   * the content type out, as S3's do.
   */
  private async info(key: string, file: string, withType = true): Promise<ObjectInfo | undefined> {
    let stat: Stats;
    try {
      stat = await fs.lstat(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw fromFsError(err, file, "stored object");
    }
    if (!stat.isFile()) return undefined;
    return {
      key,
      size: stat.size,
      lastModified: stat.mtime,
      etag: await this.etagOf(file, stat),
      ...(withType ? { contentType: await this.contentTypeOf(key) } : {}),
    };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const file = await this.located(key);
    return file === undefined ? undefined : this.info(key, file);
  }

  async get(key: string, options: TransferOptions & { range?: ByteRange } = {}): Promise<GetResult> {
    const file = await this.located(key);
    throwIfAborted(options.signal);
    const info = file === undefined ? undefined : await this.info(key, file);
    if (!info || file === undefined) throw new StorageError("not_found", `${q(key)} does not exist`, { key });
    const start = options.range?.offset ?? 0;
    if (options.range && start >= info.size) {
      throw new StorageError("invalid_argument", `the byte range is outside ${q(key)} (offset ${start}, size ${info.size})`, { key });
    }
    const end = options.range?.length !== undefined ? Math.min(info.size, start + options.range.length) : info.size;
    const body =
      end > start
        ? createReadStream(file, { start, end: end - 1, ...(options.signal ? { signal: options.signal } : {}) })
        : Readable.from([]);
    return { body, info, range: { start, end } };
  }

  async put(key: string, body: PutBody, options: PutOptions): Promise<PutResult> {
    const target = this.pathOf(key);
    throwIfAborted(options.signal);
    if (options.mode === "create" && (await this.located(key)) !== undefined) {
      const existing = await fs.lstat(target).catch(() => undefined);
      if (existing) throw existing.isFile() ? alreadyExists(key) : this.conflict(key, target);
    }
    await this.ensureTmpDir();
    const tmp = await createTempBeside(target, this.tmpDir);
    const hash = createHash("md5");
    let size = 0;
    try {
      const source = body.kind === "bytes" ? [body.data] : createReadStream(body.path);
      size = await writeToTemp(tmp, source, {
        ...(options.signal ? { signal: options.signal } : {}),
        onChunk: (chunk, written) => {
          hash.update(chunk);
          options.onBytes?.(written);
        },
      });
    } catch (err) {
      await discardTemp(tmp);
      if (options.signal?.aborted) throw cancelledError(err);
      throw fromFsError(err, body.kind === "file" ? body.path : target, body.kind === "file" ? "local file" : "stored object");
    }
    throwIfAborted(options.signal);
    let replaced = false;
    try {
      await ensureParentInside(this.root, target);
      if (options.mode === "overwrite") {
        const stat = await fs.lstat(target).catch(() => undefined);
        if (stat?.isDirectory()) throw this.conflict(key, target);
        replaced = stat !== undefined;
      }
      await commitTemp(tmp, target, options.mode === "overwrite");
    } catch (err) {
      await discardTemp(tmp);
      throw await this.commitError(key, target, err);
    }
    await this.saveContentType(key, options.contentType);
    const etag = hash.digest("hex");
    const stat = await fs.stat(target);
    this.etags.set(target, { stamp: `${stat.ino}:${stat.size}:${stat.mtimeMs}`, etag });
    return { key, size, etag, replaced };
  }

  async delete(key: string): Promise<{ existed: boolean }> {
    const file = await this.located(key);
    const info = file === undefined ? undefined : await this.info(key, file);
    if (!info || file === undefined) return { existed: false };
    try {
      await fs.unlink(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { existed: false };
      throw fromFsError(err, file, "stored object");
    }
    this.etags.delete(file);
    await fs.rm(this.metaPath(key), { force: true });
    await this.pruneEmptyParents(path.dirname(file));
    return { existed: true };
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    const limit = checkListLimit(options.limit);
    const prefix = options.prefix ?? "";
    const after = decodeCursor(CURSOR_TAG, options);
    // The walks below never enter symlinks (Dirent types are not followed); the folder they
    // start from must not be one either, or a planted link would list files outside the store.
    const where = this.split(prefix);
    const entries =
      where === undefined || !(await this.isRealDirectory(where.dir))
        ? []
        : options.delimiter
          ? await this.levelEntries(where)
          : await this.allKeys(where);
    entries.sort((a, b) => compareKeys(a.name, b.name));
    let start = 0;
    if (after !== undefined) {
      while (start < entries.length && compareKeys((entries[start] as Entry).name, after) <= 0) start++;
    }
    const page = entries.slice(start, start + limit);
    const objects: ObjectInfo[] = [];
    const prefixes: string[] = [];
    for (const entry of page) {
      if (entry.isPrefix) {
        prefixes.push(entry.name);
        continue;
      }
      // A file deleted between the walk and now is simply not listed.
      const info = await this.info(entry.name, path.join(this.root, ...entry.name.split("/")), false);
      if (info) objects.push(info);
    }
    const result: ListPage = { objects, prefixes };
    const last = page[page.length - 1];
    if (start + limit < entries.length && last) result.nextCursor = encodeCursor(CURSOR_TAG, options, last.name);
    return result;
  }

  async presign(): Promise<string> {
    throw new StorageError("unsupported", "the local store has no URLs to share; run r2-mcp against R2 or S3 for links");
  }

  async close(): Promise<void> {
    this.etags.clear();
  }

  /** The deepest directory every key under `prefix` lives in, and the name filter within it. */
  private split(prefix: string): { dir: string; dirKey: string; namePrefix: string } | undefined {
    const slash = prefix.lastIndexOf("/");
    const dirKey = slash >= 0 ? prefix.slice(0, slash + 1) : "";
    const namePrefix = prefix.slice(slash + 1);
    // A prefix whose directory part could not be a stored path matches nothing stored here.
    if (dirKey !== "" && unsafePathReason(dirKey.slice(0, -1))) return undefined;
    // Nor does one inside the reserved temp directory: half-written files are not objects.
    if (RESERVED.some((dir) => dirKey.startsWith(`${dir}/`))) return undefined;
    return { dir: path.join(this.root, ...dirKey.split("/").filter(Boolean)), dirKey, namePrefix };
  }

  private async readDir(dir: string) {
    try {
      return await fs.readdir(dir, { withFileTypes: true });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return [];
      throw fromFsError(err, dir, "local store directory");
    }
  }

  private skip(dirKey: string, name: string): boolean {
    return dirKey === "" && RESERVED.includes(name);
  }

  private async allKeys(where: { dir: string; dirKey: string; namePrefix: string }): Promise<Entry[]> {
    const out: Entry[] = [];
    const walk = async (dir: string, dirKey: string, filter: string): Promise<void> => {
      for (const entry of await this.readDir(dir)) {
        if (!entry.name.startsWith(filter) || this.skip(dirKey, entry.name)) continue;
        const key = dirKey + entry.name;
        if (entry.isDirectory()) await walk(path.join(dir, entry.name), `${key}/`, "");
        else if (entry.isFile()) out.push({ name: key, isPrefix: false });
      }
    };
    await walk(where.dir, where.dirKey, where.namePrefix);
    return out;
  }

  private async levelEntries(where: { dir: string; dirKey: string; namePrefix: string }): Promise<Entry[]> {
    const out: Entry[] = [];
    for (const entry of await this.readDir(where.dir)) {
      if (!entry.name.startsWith(where.namePrefix) || this.skip(where.dirKey, entry.name)) continue;
      const key = where.dirKey + entry.name;
      if (entry.isFile()) out.push({ name: key, isPrefix: false });
      else if (entry.isDirectory() && (await this.holdsAnyFile(path.join(where.dir, entry.name)))) {
        out.push({ name: `${key}/`, isPrefix: true });
      }
    }
    return out;
  }

  /** S3 has no empty "directories": a prefix exists only while some key is under it. */
  private async holdsAnyFile(dir: string): Promise<boolean> {
    for (const entry of await this.readDir(dir)) {
      if (entry.isFile()) return true;
      if (entry.isDirectory() && (await this.holdsAnyFile(path.join(dir, entry.name)))) return true;
    }
    return false;
  }

  /**
   * A key that names an existing object is already_exists. A key that is also a "directory" of
   * other keys (or lies under a key that is a file) is a shape S3 allows and files cannot hold.
   */
  private conflict(key: string, target: string): StorageError {
    return new StorageError(
      "already_exists",
      `${q(key)} exists in the local store (as an object, or as a prefix of other keys: a file and a folder cannot share a name here); pass overwrite: true to replace an object, or choose another key`,
      { key, path: target },
    );
  }

  /**
   * Why a write could not be put in place: the key itself appeared meanwhile (already_exists), or a
   * file sits where one of its folders should be ("a" exists and "a/b" is written: mkdir answers
   * EEXIST or ENOTDIR), or a folder sits where the file should be.
   */
  private async commitError(key: string, target: string, err: unknown): Promise<unknown> {
    if (!(err instanceof StorageError)) return err;
    if (err.kind === "not_a_directory" || err.kind === "invalid_argument") return this.conflict(key, target);
    if (err.kind === "already_exists") {
      const stat = await fs.lstat(target).catch(() => undefined);
      return stat?.isFile() ? alreadyExists(key, err) : this.conflict(key, target);
    }
    return err;
  }

  private async ensureTmpDir(): Promise<void> {
    this.ready ??= fs.mkdir(this.tmpDir, { recursive: true }).then(() => undefined);
    await this.ready;
  }

  /** Removes directories emptied by a delete, so they stop showing up as prefixes. */
  private async pruneEmptyParents(dir: string): Promise<void> {
    let current = dir;
    while (current !== this.root && current.startsWith(this.root + path.sep)) {
      try {
        await fs.rmdir(current);
      } catch {
        return; // not empty, or already gone
      }
      current = path.dirname(current);
    }
  }
}
