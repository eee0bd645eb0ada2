/**
 * Logging to stderr (at --log-level) and, once connected, to the client as notifications/message
 * (the SDK filters those by the level the client set with logging/setLevel). Never logs secrets.
 */
import type { LoggingLevel } from "@modelcontextprotocol/sdk/types.js";
import { LOG_LEVELS, type LogLevel } from "../config.js";
import { redact } from "./redact.js";

export type Logger = (level: LogLevel, message: string, data?: Record<string, unknown>) => void;

export function createLogger(
  stderrLevel: LogLevel,
  toClient?: (params: { level: LoggingLevel; logger: string; data: unknown }) => Promise<void>,
  writeStderr: (line: string) => void = (line) => process.stderr.write(line),
): Logger {
  const threshold = LOG_LEVELS.indexOf(stderrLevel);
  return (level, message, data) => {
    if (LOG_LEVELS.indexOf(level) >= threshold) {
      writeStderr(`r2-mcp ${level}: ${redact(data ? `${message} ${JSON.stringify(data)}` : message)}\n`);
    }
    if (toClient) {
      const payload: unknown = JSON.parse(redact(JSON.stringify({ message, ...data })));
      void toClient({ level, logger: "r2-mcp", data: payload }).catch(() => undefined);
    }
  };
}
