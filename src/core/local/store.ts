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
import { alreadyExists, cancelledError, q, StorageError, throwIfAborted } from "../errors.js";
import { commitTemp, createTempBeside, discardTemp, writeToTemp } from "../fs/atomic-write.js";
import { fromFsError } from "../fs/errors.js";
import { ensureParentInside } from "../fs/safe-mkdir.js";
import { unsafePathReason, validateKey } from "../keys.js";
import {
  type ByteRange,
  checkListLimit,
  checkStartAfter,
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
} from "../store.js";
import { fileOf, isRealDirectory, isReservedKey, TMP_DIR } from "./layout.js";
import { compareKeys, type ListEntry, listEntries } from "./listing.js";
import { ContentTypes, EtagCache } from "./metadata.js";

const CURSOR_TAG = "local";

export class LocalStore implements ObjectStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  private readonly root: string;
  private readonly tmpDir: string;
  private readonly etags = new EtagCache();
  private readonly contentTypes: ContentTypes;
  private ready: Promise<void> | undefined;

  /** `dir` must be a real path (no symlinks); open() resolves it. */
  private constructor(dir: string, name: string) {
    this.root = dir;
    this.name = name;
    this.capabilities = { remote: false, parallelRanges: false, presign: false, directory: dir };
    this.tmpDir = path.join(dir, TMP_DIR);
    this.contentTypes = new ContentTypes(dir);
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
    if (isReservedKey(key)) {
      throw new StorageError("invalid_argument", `${argument} ${q(key)} is reserved by the local store`, { key });
    }
    return fileOf(this.root, key);
  }

  /**
   * The file of an existing `key`, or undefined. A folder on the way that is a symlink (planted in
   * the store directory) is not followed: reads, HEADs and deletes stay inside the store, as writes do.
   */
  private async located(key: string): Promise<string | undefined> {
    const file = this.pathOf(key);
    return (await isRealDirectory(path.dirname(file))) ? file : undefined;
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
      etag: await this.etags.of(file, stat),
      ...(withType ? { contentType: await this.contentTypes.of(key) } : {}),
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
    await this.contentTypes.save(key, options.contentType);
    const etag = hash.digest("hex");
    this.etags.remember(target, await fs.stat(target), etag);
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
    this.etags.forget(file);
    await this.contentTypes.forget(key);
    await this.pruneEmptyParents(path.dirname(file));
    return { existed: true };
  }

  async list(options: ListOptions = {}): Promise<ListPage> {
    const limit = checkListLimit(options.limit);
    const after = checkStartAfter(options) ?? decodeCursor(CURSOR_TAG, options);
    const entries = await listEntries(this.root, options);
    let start = 0;
    if (after !== undefined) {
      while (start < entries.length && compareKeys((entries[start] as ListEntry).name, after) <= 0) start++;
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
      const info = await this.info(entry.name, fileOf(this.root, entry.name), false);
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
