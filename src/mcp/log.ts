/**
 * Logging to stderr (at --log-level) and, once a client is connected, to it as
 * notifications/message (the SDK filters those by the level the client set with logging/setLevel).
 * Built before the stores and the server, so both log through it from the start. Never logs secrets.
 */
import type { LoggingLevel } from "@modelcontextprotocol/sdk/types.js";
import { LOG_LEVELS, type LogLevel } from "../config/index.js";
import { redact } from "./redact.js";

export type Logger = (level: LogLevel, message: string, data?: Record<string, unknown>) => void;

export type ClientLogSink = (params: { level: LoggingLevel; logger: string; data: unknown }) => Promise<void>;

export interface ServerLog {
  log: Logger;
  /** From now on, messages also go to the client. */
  connect(toClient: ClientLogSink): void;
}

export function createLog(stderrLevel: LogLevel, writeStderr: (line: string) => void = (line) => process.stderr.write(line)): ServerLog {
  const threshold = LOG_LEVELS.indexOf(stderrLevel);
  let toClient: ClientLogSink | undefined;
  const log: Logger = (level, message, data) => {
    if (LOG_LEVELS.indexOf(level) >= threshold) {
      writeStderr(`r2-mcp ${level}: ${redact(data ? `${message} ${JSON.stringify(data)}` : message)}\n`);
    }
    if (toClient) {
      const payload: unknown = JSON.parse(redact(JSON.stringify({ message, ...data })));
      void toClient({ level, logger: "r2-mcp", data: payload }).catch(() => undefined);
    }
  };
  return {
    log,
    connect(sink) {
      toClient = sink;
    },
  };
}
