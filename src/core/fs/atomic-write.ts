/**
 * Writes that never leave a partial file and never replace an existing one by accident: bytes go
 * to a temporary file beside the target, which is put in place in one step once complete.
 */
import { randomBytes } from "node:crypto";
import { constants as fsConstants, type Stats } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { cancelledError, q, StorageError } from "../errors.js";
import { fromFsError } from "./errors.js";

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
