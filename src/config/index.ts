export { type BucketConfig, ConfigError } from "./buckets.js";
export { credentialsFromEnv, ENV, firstSet, regionFromEnv } from "./env.js";
export { HELP } from "./help.js";
export { type CliAction, CONFIRM_MODES, type Config, type ConfirmMode, LOG_LEVELS, type LogLevel, resolveConfig } from "./resolve.js";
