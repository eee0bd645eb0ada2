/**
 * rclone as a yardstick: Debian's package (`apt-get install rclone`), configured only through
 * environment variables for a remote named "bench" pointing at the local server.
 */
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { BENCH_CREDENTIALS, BENCH_REGION } from "./raw-sdk.js";

export const RCLONE_HINT = "rclone not installed: apt-get install rclone";

export interface RcloneInfo {
  path: string;
  version: string;
}

export function findRclone(): RcloneInfo | undefined {
  const which = spawnSync("which", ["rclone"], { encoding: "utf8" });
  const found = which.status === 0 ? which.stdout.trim() : "";
  if (!found) return undefined;
  const version = spawnSync(found, ["version"], { encoding: "utf8", timeout: 10_000 });
  return { path: found, version: (version.stdout ?? "").split("\n")[0]?.trim() ?? "unknown" };
}

export class Rclone {
  private readonly env: NodeJS.ProcessEnv;

  constructor(
    readonly info: RcloneInfo,
    endpoint: string,
    workDir: string,
  ) {
    // An empty config file: nothing from ~/.config/rclone leaks in, and rclone does not warn.
    const config = path.join(workDir, "rclone.conf");
    writeFileSync(config, "");
    this.env = {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: workDir,
      RCLONE_CONFIG: config,
      RCLONE_CONFIG_BENCH_TYPE: "s3",
      RCLONE_CONFIG_BENCH_PROVIDER: "Other",
      RCLONE_CONFIG_BENCH_ENDPOINT: endpoint,
      RCLONE_CONFIG_BENCH_REGION: BENCH_REGION,
      RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
      RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
      RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE: "true",
      // The bucket exists; don't try to create it on every run.
      RCLONE_CONFIG_BENCH_NO_CHECK_BUCKET: "true",
    };
  }

  /**
   * Runs one rclone command; resolves with its wall time (s) and its CPU time (s, from its start;
   * undefined where /proc is missing) or rejects with the tail of stderr. Killed (by its own pid)
   * after `timeoutMs`.
   */
  run(args: string[], timeoutMs: number): Promise<{ seconds: number; cpuSeconds: number | undefined }> {
    return new Promise((resolve, reject) => {
      const cpu0 = reapedChildrenCpu();
      const t0 = performance.now();
      const child = spawn(this.info.path, [...args, "--retries", "1", "--low-level-retries", "2"], {
        env: this.env,
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => {
        stderr = (stderr + chunk.toString("utf8")).slice(-4000);
      });
      const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
      child.on("error", (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on("close", (code, signal) => {
        clearTimeout(timer);
        const seconds = (performance.now() - t0) / 1000;
        const cpu1 = reapedChildrenCpu();
        if (code === 0) resolve({ seconds, cpuSeconds: cpu0 !== undefined && cpu1 !== undefined ? cpu1 - cpu0 : undefined });
        else {
          const why = signal ? `killed by ${signal}${signal === "SIGKILL" ? ` after ${timeoutMs / 1000} s` : ""}` : `exit ${code}`;
          const lastLines = stderr.trim().split("\n").slice(-3).join(" | ");
          reject(new Error(`rclone ${args[0]} failed (${why}): ${lastLines}`));
        }
      });
    });
  }
}

/**
 * CPU time (s) of this process's children that have ended and been waited for: cutime + cstime of
 * /proc/self/stat, in clock ticks of 10 ms. Node reaps a child before its "close" event, so the
 * difference around one rclone run is that run's CPU. The bench's other children are not in it: the
 * S3 server and the MCP servers live on, a fresh MCP server is waited for when its call closes, and
 * the untimed `sync` runs before the window opens.
 */
function reapedChildrenCpu(): number | undefined {
  try {
    const fields = (readFileSync("/proc/self/stat", "utf8").split(") ")[1] ?? "").split(" ");
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return undefined;
  }
}
