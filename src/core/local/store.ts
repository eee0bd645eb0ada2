/**
 * ObjectStore over a local directory: the embedded default behind --local DIR. Each object is a
 * plain file at DIR/<key>, so the data stays browsable; the semantics (listing order, delimiter,
 * not-found, no-overwrite) are those of S3, held by the same contract suite.
 */
import { createHash } from "node:crypto";
import type { Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { alreadyExists, cancelledError, changedSince, q, StorageError, throwIfAborted } from "../errors.js";
import { createTemp, discardTemp, finishTemp, placeTemp, removeStaleTemps, type TempFile, writeToTemp } from "../fs/atomic-write.js";
import { CheckedDir, type Confinement, OpenFile } from "../fs/descriptor.js";
import { fromFsError } from "../fs/errors.js";
import { md5File } from "../fs/hash.js";
import { unsafePathReason, validateKey } from "../keys.js";
import {
  type ByteRange,
  type CopyOptions,
  type CopyResult,
  type CopySource,
  checkDeleteBatch,
  checkListLimit,
  checkStartAfter,
  type DeleteManyResult,
  type DeleteOptions,
  type DeleteResult,
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
  type StoreLocation,
  type TransferOptions,
} from "../store.js";
import { exactBytes } from "../store-ext.js";
import { fileOf, isRealDirectory, isReservedKey, TMP_DIR } from "./layout.js";
import { compareKeys, type ListEntry, listEntries } from "./listing.js";
import { EtagCache, Sidecars } from "./metadata.js";

/** A put whose folder a concurrent delete pruned (emptied and removed) is placed again, this many times at most. */
const PLACE_ATTEMPTS = 5;

const CURSOR_TAG = "local";

/**
 * Refusals that mean "no object here": nothing at the path, a file where a folder would be, a
 * symlink (never followed in the store), a folder or FIFO where the file would be. Anything else
 * (too many open files, permissions, I/O) is a real failure and is not hidden as a missing key.
 */
function notAnObject(err: unknown): boolean {
  return (
    err instanceof StorageError &&
    (err.kind === "not_found" || err.kind === "not_a_directory" || err.kind === "outside_roots" || err.kind === "invalid_argument")
  );
}

/** What most filesystems allow in one file or folder name (NAME_MAX), in bytes. */
const MAX_SEGMENT_BYTES = 255;

/** A key segment longer than a file name may be: a key S3 holds and this store cannot. */
function refuseLongSegment(key: string): void {
  const long = key.split("/").find((segment) => Buffer.byteLength(segment, "utf8") > MAX_SEGMENT_BYTES);
  if (long === undefined) return;
  throw new StorageError(
    "unsupported",
    `the local store cannot hold ${q(key)}: its segment ${q(`${long.slice(0, 40)}…`)} is ${Buffer.byteLength(long, "utf8")} bytes, and the store keeps each segment as a file or folder name, at most ${MAX_SEGMENT_BYTES} bytes. Shorten that part of the key (use "/" to split it), or use an S3 bucket`,
    { key },
  );
}

export class LocalStore implements ObjectStore {
  readonly name: string;
  readonly capabilities: StoreCapabilities;
  private readonly root: string;
  private readonly tmpDir: string;
  private readonly etags = new EtagCache();
  private readonly sidecars: Sidecars;
  /** Writes and deletes of one key, one at a time within this process: bytes and sidecar stay a pair. */
  private readonly locks = new Map<string, Promise<void>>();
  private ready: Promise<void> | undefined;

  /** `dir` must be a real path (no symlinks); open() resolves it. */
  private constructor(dir: string, name: string) {
    this.root = dir;
    this.name = name;
    // Copies within one store directory are file copies on this machine.
    this.capabilities = {
      remote: false,
      parallelRanges: false,
      presign: false,
      directory: dir,
      location: { domain: `local:${dir}`, container: dir },
    };
    this.tmpDir = path.join(dir, TMP_DIR);
    this.sidecars = new Sidecars(dir, (shown) => this.confinement(shown));
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

  /** Everything the store opens stays inside its own directory, checked by descriptor. */
  private confinement(shown: string): Confinement {
    return { roots: [this.root], argument: "stored object", shown };
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
   * The folder holding `file`, opened by descriptor; undefined when it is missing or not a real
   * folder (a symlink planted in the store directory is never followed: reads, HEADs and deletes
   * stay inside the store, as writes do).
   */
  private async folderOf(file: string): Promise<CheckedDir | undefined> {
    try {
      return await CheckedDir.open(path.dirname(file), this.confinement(file), { create: false });
    } catch (err) {
      if (notAnObject(err)) return undefined;
      throw fromFsError(err, file, "stored object");
    }
  }

  /** The object file of `key` opened by descriptor, or undefined; directories, links and FIFOs are not objects. */
  private async openObject(file: string): Promise<OpenFile | undefined> {
    const folder = await this.folderOf(file);
    if (folder === undefined) return undefined;
    try {
      return await OpenFile.open(folder.entry(path.basename(file)), this.confinement(file));
    } catch (err) {
      if (notAnObject(err)) return undefined;
      throw fromFsError(err, file, "stored object");
    } finally {
      await folder.close();
    }
  }

  /** An object's info from its open file (the version read is the version described). */
  private async describe(key: string, file: string, opened: OpenFile, withMeta = true): Promise<ObjectInfo> {
    const stat = await opened.handle.stat();
    const info: ObjectInfo = {
      key,
      size: stat.size,
      lastModified: stat.mtime,
      etag: await this.etags.of(file, stat, () => md5File(opened)),
    };
    return withMeta ? { ...info, ...(await this.sidecars.of(key)) } : info;
  }

  /**
   * A listed key's info, from its stat (listings leave the content type and metadata out, as S3's do); the
   * bytes are read, through a descriptor, only when its ETag is not known for that version.
   */
  private async listed(key: string): Promise<ObjectInfo | undefined> {
    const file = fileOf(this.root, key);
    let stat: Stats;
    try {
      stat = await fs.lstat(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR") return undefined;
      throw fromFsError(err, file, "stored object");
    }
    if (!stat.isFile()) return undefined;
    const etag = await this.etags
      .of(file, stat, async () => {
        const opened = await this.openObject(file);
        if (opened === undefined) throw new StorageError("not_found", `${q(key)} does not exist`, { key });
        try {
          return await md5File(opened);
        } finally {
          await opened.close();
        }
      })
      .catch((err: unknown) => {
        if (err instanceof StorageError && err.kind === "not_found") return undefined;
        throw err;
      });
    if (etag === undefined) return undefined; // deleted or replaced since the walk
    return { key, size: stat.size, lastModified: stat.mtime, etag };
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const file = this.pathOf(key);
    const opened = await this.openObject(file);
    if (opened === undefined) return undefined;
    try {
      return await this.describe(key, file, opened);
    } finally {
      await opened.close();
    }
  }

  async get(key: string, options: TransferOptions & { range?: ByteRange } = {}): Promise<GetResult> {
    const file = this.pathOf(key);
    throwIfAborted(options.signal);
    const opened = await this.openObject(file);
    if (opened === undefined) throw new StorageError("not_found", `${q(key)} does not exist`, { key });
    let info: ObjectInfo;
    try {
      info = await this.describe(key, file, opened);
    } catch (err) {
      await opened.close();
      throw err;
    }
    const start = options.range?.offset ?? 0;
    if (options.range && start >= info.size) {
      await opened.close();
      throw new StorageError("invalid_argument", `the byte range is outside ${q(key)} (offset ${start}, size ${info.size})`, { key });
    }
    const end = options.range?.length !== undefined ? Math.min(info.size, start + options.range.length) : info.size;
    if (end <= start) {
      await opened.close();
      return { body: Readable.from([]), info, range: { start, end } };
    }
    // Read through the descriptor: a rename that replaces the object meanwhile leaves this version whole.
    const body = opened.handle.createReadStream({ start, end: end - 1, ...(options.signal ? { signal: options.signal } : {}) });
    return { body, info, range: { start, end } };
  }

  /** Runs `run` once no other write or delete of `key` in this process is running. */
  private async exclusive<T>(key: string, run: () => Promise<T>): Promise<T> {
    const before = this.locks.get(key) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const chain = before.then(() => mine);
    this.locks.set(key, chain);
    await before;
    try {
      return await run();
    } finally {
      release();
      if (this.locks.get(key) === chain) this.locks.delete(key);
    }
  }

  async put(key: string, body: PutBody, options: PutOptions): Promise<PutResult> {
    const target = this.pathOf(key);
    refuseLongSegment(key);
    throwIfAborted(options.signal);
    if (options.mode === "create" && (await isRealDirectory(path.dirname(target)))) {
      const existing = await fs.lstat(target).catch(() => undefined);
      if (existing) throw existing.isFile() ? alreadyExists(key) : await this.conflict(key, target);
    }
    const tmpDir = await this.openTmpDir();
    try {
      const tmp = await createTemp(tmpDir, path.basename(target));
      const hash = createHash("md5");
      let size = 0;
      try {
        const source =
          body.kind === "bytes" ? [body.data] : body.kind === "file" ? body.file.stream() : exactBytes(body.body, body.size, key);
        size = await writeToTemp(tmp, source, {
          ...(options.signal ? { signal: options.signal } : {}),
          onChunk: (chunk, written) => {
            hash.update(chunk);
            options.onBytes?.(written);
          },
        });
        throwIfAborted(options.signal);
      } catch (err) {
        await discardTemp(tmp);
        if (options.signal?.aborted) throw cancelledError(err);
        if (body.kind === "file") throw body.file.failure ?? fromFsError(err, body.file.path, "local file");
        if (err instanceof StorageError) throw err;
        throw fromFsError(err, target, "stored object");
      }
      const stat = await finishTemp(tmp);
      const etag = hash.digest("hex");
      const replaced = await this.exclusive(key, () => this.place(key, target, tmp, stat, options));
      this.etags.remember(target, stat, etag);
      return { key, size, etag, replaced };
    } finally {
      await tmpDir.close();
    }
  }

  /**
   * Puts a finished temporary file at the key's file. The sidecar is recorded first and put
   * back if the bytes do not land, so a call that fails leaves neither. A folder pruned by a
   * concurrent delete between its creation and the link is created again.
   */
  private async place(key: string, target: string, tmp: TempFile, stat: Stats, options: PutOptions): Promise<boolean> {
    const overwrite = options.mode === "overwrite";
    const name = path.basename(target);
    for (let attempt = 1; ; attempt++) {
      let folder: CheckedDir | undefined;
      try {
        folder = await CheckedDir.open(path.dirname(target), this.confinement(target), { create: true });
        let replaced = false;
        if (overwrite) {
          const existing = await fs.lstat(folder.entry(name)).catch(() => undefined);
          if (existing?.isDirectory()) throw await this.conflict(key, target);
          replaced = existing !== undefined;
        }
        const undoSidecar = await this.sidecars.replace(key, options.contentType, options.metadata);
        try {
          await placeTemp(tmp, stat, folder, name, { overwrite });
        } catch (err) {
          await undoSidecar().catch(() => undefined);
          throw err;
        }
        return replaced;
      } catch (err) {
        if (err instanceof StorageError && err.kind === "not_found" && attempt < PLACE_ATTEMPTS) continue;
        await discardTemp(tmp);
        throw await this.commitError(key, target, err);
      } finally {
        await folder?.close();
      }
    }
  }

  async delete(key: string, options: DeleteOptions = {}): Promise<DeleteResult> {
    const file = this.pathOf(key);
    return this.exclusive(key, async () => {
      const folder = await this.folderOf(file);
      if (folder === undefined) return { existed: false };
      const name = path.basename(file);
      try {
        const stat = await fs.lstat(folder.entry(name)).catch(() => undefined);
        if (!stat?.isFile()) return { existed: false };
        if (options.ifMatch !== undefined && !(await this.isVersion(key, file, folder, options.ifMatch)))
          return { existed: true, kept: true };
        try {
          await fs.unlink(folder.entry(name));
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") return { existed: false };
          throw fromFsError(err, file, "stored object");
        }
      } finally {
        await folder.close();
      }
      this.etags.forget(file);
      await this.sidecars.forget(key);
      await this.pruneEmptyParents(path.dirname(file));
      return { existed: true };
    });
  }

  /**
   * Whether the file at `name` in `folder` holds the version of ETag `etag`: read by descriptor,
   * unchanged while read, and still the very file at that name (not replaced by a rename) once
   * compared. Writes of this process are held off by the key's lock; another process's write
   * after this check and before the unlink is the window left (files have no conditional delete).
   */
  private async isVersion(key: string, file: string, folder: CheckedDir, etag: string): Promise<boolean> {
    let opened: OpenFile;
    try {
      opened = await OpenFile.open(folder.entry(path.basename(file)), this.confinement(file));
    } catch (err) {
      if (notAnObject(err)) return false;
      throw fromFsError(err, file, "stored object");
    }
    try {
      const info = await this.describe(key, file, opened, false);
      if (info.etag !== etag) return false;
      await opened.checkUnchanged();
      const held = await opened.handle.stat();
      const named = await fs.lstat(folder.entry(path.basename(file))).catch(() => undefined);
      return named !== undefined && named.ino === held.ino && named.dev === held.dev;
    } catch (err) {
      if (err instanceof StorageError && err.kind === "unavailable") return false; // changed while read
      throw err;
    } finally {
      await opened.close();
    }
  }

  async deleteMany(keys: readonly string[], options: { signal?: AbortSignal } = {}): Promise<DeleteManyResult> {
    checkDeleteBatch(keys);
    for (const key of keys) this.pathOf(key);
    const result: DeleteManyResult = { deleted: [], failed: [] };
    for (const key of keys) {
      throwIfAborted(options.signal);
      try {
        await this.delete(key);
        result.deleted.push(key);
      } catch (err) {
        if (!(err instanceof StorageError)) throw err;
        result.failed.push({ key, code: err.kind, message: err.message });
      }
    }
    return result;
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
      const info = await this.listed(entry.name);
      if (info) objects.push(info);
    }
    const result: ListPage = { objects, prefixes };
    const last = page[page.length - 1];
    if (start + limit < entries.length && last) result.nextCursor = encodeCursor(CURSOR_TAG, options, last.name);
    return result;
  }

  copySource(key: string, argument = "source"): CopySource {
    this.pathOf(key, argument);
    return { location: this.location, key };
  }

  /**
   * A copy of a file of this store, never a link: the source is opened by descriptor inside the
   * store directory and read only through it; the copy is written like any put (a temporary file
   * placed through the descriptor of its checked folder).
   */
  async copy(source: CopySource, key: string, options: CopyOptions): Promise<CopyResult> {
    this.pathOf(key);
    if (source.location.domain !== this.location.domain) {
      throw new StorageError(
        "unsupported",
        `the local store copies only its own objects; stream ${q(source.key)} through get and put instead`,
        {
          key,
        },
      );
    }
    const file = this.pathOf(source.key, "source");
    const opened = await this.openObject(file);
    if (opened === undefined) throw new StorageError("not_found", `${q(source.key)} does not exist`, { key: source.key });
    try {
      const info = await this.describe(source.key, file, opened, false);
      if (info.size !== options.expect.size || info.etag !== options.expect.etag) throw changedSince(source.key);
      // What the source carries beside its bytes comes along, as S3's CopyObject copies it.
      const meta = await this.sidecars.of(source.key);
      const out = await this.put(key, { kind: "file", file: opened }, { ...options, ...meta });
      return { ...out, sourceEtag: out.etag };
    } finally {
      await opened.close();
    }
  }

  private get location(): StoreLocation {
    return this.capabilities.location as StoreLocation;
  }

  async presign(): Promise<string> {
    throw new StorageError("unsupported", "the local store has no URLs to share; run r2-mcp against R2 or S3 for links");
  }

  async close(): Promise<void> {
    this.etags.clear();
  }

  /**
   * A key that is also a "directory" of other keys, or lies under a key that is an object: a shape
   * S3 allows and files cannot hold. No overwrite changes that, so it is unsupported (not
   * already_exists, which would send a caller round the overwrite loop), naming the other key.
   */
  private async conflict(key: string, target: string): Promise<StorageError> {
    const stat = await fs.lstat(target).catch(() => undefined);
    let clash: string;
    if (stat?.isDirectory()) {
      clash = `${q(key)} is already a prefix of other objects (${q(`${key}/`)}…)`;
    } else {
      const object = await this.objectAbove(key);
      clash =
        object !== undefined
          ? `${q(object)} is an object, so it cannot also be a prefix`
          : "a file stands where one of its folders should be";
    }
    return new StorageError(
      "unsupported",
      `the local store cannot hold ${q(key)}: ${clash}. It keeps each object as a file and each prefix as a folder, and one name cannot be both (S3 allows it). overwrite: true does not change this: choose another key, delete the other object first, or use an S3 bucket`,
      { key, path: target },
    );
  }

  /** The nearest key above `key` ("a/b" for "a/b/c") that is an object, if any. */
  private async objectAbove(key: string): Promise<string | undefined> {
    const parts = key.split("/");
    for (let i = 1; i < parts.length; i++) {
      const above = parts.slice(0, i).join("/");
      const stat = await fs.lstat(fileOf(this.root, above)).catch(() => undefined);
      if (stat?.isFile()) return above;
      if (!stat?.isDirectory()) return undefined;
    }
    return undefined;
  }

  /**
   * Why a write could not be put in place: the key itself appeared meanwhile (already_exists), or a
   * file sits where one of its folders should be ("a" exists and "a/b" is written: mkdir answers
   * EEXIST or ENOTDIR), or a folder sits where the file should be, or a symlink planted in the
   * store directory would redirect it.
   */
  private async commitError(key: string, target: string, err: unknown): Promise<unknown> {
    if (!(err instanceof StorageError)) return err;
    if (err.kind === "outside_roots") {
      return new StorageError(
        "outside_roots",
        `refusing to write ${q(key)}: a folder on its way in the local store's directory is a symlink (or was moved), and a write never goes through a symlink; remove it or choose another key`,
        { key, path: target, cause: err },
      );
    }
    if (err.kind === "not_a_directory" || err.kind === "invalid_argument") return await this.conflict(key, target);
    if (err.kind === "already_exists") {
      const stat = await fs.lstat(target).catch(() => undefined);
      return stat?.isFile() ? alreadyExists(key, err) : await this.conflict(key, target);
    }
    return err;
  }

  /**
   * The folder of writes in progress, by descriptor. The first time in this process, temporary
   * files a killed run left (here and among the sidecars) are removed.
   */
  private async openTmpDir(): Promise<CheckedDir> {
    const dir = await CheckedDir.open(this.tmpDir, this.confinement(this.tmpDir), { create: true }).catch((err: unknown) => {
      throw fromFsError(err, this.tmpDir, "local store directory");
    });
    this.ready ??= Promise.all([removeStaleTemps(dir), this.sidecars.removeStale()]).then(() => undefined);
    await this.ready;
    return dir;
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
