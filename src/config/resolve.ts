/**
 * Configuration: flags > environment > defaults, resolved by one pure function so every rule is
 * unit-tested. Every error names the setting and every place it can come from, and never
 * echoes a secret.
 */
import path from "node:path";
import { parseArgs } from "node:util";
import { ENV, firstSet } from "./env.js";

export const LOG_LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type BackendConfig =
  | { kind: "local"; dir: string }
  | {
      kind: "s3";
      bucket: string;
      endpoint: string;
      region: string;
      accessKeyId: string;
      secretAccessKey: string;
    };

export interface Config {
  backend: BackendConfig;
  /** Local roots, absolute. */
  roots: string[];
  /** True when roots came from --root or R2_MCP_ROOTS (then client roots do not replace them). */
  rootsExplicit: boolean;
  readOnly: boolean;
  /** Key prefixes every tool is confined to; empty means all keys. */
  allowPrefixes: string[];
  logLevel: LogLevel;
  /** Total attempts per S3 request. */
  maxAttempts: number;
}

export type CliAction = { action: "help" } | { action: "version" } | { action: "serve"; config: Config };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

function places(flag: string | undefined, envNames: readonly string[]): string {
  return [...(flag ? [flag] : []), ...envNames].join(", ");
}

function truthy(value: string | undefined, name: string): boolean {
  if (value === undefined || value === "") return false;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(`${name} must be 1/true or 0/false; got ${JSON.stringify(value)}`);
}

function checkEndpoint(value: string, from: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`${from} is not a URL; give one like https://<account_id>.r2.cloudflarestorage.com`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new ConfigError(`${from} must be an http:// or https:// URL`);
  }
  if (url.username || url.password) {
    throw new ConfigError(`${from} must not carry credentials; set R2_ACCESS_KEY_ID and R2_SECRET_ACCESS_KEY instead`);
  }
  return value.replace(/\/+$/, "");
}

function resolveBackend(
  flags: { bucket?: string; endpoint?: string; region?: string; local?: string },
  env: NodeJS.ProcessEnv,
  cwd: string,
): BackendConfig {
  const local = flags.local ?? firstSet(env, ["R2_MCP_LOCAL_DIR"])?.value;
  if (local !== undefined) {
    if (local.trim() === "") throw new ConfigError("--local needs a directory (or set R2_MCP_LOCAL_DIR)");
    if (flags.bucket !== undefined || flags.endpoint !== undefined) {
      throw new ConfigError("--local serves a local directory; it cannot be combined with --bucket or --endpoint. Choose one");
    }
    return { kind: "local", dir: path.resolve(cwd, local) };
  }

  const bucket = flags.bucket ?? firstSet(env, ENV.bucket)?.value;
  if (!bucket) {
    throw new ConfigError(`no bucket: set ${places("--bucket", ENV.bucket)} (or use --local DIR for an embedded store without an account)`);
  }
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(
      `bucket ${JSON.stringify(bucket)} is not a valid bucket name (3-63 lowercase letters, digits, "-" and "."); check ${places("--bucket", ENV.bucket)}`,
    );
  }

  let endpoint: string;
  if (flags.endpoint !== undefined) endpoint = checkEndpoint(flags.endpoint, "--endpoint");
  else {
    const fromEnv = firstSet(env, ENV.endpoint);
    const account = firstSet(env, ["R2_ACCOUNT_ID"]);
    if (fromEnv) endpoint = checkEndpoint(fromEnv.value, fromEnv.from);
    else if (account) {
      if (!/^[A-Za-z0-9]+$/.test(account.value)) throw new ConfigError("R2_ACCOUNT_ID must be letters and digits only");
      endpoint = `https://${account.value}.r2.cloudflarestorage.com`;
    } else {
      throw new ConfigError(`no endpoint: set ${places("--endpoint", ENV.endpoint)}, or R2_ACCOUNT_ID for Cloudflare R2`);
    }
  }

  const accessKey = firstSet(env, ENV.accessKey);
  const secretKey = firstSet(env, ENV.secretKey);
  if (!accessKey) throw new ConfigError(`no access key: set ${places(undefined, ENV.accessKey)}`);
  if (!secretKey) throw new ConfigError(`no secret key: set ${places(undefined, ENV.secretKey)}`);

  const region = flags.region ?? firstSet(env, ENV.region)?.value ?? "auto";
  if (!/^[a-z0-9-]+$/.test(region)) {
    throw new ConfigError(`region ${JSON.stringify(region)} is not a region name; check ${places("--region", ENV.region)}`);
  }
  return { kind: "s3", bucket, endpoint, region, accessKeyId: accessKey.value, secretAccessKey: secretKey.value };
}

function parseCliArgs(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      help: { type: "boolean", short: "h" },
      version: { type: "boolean", short: "v" },
      bucket: { type: "string" },
      endpoint: { type: "string" },
      region: { type: "string" },
      local: { type: "string" },
      root: { type: "string", multiple: true },
      "read-only": { type: "boolean" },
      "allow-prefix": { type: "string", multiple: true },
      "log-level": { type: "string" },
      "max-attempts": { type: "string" },
    },
  });
}

/** Pure: argv (without node and script), environment and working directory in, action out. */
export function resolveConfig(argv: readonly string[], env: NodeJS.ProcessEnv, cwd: string): CliAction {
  let parsed: ReturnType<typeof parseCliArgs>;
  try {
    parsed = parseCliArgs(argv);
  } catch (err) {
    throw new ConfigError(`${(err as Error).message.split("\n")[0]}; see r2-mcp --help`);
  }
  const v = parsed.values;
  if (v.help) return { action: "help" };
  if (v.version) return { action: "version" };

  const backend = resolveBackend(v, env, cwd);

  const rootsFromEnv = firstSet(env, ["R2_MCP_ROOTS"])?.value.split(path.delimiter).filter(Boolean);
  const rootList = v.root ?? rootsFromEnv;
  if (rootList?.some((r) => r.trim() === "")) throw new ConfigError("--root needs a directory");
  const roots = (rootList ?? [cwd]).map((r) => path.resolve(cwd, r));

  const allowPrefixes = v["allow-prefix"] ?? firstSet(env, ["R2_MCP_ALLOW_PREFIXES"])?.value.split(",").filter(Boolean) ?? [];
  if (allowPrefixes.some((p) => p === "" || p.includes("\0"))) throw new ConfigError("--allow-prefix needs a non-empty key prefix");

  const level = v["log-level"] ?? firstSet(env, ["R2_MCP_LOG_LEVEL"])?.value ?? "warning";
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new ConfigError(`log level ${JSON.stringify(level)} is not one of ${LOG_LEVELS.join(", ")} (--log-level, R2_MCP_LOG_LEVEL)`);
  }

  const attemptsText = v["max-attempts"] ?? firstSet(env, ["R2_MCP_MAX_ATTEMPTS"])?.value ?? "5";
  const maxAttempts = Number(attemptsText);
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 20) {
    throw new ConfigError(
      `max attempts must be an integer from 1 to 20; got ${JSON.stringify(attemptsText)} (--max-attempts, R2_MCP_MAX_ATTEMPTS)`,
    );
  }

  return {
    action: "serve",
    config: {
      backend,
      roots,
      rootsExplicit: rootList !== undefined,
      readOnly: v["read-only"] === true || truthy(env.R2_MCP_READ_ONLY, "R2_MCP_READ_ONLY"),
      allowPrefixes,
      logLevel: level as LogLevel,
      maxAttempts,
    },
  };
}
