/**
 * A file descriptor with the few FileHandle methods r2-mcp's reads and writes use, on Node's
 * callback API: for the many small files of a directory transfer each call costs less than
 * through fs/promises' FileHandle (about 100 µs a downloaded file here; nodejs/performance#151).
 * Closing is idempotent, so a descriptor number is never closed twice (it may belong to another
 * file by then).
 */
import fs, { type BigIntStats, type Stats } from "node:fs";
import type { Readable } from "node:stream";

function settle<T>(resolve: (value: T) => void, reject: (err: Error) => void) {
  return (err: NodeJS.ErrnoException | null, value: T) => (err ? reject(err) : resolve(value));
}

export class FdFile {
  private closed = false;

  private constructor(readonly fd: number) {}

  static open(path: string, flags: number, mode: number): Promise<FdFile> {
    return new Promise((resolve, reject) =>
      fs.open(
        path,
        flags,
        mode,
        settle((fd: number) => resolve(new FdFile(fd)), reject),
      ),
    );
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return new Promise((resolve, reject) =>
      fs.read(
        this.fd,
        buffer,
        offset,
        length,
        position,
        settle((bytesRead: number) => resolve({ bytesRead }), reject),
      ),
    );
  }

  /**
   * Bytes [start, end] (end inclusive) as a stream that takes the descriptor over: the stream
   * closes it, once, when it ends, fails or is destroyed, and this object never closes it again
   * (an fs stream closes its descriptor on destroy() whatever autoClose says, so two owners would
   * close the number twice, the second time perhaps another file's).
   */
  createReadStream(options: { start: number; end: number; signal?: AbortSignal }): Readable {
    this.closed = true;
    return fs.createReadStream("", { fd: this.fd, autoClose: true, ...options });
  }

  writev(buffers: readonly NodeJS.ArrayBufferView[], position: number): Promise<{ bytesWritten: number }> {
    return new Promise((resolve, reject) =>
      fs.writev(
        this.fd,
        buffers,
        position,
        settle((bytesWritten: number) => resolve({ bytesWritten }), reject),
      ),
    );
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    return new Promise((resolve, reject) =>
      fs.write(
        this.fd,
        buffer,
        offset,
        length,
        position,
        settle((bytesWritten: number) => resolve({ bytesWritten }), reject),
      ),
    );
  }

  sync(): Promise<void> {
    return new Promise((resolve, reject) => fs.fsync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  stat(): Promise<Stats>;
  stat(options: { bigint: true }): Promise<BigIntStats>;
  stat(options?: { bigint: true }): Promise<Stats | BigIntStats> {
    return new Promise((resolve, reject) =>
      options?.bigint ? fs.fstat(this.fd, { bigint: true }, settle(resolve, reject)) : fs.fstat(this.fd, settle(resolve, reject)),
    );
  }

  utimes(atime: number, mtime: number): Promise<void> {
    return new Promise((resolve, reject) => fs.futimes(this.fd, atime, mtime, (err) => (err ? reject(err) : resolve())));
  }

  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve, reject) => fs.close(this.fd, (err) => (err ? reject(err) : resolve())));
  }
}
