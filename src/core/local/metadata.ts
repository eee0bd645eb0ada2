/**
 * What a local store keeps beside the bytes: what was given at upload (a sidecar file per key,
 * only when there is something to keep: a content type the key's extension would not give, or
 * user metadata) and the ETag of each file version.
 */
import { createHash, randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { guessContentType } from "../content-type.js";
import { StorageError } from "../errors.js";
import { removeStaleTemps } from "../fs/atomic-write.js";
import { CheckedDir, type Confinement, CREATE_FLAGS, READ_FLAGS } from "../fs/descriptor.js";
import { fromFsError } from "../fs/errors.js";
import { META_DIR } from "./layout.js";

/** `<sha256>.<pid>.<12 hex>.tmp`: a sidecar being written; the pid tells a killed writer's leftovers. */
const SIDECAR_TEMP = /^[0-9a-f]{64}\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/** What an object carries besides its bytes. */
export interface ObjectMeta {
  contentType: string;
  /** User metadata (names in lower case), when there is any. */
  metadata?: Record<string, string>;
}

/** What a sidecar holds: only what the key's extension would not give. */
interface Sidecar {
  contentType?: string;
  metadata?: Record<string, string>;
}

/**
 * A sidecar's text: JSON since user metadata is kept; before, the bare content type (which never
 * starts with "{"). Anything unreadable counts as no sidecar.
 */
function parseSidecar(text: string): Sidecar | undefined {
  if (!text.startsWith("{")) return text === "" ? undefined : { contentType: text };
  try {
    const value = JSON.parse(text) as Sidecar;
    const sidecar: Sidecar = {};
    if (typeof value.contentType === "string") sidecar.contentType = value.contentType;
    if (typeof value.metadata === "object" && value.metadata !== null) {
      const entries = Object.entries(value.metadata).filter(([, v]) => typeof v === "string");
      if (entries.length > 0) sidecar.metadata = Object.fromEntries(entries);
    }
    return sidecar;
  } catch {
    return undefined;
  }
}

function isEmpty(sidecar: Sidecar | undefined): boolean {
  return sidecar?.contentType === undefined && sidecar?.metadata === undefined;
}

export class Sidecars {
  private readonly dir: string;
  constructor(
    root: string,
    private readonly confinement: (shown: string) => Confinement,
  ) {
    this.dir = path.join(root, META_DIR);
  }

  /** One flat file per key, named by the key's hash: no key can collide with another's. */
  private nameOf(key: string): string {
    return createHash("sha256").update(key).digest("hex");
  }

  /** The sidecar folder, opened by descriptor (never through a symlink planted in its place). */
  private open(create: boolean): Promise<CheckedDir> {
    return CheckedDir.open(this.dir, this.confinement(this.dir), { create });
  }

  /** The sidecar folder when it exists; undefined when it does not (nothing was ever kept). */
  private async openExisting(): Promise<CheckedDir | undefined> {
    return this.open(false).catch((err: unknown) => {
      if (err instanceof StorageError && (err.kind === "not_found" || err.kind === "not_a_directory")) return undefined;
      throw err;
    });
  }

  private async readIn(dir: CheckedDir, key: string): Promise<Sidecar | undefined> {
    const handle = await fs.open(dir.entry(this.nameOf(key)), READ_FLAGS).catch((err: unknown) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ELOOP") return undefined; // none, or a planted link (never followed)
      throw fromFsError(err, path.join(this.dir, this.nameOf(key)), "object sidecar");
    });
    if (handle === undefined) return undefined;
    try {
      return (await handle.stat()).isFile() ? parseSidecar(await handle.readFile("utf8")) : undefined;
    } finally {
      await handle.close();
    }
  }

  private async stored(key: string): Promise<Sidecar | undefined> {
    const dir = await this.openExisting();
    if (dir === undefined) return undefined;
    try {
      return await this.readIn(dir, key);
    } finally {
      await dir.close();
    }
  }

  /** The content type stored with `key` (else the one its extension gives, as S3 defaults it) and its metadata. */
  async of(key: string): Promise<ObjectMeta> {
    const stored = await this.stored(key);
    return {
      contentType: stored?.contentType ?? guessContentType(key),
      ...(stored?.metadata ? { metadata: stored.metadata } : {}),
    };
  }

  /**
   * Records what `key` is written with and returns how to put back what was there (for a write
   * whose bytes then fail to land). Each writer's temporary sidecar has a name of its own. The
   * folder is opened once for both the read and the write (a put of a file pays for this).
   */
  async replace(key: string, contentType: string | undefined, metadata?: Record<string, string>): Promise<() => Promise<void>> {
    const next: Sidecar = {};
    if (contentType !== undefined && contentType !== guessContentType(key)) next.contentType = contentType;
    if (metadata && Object.keys(metadata).length > 0) next.metadata = { ...metadata };
    const empty = isEmpty(next);
    const nothingToUndo = async () => {};
    const dir = empty ? await this.openExisting() : await this.open(true);
    if (dir === undefined) return nothingToUndo;
    try {
      const previous = await this.readIn(dir, key);
      if (empty && previous === undefined) return nothingToUndo;
      await this.writeIn(dir, key, next);
      return () => this.write(key, previous);
    } finally {
      await dir.close();
    }
  }

  private async write(key: string, sidecar: Sidecar | undefined): Promise<void> {
    const dir = isEmpty(sidecar) ? await this.openExisting().catch(() => undefined) : await this.open(true);
    if (dir === undefined) return;
    try {
      await this.writeIn(dir, key, sidecar);
    } finally {
      await dir.close();
    }
  }

  /** Puts `sidecar` in place of `key`'s (an empty one removes it). */
  private async writeIn(dir: CheckedDir, key: string, sidecar: Sidecar | undefined): Promise<void> {
    const name = this.nameOf(key);
    if (isEmpty(sidecar)) {
      await fs.unlink(dir.entry(name)).catch(() => undefined);
      return;
    }
    const tmp = `${name}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
    const handle = await fs.open(dir.entry(tmp), CREATE_FLAGS, 0o644);
    try {
      await handle.writeFile(JSON.stringify(sidecar));
    } finally {
      await handle.close();
    }
    await fs.rename(dir.entry(tmp), dir.entry(name)).catch(async (err: unknown) => {
      await fs.unlink(dir.entry(tmp)).catch(() => undefined);
      throw err;
    });
  }

  async forget(key: string): Promise<void> {
    await this.write(key, undefined);
  }

  /** Removes sidecar temps a killed run left behind. */
  async removeStale(): Promise<void> {
    const dir = await this.open(false).catch(() => undefined);
    if (dir === undefined) return;
    await removeStaleTemps(dir, SIDECAR_TEMP);
    await dir.close();
  }
}

/** The fields of a file's stat that change whenever its bytes may have. */
export interface FileVersion {
  ino: number;
  size: number;
  mtimeMs: number;
}

function stampOf(stat: FileVersion): string {
  return `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
}

/** MD5 per file version, so listings and HEADs do not re-read unchanged files. */
export class EtagCache {
  private readonly etags = new Map<string, { stamp: string; etag: string }>();

  /** The ETag of `file` at version `stat`; `read` computes it when that version is not known. */
  async of(file: string, stat: FileVersion, read: () => Promise<string>): Promise<string> {
    const stamp = stampOf(stat);
    const cached = this.etags.get(file);
    if (cached?.stamp === stamp) return cached.etag;
    const etag = await read();
    this.etags.set(file, { stamp, etag });
    return etag;
  }

  /** Records the MD5 computed while writing `file`, so the first HEAD does not read it back. */
  remember(file: string, stat: FileVersion, etag: string): void {
    this.etags.set(file, { stamp: stampOf(stat), etag });
  }

  forget(file: string): void {
    this.etags.delete(file);
  }

  clear(): void {
    this.etags.clear();
  }
}
