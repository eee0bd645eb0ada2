/**
 * A file descriptor with the few FileHandle methods r2-mcp's reads and writes use, on Node's
 * callback API: for the many small files of a directory transfer each call costs less than
 * through fs/promises' FileHandle (about 100 µs a downloaded file here; nodejs/performance#151).
 *
 * Like a FileHandle, it never lets its number be used once closed: close() waits for the
 * operations in flight, runs once however often it is called, and any operation asked for after
 * it fails with EBADF instead of reaching a number that may belong to another file by then.
 */
import fs, { type BigIntStats, type Stats } from "node:fs";
import type { Readable } from "node:stream";

function closedError(): NodeJS.ErrnoException {
  return Object.assign(new Error("EBADF: file already closed"), { code: "EBADF", errno: -9, syscall: "fd" });
}

type Callback<T> = (err: NodeJS.ErrnoException | null, value: T) => void;

export class FdFile {
  /** Set once close() was asked for (or a stream took the descriptor over). */
  private closed = false;
  private closing: Promise<void> | undefined;
  private inFlight = 0;
  private drained: (() => void) | undefined;

  private constructor(readonly fd: number) {}

  static open(path: string, flags: number, mode: number): Promise<FdFile> {
    return new Promise((resolve, reject) => fs.open(path, flags, mode, (err, fd) => (err ? reject(err) : resolve(new FdFile(fd)))));
  }

  /** Runs one callback-API call on the descriptor, counted as in flight until it answers. */
  private call<T>(start: (done: Callback<T>) => void): Promise<T> {
    if (this.closed) return Promise.reject(closedError());
    this.inFlight++;
    return new Promise<T>((resolve, reject) =>
      start((err, value) => {
        if (--this.inFlight === 0) this.drained?.();
        if (err) reject(err);
        else resolve(value);
      }),
    );
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.call<number>((done) => fs.read(this.fd, buffer, offset, length, position, done)).then((bytesRead) => ({ bytesRead }));
  }

  writev(buffers: readonly NodeJS.ArrayBufferView[], position: number): Promise<{ bytesWritten: number }> {
    return this.call<number>((done) => fs.writev(this.fd, buffers, position, done)).then((bytesWritten) => ({ bytesWritten }));
  }

  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    return this.call<number>((done) => fs.write(this.fd, buffer, offset, length, position, done)).then((bytesWritten) => ({
      bytesWritten,
    }));
  }

  sync(): Promise<void> {
    return this.call<void>((done) => fs.fsync(this.fd, (err) => done(err, undefined)));
  }

  stat(): Promise<Stats>;
  stat(options: { bigint: true }): Promise<BigIntStats>;
  stat(options?: { bigint: true }): Promise<Stats | BigIntStats> {
    return options?.bigint
      ? this.call<BigIntStats>((done) => fs.fstat(this.fd, { bigint: true }, done))
      : this.call<Stats>((done) => fs.fstat(this.fd, done));
  }

  utimes(atime: number, mtime: number): Promise<void> {
    return this.call<void>((done) => fs.futimes(this.fd, atime, mtime, (err) => done(err, undefined)));
  }

  /**
   * Bytes [start, end] (end inclusive) as a stream that takes the descriptor over: the stream
   * closes it, once, when it ends, fails or is destroyed, and this object never closes it again
   * (an fs stream closes its descriptor on destroy() whatever autoClose says, so two owners would
   * close the number twice, the second time perhaps another file's).
   */
  createReadStream(options: { start: number; end: number; signal?: AbortSignal }): Readable {
    if (this.closed) throw closedError();
    this.closed = true;
    this.closing = Promise.resolve();
    return fs.createReadStream("", { fd: this.fd, autoClose: true, ...options });
  }

  /** Closes the descriptor once the operations in flight have answered; later calls wait for the same. */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    this.closed = true;
    const idle = this.inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.drained = resolve));
    this.closing = idle.then(() => new Promise<void>((resolve, reject) => fs.close(this.fd, (err) => (err ? reject(err) : resolve()))));
    return this.closing;
  }
}
