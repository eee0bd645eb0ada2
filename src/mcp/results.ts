/**
 * Tool results: complete structuredContent plus a short text an assistant can read, and error
 * results whose text starts with the stable code and says what to do next.
 */
import type { CallToolResult } from "@modelcontextprotocol/server";
import { StorageError } from "../core/errors.js";
import type { ObjectInfo } from "../core/store.js";
import { redact, stringsIn } from "./redact.js";

export function asStorageError(err: unknown): StorageError {
  if (err instanceof StorageError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StorageError("internal", `unexpected failure: ${message}; this is a bug in r2-mcp, please report it`, { cause: err });
}

/** What an error's message may quote that is the user's data, not a secret: its keys and paths. */
function namedIn(e: StorageError): string[] {
  return [...(e.key !== undefined ? [e.key] : []), ...(e.path !== undefined ? [e.path] : []), ...stringsIn(e.details)];
}

/** The one way an error becomes text: its stable code first, secrets redacted (never inside the keys it names). */
export function errorText(err: unknown): string {
  const e = asStorageError(err);
  return redact(`${e.kind}: ${e.message}`, namedIn(e));
}

/**
 * An error result. The text carries the code for every client; `structured` is added only by
 * tools whose output schema admits an error shape (the SDK client validates it even on errors).
 */
export function errorResult(err: unknown, structured?: Record<string, unknown>): CallToolResult {
  const e = asStorageError(err);
  const result: CallToolResult = { isError: true, content: [{ type: "text", text: errorText(e) }] };
  if (structured) {
    const error: Record<string, unknown> = { code: e.kind, message: redact(e.message, namedIn(e)) };
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

/** UTF-8 text cut out of a longer text: the bytes dropped at each end because a character was split there. */
export interface CutText {
  text: string;
  /** Continuation bytes skipped at the start (0-3). */
  lead: number;
  /** Bytes of an incomplete character dropped at the end (0-3). */
  tail: number;
}

const isContinuation = (byte: number) => (byte & 0xc0) === 0x80;

/** How many bytes the character whose first byte is `byte` takes (1 for anything that is not a lead byte). */
function sequenceLength(byte: number): number {
  if (byte >= 0xf0 && byte <= 0xf4) return 4;
  if (byte >= 0xe0) return 3;
  if (byte >= 0xc2) return 2;
  return 1;
}

/**
 * A byte range of UTF-8 text may start or end inside a character. The valid text between the cuts,
 * and how many bytes were cut at each end; undefined when the middle is not UTF-8 text either.
 */
export function decodeUtf8Range(bytes: Uint8Array): CutText | undefined {
  let lead = 0;
  while (lead < 3 && lead < bytes.length && isContinuation(bytes[lead] as number)) lead++;
  let tail = 0;
  for (let back = 1; back <= 3 && back <= bytes.length - lead; back++) {
    const byte = bytes[bytes.length - back] as number;
    if (isContinuation(byte)) continue;
    if (sequenceLength(byte) > back) tail = back;
    break;
  }
  if ((lead === 0 && tail === 0) || lead + tail >= bytes.length) return undefined;
  const text = decodeUtf8(bytes.subarray(lead, bytes.length - tail));
  return text === undefined ? undefined : { text, lead, tail };
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

/** "1 file", "2 files": a count with its noun in agreement. */
export function counted(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
