/**
 * aws-cli and rclone pointed at the suite's own S3 server (fauxqs on 127.0.0.1) with made-up
 * credentials, for interop tests. Neither sees the user's configuration: each runs with a small
 * environment of its own (HOME, config files and credentials in a temp directory), never the
 * caller's (AWS_CA_BUNDLE and friends would change how they connect).
 */
import { spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import path from "node:path";
import type { S3TestServer } from "./s3-server.js";

/** The absolute path of `name` on PATH, or undefined when it is not installed. */
export function findTool(name: string): string | undefined {
  const found = spawnSync("which", [name], { encoding: "utf8" });
  return found.status === 0 ? found.stdout.trim() || undefined : undefined;
}

export interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `file` with `args` in `env`, killed (by its own pid) after `timeoutMs`; never throws on a non-zero exit. */
export function runTool(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A PATH holding the tool's own folder (pyenv shims need it) and the system's. */
function pathFor(tool: string): string {
  return [path.dirname(tool), "/usr/local/bin", "/usr/bin", "/bin"].join(":");
}

/** aws-cli against `server`: `aws(args)` runs `aws --endpoint-url ... args`. */
export function awsCli(tool: string, server: S3TestServer, workDir: string) {
  const config = path.join(workDir, "aws-config");
  const credentials = path.join(workDir, "aws-credentials");
  writeFileSync(config, "");
  writeFileSync(credentials, "");
  const env: NodeJS.ProcessEnv = {
    PATH: pathFor(tool),
    HOME: workDir,
    TZ: "UTC",
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
    AWS_DEFAULT_REGION: server.region,
    AWS_EC2_METADATA_DISABLED: "true",
    ...(process.env.PYENV_ROOT ? { PYENV_ROOT: process.env.PYENV_ROOT } : {}),
    ...(process.env.PYENV_VERSION ? { PYENV_VERSION: process.env.PYENV_VERSION } : {}),
  };
  return (args: string[]) => runTool(tool, ["--endpoint-url", server.endpoint, ...args], env);
}

/** The remote name rclone knows `server` by: `${RCLONE_REMOTE}:bucket/key`. */
export const RCLONE_REMOTE = "fauxqs";

/** rclone against `server`, configured by environment only, over an empty config file. */
export function rclone(tool: string, server: S3TestServer, workDir: string) {
  const config = path.join(workDir, "rclone.conf");
  writeFileSync(config, "");
  const env: NodeJS.ProcessEnv = {
    PATH: pathFor(tool),
    HOME: workDir,
    TZ: "UTC",
    RCLONE_CONFIG: config,
    RCLONE_CONFIG_FAUXQS_TYPE: "s3",
    RCLONE_CONFIG_FAUXQS_PROVIDER: "Other",
    RCLONE_CONFIG_FAUXQS_ENDPOINT: server.endpoint,
    RCLONE_CONFIG_FAUXQS_REGION: server.region,
    RCLONE_CONFIG_FAUXQS_ACCESS_KEY_ID: server.credentials.accessKeyId,
    RCLONE_CONFIG_FAUXQS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
    RCLONE_CONFIG_FAUXQS_FORCE_PATH_STYLE: "true",
    RCLONE_CONFIG_FAUXQS_NO_CHECK_BUCKET: "true",
  };
  return (args: string[]) => runTool(tool, [...args, "--retries", "1", "--low-level-retries", "2"], env);
}
