/**
 * File times set through a descriptor. Node hands a time to the system as a double of seconds,
 * which near today's epoch is only good to about a quarter of a microsecond, and the libuv of
 * Node 20 also cuts it to whole microseconds (truncating, so an exact value often lands one
 * microsecond early). rclone compares times to the nanosecond: where that matters, GNU touch
 * sets the exact time on the same descriptor (`touch -` acts on its standard output).
 */
import { spawn } from "node:child_process";
import { type BigIntStats, existsSync, type Stats } from "node:fs";
import fs from "node:fs/promises";
import { fromFsError } from "./errors.js";

const NS_PER_SECOND = 1_000_000_000n;

/** An open file whose times are set: a fs/promises FileHandle, or a temporary file's FdFile. */
interface TimedFile {
  readonly fd: number;
  utimes(atime: number, mtime: number): Promise<void>;
  stat(options: { bigint: true }): Promise<BigIntStats>;
}

/** The double nearest to `ns` in seconds. */
function nearestSeconds(ns: bigint): number {
  return Number(ns / NS_PER_SECOND) + Number(ns % NS_PER_SECOND) / 1e9;
}

/** Half a microsecond past `ns`'s microsecond: what a libuv that cuts to microseconds lands exactly on. */
function cutSeconds(ns: bigint): number {
  return Number(ns / 1000n) / 1e6 + 5e-7;
}

/** Whether this process's libuv cuts times to whole microseconds; learnt from the first time set. */
let cutsToMicroseconds: boolean | undefined;

async function mtimeOf(handle: TimedFile): Promise<bigint> {
  return (await handle.stat({ bigint: true })).mtimeNs;
}

async function setNearest(handle: TimedFile, ns: bigint): Promise<bigint> {
  if (cutsToMicroseconds !== false) {
    const seconds = cutSeconds(ns);
    await handle.utimes(seconds, seconds);
    const got = await mtimeOf(handle);
    // A libuv that cuts lands on the microsecond itself; one that does not lands about 0.5 µs past it.
    cutsToMicroseconds ??= got === (ns / 1000n) * 1000n;
    if (cutsToMicroseconds) return got;
  }
  const seconds = nearestSeconds(ns);
  await handle.utimes(seconds, seconds);
  return mtimeOf(handle);
}

const TOUCH = ["/usr/bin/touch", "/bin/touch"].find((candidate) => existsSync(candidate));
let touchWorks = TOUCH !== undefined;

/** GNU touch on the descriptor itself (its standard output): the exact nanosecond, or false. */
function touchExactly(handle: TimedFile, ns: bigint): Promise<boolean> {
  if (!touchWorks || TOUCH === undefined || ns < 0n) return Promise.resolve(false);
  const stamp = `@${ns / NS_PER_SECOND}.${(ns % NS_PER_SECOND).toString().padStart(9, "0")}`;
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(TOUCH, ["-d", stamp, "-"], {
        stdio: ["ignore", handle.fd, "ignore"],
        env: { PATH: "/usr/bin:/bin", LC_ALL: "C" },
      });
    } catch {
      resolve(false); // no process to be had (too many open files...): the time stays within a microsecond
      return;
    }
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    let failedToStart = false;
    child.once("error", (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      failedToStart = true;
      if (err.code === "ENOENT" || err.code === "EACCES") touchWorks = false; // not a passing shortage
      resolve(false);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      if (failedToStart) return;
      if (code !== 0) touchWorks = false; // not GNU touch (or it hung): never tried again
      resolve(code === 0);
    });
  });
}

/**
 * Sets the access and modification times of the open file to `ns` (nanoseconds since the epoch):
 * as near as Node can (within a microsecond), and with `exact` to the nanosecond where GNU touch
 * is at hand. Returns the modification time the file now has; `shown` names it in errors.
 */
export async function setFileTimes(handle: TimedFile, ns: bigint, shown: string, options: { exact?: boolean } = {}): Promise<bigint> {
  try {
    const got = await setNearest(handle, ns);
    if (got === ns || !options.exact || !(await touchExactly(handle, ns))) return got;
    return await mtimeOf(handle);
  } catch (err) {
    throw fromFsError(err, shown);
  }
}

/**
 * The seconds stampFileTimes gives a file for `ns`, for a caller setting them itself (small-files.ts);
 * undefined until this process has learnt how its libuv cuts times (the first file stamped).
 */
export function stampSeconds(ns: bigint): number | undefined {
  if (cutsToMicroseconds === undefined) return undefined;
  return cutsToMicroseconds ? cutSeconds(ns) : nearestSeconds(ns);
}

/**
 * setFileTimes without reading the time back (one system call instead of two, per downloaded
 * file): to within a microsecond, the same time setFileTimes sets without `exact`.
 */
export async function stampFileTimes(handle: TimedFile, ns: bigint, shown: string): Promise<void> {
  if (cutsToMicroseconds === undefined) {
    await setFileTimes(handle, ns, shown);
    return;
  }
  const seconds = cutsToMicroseconds ? cutSeconds(ns) : nearestSeconds(ns);
  try {
    await handle.utimes(seconds, seconds);
  } catch (err) {
    throw fromFsError(err, shown);
  }
}

/**
 * Gives `at` (a file just created, reached through a folder's descriptor; never a symlink
 * followed) the times of `stat`, to the microsecond: for a copy that stands in for a link.
 */
export async function copyFileTimes(at: string, stat: Stats): Promise<void> {
  const seconds = (ms: number) => {
    const ns = BigInt(Math.round(ms * 1000)) * 1000n;
    return cutsToMicroseconds === false ? nearestSeconds(ns) : cutSeconds(ns);
  };
  await fs.lutimes(at, seconds(stat.atimeMs), seconds(stat.mtimeMs));
}
