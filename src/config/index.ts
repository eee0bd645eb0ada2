export { credentialsFromEnv, ENV, firstSet, regionFromEnv } from "./env.js";
export { HELP } from "./help.js";
export { type BackendConfig, type CliAction, type Config, ConfigError, LOG_LEVELS, type LogLevel, resolveConfig } from "./resolve.js";
