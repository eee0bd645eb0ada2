/**
 * The folders one download writes into, each opened and checked by descriptor once (created if
 * missing, never through a symlink; temporary files a killed run left there removed) and held
 * open while its files are written, instead of opened, checked and closed again for every file.
 * Every file is still created, put in place and re-checked through that descriptor (see
 * atomic-write.ts), so a folder swapped or moved meanwhile is caught exactly as before.
 * An upload holds the folders it reads the same way (`reading`: never created, nothing swept),
 * and opens each file through its folder's descriptor (OpenFile.openIn).
 */
import { removeStaleTemps } from "./atomic-write.js";
import { CheckedDir, type Confinement } from "./descriptor.js";
import { canFlushAtEnd, type EarlyFlush, flushEarly, flushPlaced } from "./flush.js";

interface Held {
  opening: Promise<CheckedDir>;
  users: number;
}

/**
 * Files this large start their flush (fsync) as soon as they are placed, while the rest of the
 * download runs, so that writing their bytes out overlaps the transfers instead of waiting for the
 * one flush at the end.
 */
const FLUSH_EARLY_FROM = 1024 * 1024;

/** Folders kept open once no file is being written into them (a listing groups a folder's keys). */
const KEEP_IDLE = 32;

export class OpenFolders {
  private readonly held = new Map<string, Held>();
  /** One folder per filesystem written to (by device), and every file placed: what close() flushes. */
  private readonly filesystems = new Map<number, string>();
  private readonly placed: string[] = [];
  /** The flushes of large files started as they were placed (see FLUSH_EARLY_FROM); close() waits for them. */
  private readonly early: EarlyFlush[] = [];
  /**
   * True when the files are flushed to disk together by close() (see flush.ts), so each file
   * need not be flushed before it is placed.
   */
  readonly flushAtEnd: boolean;

  /** Whether missing folders are created and swept of stale temporary files (a download's), or only opened (files read). */
  private readonly forWriting: boolean;

  constructor(options: { flushAtEnd?: boolean; reading?: boolean } = {}) {
    this.flushAtEnd = (options.flushAtEnd ?? false) && canFlushAtEnd();
    this.forWriting = !options.reading;
  }

  /**
   * Records a file of `size` bytes put in place unflushed inside one of these folders (flushAtEnd):
   * a large one starts its own flush now, the others are flushed by close(). A large file is not
   * left to the filesystem's flush: syncfs also writes out whatever other programs left unwritten
   * on that filesystem, which a download of only large files need not wait for.
   */
  wrote(file: string, size: number): void {
    if (!this.flushAtEnd) return;
    if (size < FLUSH_EARLY_FROM) {
      this.placed.push(file);
      return;
    }
    this.early.push(flushEarly(file));
  }

  /**
   * Runs `use` with folder `dir` (a real path inside the roots) opened; `c` names the file being
   * written or read. `orElse`, if given, runs instead when the folder cannot be opened as checked
   * (gone, or swapped for a symlink): a reader then opens its file by path, checked on its own.
   */
  async with<T>(dir: string, c: Confinement, use: (folder: CheckedDir) => Promise<T>, orElse?: () => Promise<T>): Promise<T> {
    let entry = this.held.get(dir);
    if (entry === undefined) {
      const opening = CheckedDir.open(dir, c, { create: this.forWriting }).then(async (folder) => {
        if (this.flushAtEnd) {
          const { dev } = await folder.handle.stat();
          if (!this.filesystems.has(dev)) this.filesystems.set(dev, folder.path);
        }
        if (this.forWriting) await removeStaleTemps(folder);
        return folder;
      });
      const created: Held = { opening, users: 0 };
      entry = created;
      this.held.set(dir, entry);
      // A folder that could not be opened is tried again by the next file, not remembered as failed.
      opening.catch(() => {
        if (this.held.get(dir) === created) this.held.delete(dir);
      });
    }
    entry.users++;
    try {
      let folder: CheckedDir;
      try {
        folder = await entry.opening;
      } catch (err) {
        if (orElse === undefined) throw err;
        return await orElse();
      }
      return await use(folder);
    } finally {
      entry.users--;
      this.trim();
    }
  }

  /** Closes idle folders beyond KEEP_IDLE, oldest first, so a download of many folders holds few descriptors. */
  private trim(): void {
    if (this.held.size <= KEEP_IDLE) return;
    for (const [dir, entry] of this.held) {
      if (this.held.size <= KEEP_IDLE) break;
      if (entry.users > 0) continue;
      this.held.delete(dir);
      void entry.opening.then(
        (folder) => folder.close(),
        () => undefined,
      );
    }
  }

  /**
   * Closes every folder (once no file is being written), then flushes the files placed when
   * flushAtEnd: waits for the flushes started early, then flushes the filesystems (or each file).
   */
  async close(): Promise<void> {
    const entries = [...this.held.values()];
    this.held.clear();
    await Promise.all(
      entries.map((e) =>
        e.opening.then(
          (folder) => folder.close(),
          () => undefined,
        ),
      ),
    );
    const placed = this.placed.splice(0);
    const early = this.early.splice(0);
    if (placed.length > 0 || early.length > 0) await flushPlaced([...this.filesystems.values()], placed, early);
  }
}
