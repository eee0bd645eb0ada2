/**
 * The buckets one server serves: S3 buckets from --bucket (repeatable, or a comma-separated
 * R2_BUCKET) on the one endpoint and credentials, the embedded store from --local (named "local"),
 * and buckets on other endpoints or accounts from --config FILE. Secrets come only from the
 * environment: a file that holds one is refused.
 */
import path from "node:path";
import { ENV, firstSet } from "./env.js";

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

interface BucketPolicyConfig {
  /** The name tools, messages and resource URIs use. */
  name: string;
  readOnly: boolean;
  /** Key prefixes this bucket is confined to; empty means all keys. */
  allowPrefixes: string[];
}

export type BucketConfig =
  | (BucketPolicyConfig & { kind: "local"; dir: string })
  | (BucketPolicyConfig & {
      kind: "s3";
      bucket: string;
      endpoint: string;
      region: string;
      accessKeyId: string;
      secretAccessKey: string;
    });

export const BUCKET_NAME = /^[a-z0-9._-]{1,63}$/;

export function places(flag: string | undefined, envNames: readonly string[]): string {
  return [...(flag ? [flag] : []), ...envNames].join(", ");
}

export function checkEndpoint(value: string, from: string): string {
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

function accountEndpoint(account: string, from: string): string {
  if (!/^[A-Za-z0-9]+$/.test(account)) throw new ConfigError(`${from} must be letters and digits only`);
  return `https://${account}.r2.cloudflarestorage.com`;
}

function checkBucketName(bucket: string, where: string): string {
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(
      `bucket ${JSON.stringify(bucket)} is not a valid bucket name (3-63 lowercase letters, digits, "-" and "."); check ${where}`,
    );
  }
  return bucket;
}

function checkRegion(region: string, where: string): string {
  if (!/^[a-z0-9-]+$/.test(region)) throw new ConfigError(`region ${JSON.stringify(region)} is not a region name; check ${where}`);
  return region;
}

export interface BucketFlags {
  bucket?: string[];
  endpoint?: string;
  region?: string;
  local?: string;
}

/** The endpoint, region and credentials S3 buckets share unless the config file says otherwise. */
interface SharedS3 {
  endpoint(): string;
  region(): string;
  credentials(): { accessKeyId: string; secretAccessKey: string };
}

function sharedS3(flags: BucketFlags, env: NodeJS.ProcessEnv): SharedS3 {
  return {
    endpoint() {
      if (flags.endpoint !== undefined) return checkEndpoint(flags.endpoint, "--endpoint");
      const fromEnv = firstSet(env, ENV.endpoint);
      if (fromEnv) return checkEndpoint(fromEnv.value, fromEnv.from);
      const account = firstSet(env, ["R2_ACCOUNT_ID"]);
      if (account) return accountEndpoint(account.value, "R2_ACCOUNT_ID");
      throw new ConfigError(`no endpoint: set ${places("--endpoint", ENV.endpoint)}, or R2_ACCOUNT_ID for Cloudflare R2`);
    },
    region: () => checkRegion(flags.region ?? firstSet(env, ENV.region)?.value ?? "auto", places("--region", ENV.region)),
    credentials() {
      const accessKey = firstSet(env, ENV.accessKey);
      const secretKey = firstSet(env, ENV.secretKey);
      if (!accessKey) throw new ConfigError(`no access key: set ${places(undefined, ENV.accessKey)}`);
      if (!secretKey) throw new ConfigError(`no secret key: set ${places(undefined, ENV.secretKey)}`);
      return { accessKeyId: accessKey.value, secretAccessKey: secretKey.value };
    },
  };
}

const FILE_KEYS = new Set([
  "name",
  "bucket",
  "local",
  "endpoint",
  "account_id",
  "region",
  "access_key_id_env",
  "secret_access_key_env",
  "read_only",
  "allow_prefixes",
]);

/** Keys that would hold a secret: refused, so no credential ever sits in a file the server reads. */
const SECRET_KEY = /(secret|password|token|credential|access_key_id$|^access_key$|^key_id$)/i;

function fileBuckets(file: string, text: string, shared: SharedS3, env: NodeJS.ProcessEnv): BucketConfig[] {
  const where = `--config ${file}`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${where} is not valid JSON (${(err as Error).message.split("\n")[0]})`);
  }
  const list = (parsed as { buckets?: unknown } | null)?.buckets;
  if (typeof parsed !== "object" || parsed === null || !Array.isArray(list)) {
    throw new ConfigError(`${where} must be a JSON object with a "buckets" array`);
  }
  const extra = Object.keys(parsed).filter((k) => k !== "buckets");
  if (extra.length > 0) throw new ConfigError(`${where}: unknown setting ${JSON.stringify(extra[0])}; only "buckets" is read`);
  return list.map((entry: unknown, i: number) => {
    const at = `${where}, buckets[${i}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new ConfigError(`${at} must be an object`);
    const e = entry as Record<string, unknown>;
    for (const key of Object.keys(e)) {
      if (SECRET_KEY.test(key) && !key.endsWith("_env")) {
        throw new ConfigError(
          `${at} holds a secret (${JSON.stringify(key)}); a config file may not hold credentials. Put them in environment variables and name those with access_key_id_env and secret_access_key_env`,
        );
      }
      if (!FILE_KEYS.has(key)) throw new ConfigError(`${at}: unknown setting ${JSON.stringify(key)} (known: ${[...FILE_KEYS].join(", ")})`);
    }
    const str = (key: string): string | undefined => {
      const value = e[key];
      if (value === undefined) return undefined;
      if (typeof value !== "string" || value.trim() === "") throw new ConfigError(`${at}.${key} must be a non-empty string`);
      return value.trim();
    };
    const name = str("name");
    if (name === undefined) throw new ConfigError(`${at} needs a "name" (1-63 of a-z 0-9 . _ -)`);
    const readOnly = e.read_only ?? false;
    if (typeof readOnly !== "boolean") throw new ConfigError(`${at}.read_only must be true or false`);
    const prefixes = e.allow_prefixes ?? [];
    if (!Array.isArray(prefixes) || prefixes.some((p) => typeof p !== "string" || p === "" || p.includes("\0"))) {
      throw new ConfigError(`${at}.allow_prefixes must be a list of non-empty key prefixes`);
    }
    const policy = { name, readOnly, allowPrefixes: prefixes as string[] };
    const local = str("local");
    if (local !== undefined) {
      const s3Only = ["bucket", "endpoint", "account_id", "region", "access_key_id_env", "secret_access_key_env"].filter((k) => k in e);
      if (s3Only.length > 0) throw new ConfigError(`${at} is a local store; ${s3Only.join(", ")} apply only to S3 buckets`);
      return { ...policy, kind: "local", dir: path.resolve(path.dirname(file), local) };
    }
    const bucket = str("bucket");
    if (bucket === undefined) throw new ConfigError(`${at} needs "bucket" (an S3 bucket) or "local" (a directory)`);
    checkBucketName(bucket, `${at}.bucket`);
    const endpointSetting = str("endpoint");
    const account = str("account_id");
    const endpoint =
      endpointSetting !== undefined
        ? checkEndpoint(endpointSetting, `${at}.endpoint`)
        : account !== undefined
          ? accountEndpoint(account, `${at}.account_id`)
          : shared.endpoint();
    const region = str("region") !== undefined ? checkRegion(str("region") as string, `${at}.region`) : shared.region();
    const keyEnv = str("access_key_id_env");
    const secretEnv = str("secret_access_key_env");
    if ((keyEnv === undefined) !== (secretEnv === undefined)) {
      throw new ConfigError(`${at} names one credential variable; give both access_key_id_env and secret_access_key_env, or neither`);
    }
    let credentials: { accessKeyId: string; secretAccessKey: string };
    if (keyEnv !== undefined && secretEnv !== undefined) {
      const accessKeyId = firstSet(env, [keyEnv])?.value;
      const secretAccessKey = firstSet(env, [secretEnv])?.value;
      if (!accessKeyId) throw new ConfigError(`${at}: environment variable ${keyEnv} (access_key_id_env) is not set`);
      if (!secretAccessKey) throw new ConfigError(`${at}: environment variable ${secretEnv} (secret_access_key_env) is not set`);
      credentials = { accessKeyId, secretAccessKey };
    } else {
      credentials = shared.credentials();
    }
    return { ...policy, kind: "s3", bucket, endpoint, region, ...credentials };
  });
}

/**
 * Every bucket, in order: the config file's, then --bucket's, then --local's. The first is the
 * default of every tool's `bucket` argument.
 */
export function resolveBuckets(
  flags: BucketFlags,
  env: NodeJS.ProcessEnv,
  cwd: string,
  configFile?: { path: string; text: string },
): BucketConfig[] {
  const shared = sharedS3(flags, env);
  const buckets: BucketConfig[] = configFile ? fileBuckets(configFile.path, configFile.text, shared, env) : [];
  const names =
    flags.bucket ??
    firstSet(env, ENV.bucket)
      ?.value.split(",")
      .map((b) => b.trim()) ??
    [];
  if (names.some((b) => b === "")) throw new ConfigError(`--bucket needs a bucket name (check ${places("--bucket", ENV.bucket)})`);
  if (names.length > 0) {
    const endpoint = shared.endpoint();
    const credentials = shared.credentials();
    const region = shared.region();
    for (const bucket of names) {
      checkBucketName(bucket, places("--bucket", ENV.bucket));
      buckets.push({ name: bucket, readOnly: false, allowPrefixes: [], kind: "s3", bucket, endpoint, region, ...credentials });
    }
  }
  const local = flags.local ?? firstSet(env, ["R2_MCP_LOCAL_DIR"])?.value;
  if (local !== undefined) {
    if (local.trim() === "") throw new ConfigError("--local needs a directory (or set R2_MCP_LOCAL_DIR)");
    buckets.push({ name: "local", readOnly: false, allowPrefixes: [], kind: "local", dir: path.resolve(cwd, local) });
  }
  if (buckets.length === 0) {
    throw new ConfigError(
      `no bucket: set ${places("--bucket", ENV.bucket)}, give --config FILE, or use --local DIR for an embedded store without an account`,
    );
  }
  if (names.length === 0 && flags.endpoint !== undefined) {
    throw new ConfigError("--endpoint is the endpoint of the --bucket buckets; give --bucket too (buckets elsewhere go in --config)");
  }
  const seen = new Set<string>();
  for (const b of buckets) {
    if (!BUCKET_NAME.test(b.name)) {
      throw new ConfigError(`bucket name ${JSON.stringify(b.name)} must be 1-63 of lowercase letters, digits, ".", "_" and "-"`);
    }
    if (seen.has(b.name)) throw new ConfigError(`two buckets are named ${JSON.stringify(b.name)}; names must be unique`);
    seen.add(b.name);
  }
  return buckets;
}

/**
 * Keys allowed by both lists (each empty meaning all keys): a server-wide --allow-prefix narrows a
 * bucket's own allow_prefixes, never widens them. Undefined when no key is left.
 */
export function intersectPrefixes(a: readonly string[], b: readonly string[]): string[] | undefined {
  if (a.length === 0) return [...b];
  if (b.length === 0) return [...a];
  const out = new Set<string>();
  for (const x of a) for (const y of b) if (x.startsWith(y)) out.add(x);
  for (const y of b) for (const x of a) if (y.startsWith(x)) out.add(y);
  return out.size > 0 ? [...out] : undefined;
}
