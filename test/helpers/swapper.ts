/**
 * Bounded helpers for race tests, compiled with gcc at test time (tests skip, saying why, when gcc
 * or the system call is missing):
 *  - swap COUNT A1 B1 [A2 B2 ...]: exchanges each pair of paths with renameat2(RENAME_EXCHANGE)
 *    (atomic: both names always exist), pair after pair, COUNT exchanges in all, then exits;
 *  - flip COUNT FILE SIZE_A SIZE_B: rewrites FILE in place COUNT times, alternately SIZE_A bytes
 *    of 'a' and SIZE_B bytes of 'b' (truncated first), so readers meet every in-between state.
 * Every loop is bounded by its count; a test stops a helper early (by its own pid) once its rounds are done.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import path from "node:path";

const SOURCE = String.raw`
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

static int swap(long count, int pairs, char **paths) {
  for (long i = 0; i < count; i++) {
    char **pair = paths + 2 * (i % pairs);
    if (syscall(SYS_renameat2, AT_FDCWD, pair[0], AT_FDCWD, pair[1], RENAME_EXCHANGE) != 0) {
      perror("renameat2");
      return 1;
    }
  }
  return 0;
}

static int flip(long count, const char *file, long a, long b) {
  long most = a > b ? a : b;
  char *bytes = malloc(most);
  if (!bytes) return 1;
  for (long i = 0; i < count; i++) {
    long size = i % 2 ? b : a;
    memset(bytes, i % 2 ? 'b' : 'a', size);
    int fd = open(file, O_WRONLY | O_TRUNC);
    if (fd < 0) { perror("open"); return 1; }
    for (long done = 0; done < size;) {
      long n = write(fd, bytes + done, size - done > 65536 ? 65536 : size - done);
      if (n <= 0) { perror("write"); return 1; }
      done += n;
    }
    close(fd);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 5 && strcmp(argv[1], "swap") == 0 && argc % 2 == 1) return swap(atol(argv[2]), (argc - 3) / 2, argv + 3);
  if (argc == 6 && strcmp(argv[1], "flip") == 0) return flip(atol(argv[2]), argv[3], atol(argv[4]), atol(argv[5]));
  fprintf(stderr, "usage: race swap COUNT A B [A B ...] | race flip COUNT FILE SIZE_A SIZE_B\n");
  return 2;
}
`;

/** The compiled helper, or why it cannot be built here (the tests then skip with that reason). */
export async function buildRaceHelper(dir: string): Promise<{ bin: string } | { skip: string }> {
  if (process.platform !== "linux") return { skip: "renameat2(RENAME_EXCHANGE) is Linux-only" };
  const source = path.join(dir, "race.c");
  const bin = path.join(dir, "race");
  await writeFile(source, SOURCE);
  try {
    execFileSync("gcc", ["-O2", "-o", bin, source], { stdio: "pipe" });
  } catch (err) {
    return { skip: `gcc could not build the race helper: ${(err as Error).message.split("\n")[0]}` };
  }
  return { bin };
}

export interface RunningHelper {
  /** Ends the helper (if still running) and resolves once it has exited. */
  stop(): Promise<void>;
}

export function startHelper(bin: string, args: string[]): RunningHelper {
  const child: ChildProcess = spawn(bin, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    async stop() {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, "SIGTERM");
      await exited;
      if (child.exitCode !== null && child.exitCode !== 0) throw new Error(`race helper failed: ${stderr}`);
    },
  };
}

/** Exchanges each pair of paths, `count` exchanges in all (pair after pair). */
export function startSwapping(bin: string, count: number, pairs: [string, string][]): RunningHelper {
  return startHelper(bin, ["swap", String(count), ...pairs.flat()]);
}

/** Rewrites `file` in place `count` times, alternately `sizeA` bytes of 'a' and `sizeB` bytes of 'b'. */
export function startFlipping(bin: string, count: number, file: string, sizeA: number, sizeB: number): RunningHelper {
  return startHelper(bin, ["flip", String(count), file, String(sizeA), String(sizeB)]);
}
