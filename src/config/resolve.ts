/**
 * Configuration: flags > environment > defaults, resolved by one pure function so every rule is
 * unit-tested. Every error names the setting and every place it can come from, and never
 * echoes a secret.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { type BucketConfig, ConfigError, intersectPrefixes, resolveBuckets } from "./buckets.js";
import { firstSet } from "./env.js";

export const LOG_LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/** --confirm: ask a person before data is destroyed when the client can (auto), insist (always), or never. */
export const CONFIRM_MODES = ["auto", "always", "never"] as const;
export type ConfirmMode = (typeof CONFIRM_MODES)[number];

export interface Config {
  /** Every bucket served, in order (the first is the default), each with its effective policy. */
  buckets: BucketConfig[];
  /** Local roots, absolute. */
  roots: string[];
  /** True when roots came from --root or R2_MCP_ROOTS (then client roots do not replace them). */
  rootsExplicit: boolean;
  /** Server-wide --read-only: every bucket is read-only. */
  readOnly: boolean;
  /** Server-wide --allow-prefix (empty: all keys); already folded into each bucket's allowPrefixes. */
  allowPrefixes: string[];
  logLevel: LogLevel;
  /** Whether to ask the person before data is destroyed. */
  confirm: ConfirmMode;
  /** Total attempts per S3 request. */
  maxAttempts: number;
}

export type CliAction = { action: "help" } | { action: "version" } | { action: "serve"; config: Config };

function truthy(value: string | undefined, name: string): boolean {
  if (value === undefined || value === "") return false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be 1/true or 0/false; got ${JSON.stringify(value)}`);
}

function parseCliArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    // Directories after the options are roots too, so that a host can pass a list of folders
    // one argument each (an MCP Bundle expands a multiple-directory setting that way).
    allowPositionals: true,
    options: {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
      bucket: { type: "string", multiple: true },
      config: { type: "string" },
      endpoint: { type: "string" },
      region: { type: "string" },
      local: { type: "string" },
      root: { type: "string", multiple: true },
      "read-only": { type: "boolean" },
      "allow-prefix": { type: "string", multiple: true },
      "log-level": { type: "string" },
      confirm: { type: "string" },
      "max-attempts": { type: "string" },
    },
  });
}

/** The home directory as the environment names it (HOME, or USERPROFILE on Windows). */
export function homeOf(env: NodeJS.ProcessEnv): string | undefined {
  return env.HOME || env.USERPROFILE || undefined;
}

/**
 * The roots when none is given: the working directory, unless it is the filesystem root or the
 * home directory itself. Hosts start servers in / (the whole disk) or in the home directory (every
 * credential file in it): there, nothing local is allowed until --root says what is.
 */
export function defaultRoots(cwd: string, home: string | undefined): string[] {
  const dir = path.resolve(cwd);
  if (path.dirname(dir) === dir) return [];
  if (home !== undefined && dir === path.resolve(home)) return [];
  return [dir];
}

/** Pure: argv (without node and script), environment and working directory in, action out. */
export function resolveConfig(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
  cwd: string,
  /** Reads --config FILE (the one read this function makes; tests pass their own). */
  readFile: (file: string) => string = (file) => readFileSync(file, "utf8"),
): CliAction {
  let parsed: ReturnType<typeof parseCliArgs>;
  try {
    parsed = parseCliArgs(argv);
  } catch (err) {
    throw new ConfigError(`${(err as Error).message.split("\n")[0]}; see r2-mcp --help`);
  }
  const v = parsed.values;
  if (v.help) return { action: "help" };
  if (v.version) return { action: "version" };

  const configPath = v.config ?? firstSet(env, ["R2_MCP_CONFIG"])?.value;
  let configFile: { path: string; text: string } | undefined;
  if (configPath !== undefined) {
    const file = path.resolve(cwd, configPath);
    try {
      configFile = { path: file, text: readFile(file) };
    } catch (err) {
      throw new ConfigError(`--config ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? "error"}); check the path`);
    }
  }
  const buckets = resolveBuckets(v, env, cwd, configFile);

  const rootsFromEnv = firstSet(env, ["R2_MCP_ROOTS"])?.value.split(path.delimiter).filter(Boolean);
  // Blank positionals are what a host leaves for a folder setting the person did not fill.
  const positionalRoots = parsed.positionals.filter((r) => r.trim() !== "");
  const flagRoots = v.root || positionalRoots.length > 0 ? [...(v.root ?? []), ...positionalRoots] : undefined;
  const rootList = flagRoots ?? rootsFromEnv;
  if (rootList?.some((r) => r.trim() === "")) throw new ConfigError("--root needs a directory");
  const roots = (rootList ?? defaultRoots(cwd, homeOf(env))).map((r) => path.resolve(cwd, r));

  const allowPrefixes = v["allow-prefix"] ?? firstSet(env, ["R2_MCP_ALLOW_PREFIXES"])?.value.split(",").filter(Boolean) ?? [];
  if (allowPrefixes.some((p) => p === "" || p.includes("\0"))) throw new ConfigError("--allow-prefix needs a non-empty key prefix");

  const level = v["log-level"] ?? firstSet(env, ["R2_MCP_LOG_LEVEL"])?.value ?? "warning";
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`log level ${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(", ")} (--log-level, R2_MCP_LOG_LEVEL)`);
  }

  const confirm = v.confirm ?? firstSet(env, ["R2_MCP_CONFIRM"])?.value ?? "auto";
  if (!(CONFIRM_MODES as readonly string[]).includes(confirm)) {
    throw new ConfigError(`confirm ${JSON.stringify(confirm)} is not one of ${CONFIRM_MODES.join(", ")} (--confirm, R2_MCP_CONFIRM)`);
  }

  const attemptsText = v["max-attempts"] ?? firstSet(env, ["R2_MCP_MAX_ATTEMPTS"])?.value ?? "5";
  const maxAttempts = Number(attemptsText);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 20) {
    throw new ConfigError(
      `max attempts must be an integer from 1 to 20; got ${JSON.stringify(attemptsText)} (--max-attempts, R2_MCP_MAX_ATTEMPTS)`,
    );
  }

  const readOnly = v["read-only"] === true || truthy(firstSet(env, ["R2_MCP_READ_ONLY"])?.value, "R2_MCP_READ_ONLY");
  // Server-wide flags narrow every bucket; they never widen one.
  for (const bucket of buckets) {
    const narrowed = intersectPrefixes(bucket.allowPrefixes, allowPrefixes);
    if (narrowed === undefined) {
      throw new ConfigError(
        `bucket ${JSON.stringify(bucket.name)}: its allow_prefixes (${bucket.allowPrefixes.join(", ")}) and --allow-prefix (${allowPrefixes.join(", ")}) have no key in common`,
      );
    }
    bucket.allowPrefixes = narrowed;
    bucket.readOnly ||= readOnly;
  }

  return {
    action: "serve",
    config: {
      buckets,
      roots,
      rootsExplicit: rootList !== undefined,
      readOnly,
      allowPrefixes,
      logLevel: level as LogLevel,
      confirm: confirm as ConfirmMode,
      maxAttempts,
    },
  };
}
