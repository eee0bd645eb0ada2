/**
 * What a local store keeps beside the bytes: the content type given at upload (a sidecar file
 * per key, only when the key's extension would not give it) and the ETag of each file version.
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { guessContentType } from "../content-type.js";
import { md5File } from "../fs/hash.js";
import { META_DIR } from "./layout.js";

export class ContentTypes {
  constructor(private readonly root: string) {}

  /** One flat file per key, named by the key's hash: no key can collide with another's. */
  private fileOf(key: string): string {
    return path.join(this.root, META_DIR, createHash("sha256").update(key).digest("hex"));
  }

  /** The content type stored with `key`, else the one its extension gives (as S3 defaults it). */
  async of(key: string): Promise<string> {
    const stored = await fs.readFile(this.fileOf(key), "utf8").catch(() => undefined);
    return stored ?? guessContentType(key);
  }

  async save(key: string, contentType: string | undefined): Promise<void> {
    const file = this.fileOf(key);
    if (contentType === undefined || contentType === guessContentType(key)) {
      await fs.rm(file, { force: true });
      return;
    }
    await fs.mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
    await fs.writeFile(tmp, contentType);
    await fs.rename(tmp, file);
  }

  async forget(key: string): Promise<void> {
    await fs.rm(this.fileOf(key), { force: true });
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

  async of(file: string, stat: FileVersion): Promise<string> {
    const stamp = stampOf(stat);
    const cached = this.etags.get(file);
    if (cached?.stamp === stamp) return cached.etag;
    const etag = await md5File(file);
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
