/**
 * The built CLI as a plain child process, for what needs no SDK client: --help, --version,
 * start-up errors, and tests that speak raw JSON-RPC themselves.
 */
import { type ChildProcess, type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { assertBuilt, CLI_PATH } from "./repo.js";
import { baseEnv } from "./start-client.js";

export interface ProcessResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const liveChildren = new Set<ChildProcess>();

/**
 * Runs the CLI to completion. With closeStdin false the child's stdin stays open: a CLI that
 * wrongly started serving would then never exit, and the test would fail on its timeout instead
 * of passing by accident.
 */
export function runCli(
  args: string[],
  options: { cwd: string; env?: Record<string, string>; closeStdin?: boolean },
): Promise<ProcessResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: options.cwd,
      env: options.env ?? baseEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    liveChildren.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.on("error", reject);
    child.on("close", (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
    if (options.closeStdin ?? true) child.stdin.end();
  });
}

/** Spawns the CLI for a test that speaks raw JSON-RPC itself; the child is ended by killChildren. */
export function spawnCli(args: string[], options: { cwd: string; env?: Record<string, string> }): ChildProcessWithoutNullStreams {
  assertBuilt();
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: options.cwd,
    env: options.env ?? baseEnv(),
    stdio: ["pipe", "pipe", "pipe"],
  });
  liveChildren.add(child);
  child.on("close", () => liveChildren.delete(child));
  return child;
}

/** Kills the children runCli/spawnCli started that are still running (for afterAll). */
export async function killChildren(): Promise<void> {
  await Promise.all(
    [...liveChildren].map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once("close", () => resolve());
          child.kill("SIGKILL");
        }),
    ),
  );
  liveChildren.clear();
}
