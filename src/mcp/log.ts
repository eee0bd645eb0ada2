/**
 * Logging to stderr (at --log-level) and to the client as notifications/message. Built before the
 * stores and the server, so both log through it from the start. Never logs secrets.
 *
 * What reaches the client depends on the protocol era, and the SDK applies each era's level filter:
 * - what a tool logs through its call's logger (forCall: its outcome, and the finish of a job it
 *   started) rides that call's exchange: filtered by logging/setLevel for a 2025 client, by the
 *   request's own log level for a 2026-07-28 client (no level, no messages);
 * - everything else (the stores' retries and clean-ups, start-up) goes to a 2025 session that
 *   completed its handshake (2026-07-28 has no channel for it), and always to stderr; before the
 *   handshake nothing is sent at all.
 * The call's logger is handed down explicitly, not found through AsyncLocalStorage: on Node 20
 * and 22 that turns on promise hooks for the whole process, which cost a directory download of
 * small files a tenth of its CPU.
 */
import type { LoggingLevel } from "@modelcontextprotocol/server";
import { LOG_LEVELS, type LogLevel } from "../config/index.js";
import { redact, stringsIn } from "./redact.js";

export type Logger = (level: LogLevel, message: string, data?: Record<string, unknown>) => void;

export type ClientLogSink = (params: { level: LoggingLevel; logger: string; data: unknown }) => Promise<void>;

export interface ServerLog {
  log: Logger;
  /** From now on, messages logged outside a call also go to the client (a 2025 session, once initialized). */
  connect(toClient: ClientLogSink): void;
  /** A logger whose messages go to `sink` (one call's exchange) instead of the session's channel. */
  forCall(sink: ClientLogSink): Logger;
}

/** Fields of a log line that name the user's keys and paths: redaction leaves them whole. */
const NAMED_FIELDS = ["key", "keys", "prefix", "path", "local_path", "local_dir"];

function namedData(data: Record<string, unknown> | undefined): string[] {
  if (!data) return [];
  return NAMED_FIELDS.flatMap((field) => stringsIn(data[field])).flatMap((value) => [value, jsonInner(value)]);
}

/** A string as it appears inside JSON text (escaped, without the quotes). */
function jsonInner(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

export function createLog(stderrLevel: LogLevel, writeStderr: (line: string) => void = (line) => process.stderr.write(line)): ServerLog {
  const threshold = LOG_LEVELS.indexOf(stderrLevel);
  let toClient: ClientLogSink | undefined;
  const logTo =
    (sinkOf: () => ClientLogSink | undefined): Logger =>
    (level, message, data) => {
      const keep = namedData(data);
      if (LOG_LEVELS.indexOf(level) >= threshold) {
        writeStderr(`r2-mcp ${level}: ${redact(data ? `${message} ${JSON.stringify(data)}` : message, keep)}\n`);
      }
      const sink = sinkOf();
      if (sink) {
        const payload: unknown = JSON.parse(redact(JSON.stringify({ message, ...data }), keep));
        void sink({ level, logger: "r2-mcp", data: payload }).catch(() => undefined);
      }
    };
  return {
    log: logTo(() => toClient),
    connect(sink) {
      toClient = sink;
    },
    forCall(sink) {
      return logTo(() => sink);
    },
  };
}
