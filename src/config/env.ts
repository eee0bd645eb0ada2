/**
 * Reading settings from the environment, written once: the CLI's configuration and the library's
 * R2Client both use it, so both trim, skip empty values and take the first variable set.
 */

/** Where each S3 setting may come from, in order of precedence. */
export const ENV = {
  bucket: ["R2_BUCKET", "R2_BUCKET_NAME"],
  endpoint: ["R2_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"],
  accessKey: ["R2_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"],
  secretKey: ["R2_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"],
  region: ["R2_REGION_NAME", "AWS_REGION", "AWS_DEFAULT_REGION"],
} as const;

/**
 * A placeholder an MCP Bundle host left in place because the person did not fill that setting
 * (e.g. `${user_config.account_id}`): unset, not a value.
 */
const UNFILLED_PLACEHOLDER = /^\$\{user_config\.[A-Za-z0-9_]+\}$/;

/** The first of `names` set to something other than blanks, trimmed, and which one it was. */
export function firstSet(env: NodeJS.ProcessEnv, names: readonly string[]): { value: string; from: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value !== undefined && value !== "" && !UNFILLED_PLACEHOLDER.test(value)) return { value, from: name };
  }
  return undefined;
}

/** Credentials from the environment; either part may be missing (the caller says what to set). */
export function credentialsFromEnv(env: NodeJS.ProcessEnv): { accessKeyId?: string; secretAccessKey?: string } {
  return { accessKeyId: firstSet(env, ENV.accessKey)?.value, secretAccessKey: firstSet(env, ENV.secretKey)?.value };
}

/** The region the environment names, if any. */
export function regionFromEnv(env: NodeJS.ProcessEnv): string | undefined {
  return firstSet(env, ENV.region)?.value;
}
