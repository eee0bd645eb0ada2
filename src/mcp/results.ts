/**
 * Tool results: complete structuredContent plus a short text an assistant can read, and error
 * results whose text starts with the stable code and says what to do next.
 */
import type { CallToolResult } from "@modelcontextprotocol/server";
import { StorageError } from "../core/errors.js";
import type { ObjectInfo } from "../core/store.js";
import { redact } from "./redact.js";

export function asStorageError(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StorageError("internal", `unexpected failure: ${message}; this is a bug in r2-mcp, please report it`, { cause: err });
}

/** The one way an error becomes text: its stable code first, secrets redacted. */
export function errorText(err: unknown): string {
  const e = asStorageError(err);
  return redact(`${e.kind}: ${e.message}`);
}

/**
 * An error result. The text carries the code for every client; `structured` is added only by
 * tools whose output schema admits an error shape (the SDK client validates it even on errors).
 */
export function errorResult(err: unknown, structured?: Record<string, unknown>): CallToolResult {
  const e = asStorageError(err);
  const result: CallToolResult = { isError: true, content: [{ type: "text", text: errorText(e) }] };
  if (structured) {
    const error: Record<string, unknown> = { code: e.kind, message: redact(e.message) };
    if (e.key !== undefined) error.key = e.key;
    if (e.path !== undefined) error.path = e.path;
    result.structuredContent = { ...structured, error };
  }
  return result;
}

/** An object as tools report it (snake_case, ISO 8601 time). */
export function objectToWire(o: ObjectInfo): { key: string; size: number; last_modified: string; etag: string } {
  return { key: o.key, size: o.size, last_modified: o.lastModified.toISOString(), etag: o.etag };
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The bytes as text when they are valid UTF-8, else undefined. */
export function decodeUtf8(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let value = n / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(value < 10 ? 1 : 0)} ${units[unit]}`;
}
