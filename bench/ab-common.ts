/** What the two-build comparisons (ab.ts, local-side.ts) share: their common options and CPU time by thread. */
import { readdirSync, readFileSync } from "node:fs";

/**
 * CPU time of every thread so far (µs), by group: "main" (this process's main thread), the name a
 * thread carries where it has one worth keeping apart (Node 22+ names worker threads after their
 * `name` option: "r2-mcp files", "r2-mcp md5"), and "others" for the rest (libuv's pool, V8's).
 */
export function threadCpuUs(): Map<string, number> {
  const out = new Map<string, number>([
    ["main", 0],
    ["others", 0],
  ]);
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const fields = (stat.split(") ")[1] ?? "").split(" ");
      const us = (Number(fields[11]) + Number(fields[12])) * (1e6 / 100);
      const comm = readFileSync(`/proc/self/task/${tid}/comm`, "utf8").trim();
      const group = Number(tid) === process.pid ? "main" : comm.startsWith("r2-mcp") ? comm : "others";
      out.set(group, (out.get(group) ?? 0) + us);
    } catch {
      // a thread that ended meanwhile
    }
  }
  return out;
}

/** What each group used between two readings, per `per` (e.g. µs per file). */
export function threadCpuSince(before: Map<string, number>, per: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const [group, us] of threadCpuUs()) out.set(group, (us - (before.get(group) ?? 0)) / per);
  return out;
}

/** The options both comparisons take (parseArgs): two builds, rounds, the files and how many at once. */
export const AB_OPTIONS = {
  a: { type: "string" },
  b: { type: "string" },
  rounds: { type: "string", default: "8" },
  files: { type: "string", default: "1000" },
  size: { type: "string", default: "4096" },
  concurrency: { type: "string", default: "16" },
  direction: { type: "string", default: "download" },
} as const;
