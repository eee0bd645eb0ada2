/** What upload_directory and download_directory share: fields, result shape, error shape. */
import * as z from "zod";
import { q, type StorageError } from "../core/errors.js";
import { DEFAULT_MAX_WORKERS, type DirectoryTransferResult, MAX_WORKERS } from "../core/transfer/index.js";
import type { ConflictDetail, ConflictSide } from "../core/transfer/plan.js";
import { LISTED } from "./limits.js";
import { counted, formatBytes } from "./results.js";
import { errorShape, int, outputObject, rangedInt, type ToolReply } from "./tool.js";

export const maxWorkersField = rangedInt(1, MAX_WORKERS, "Files in parallel.").default(DEFAULT_MAX_WORKERS);
export const dryRunField = z.boolean().default(false).describe("Preview: change nothing.");

const patterns = (what: string) => z.array(z.string()).optional().describe(`Globs of relative paths ${what}.`);

/** include / exclude, applied to paths relative to local_dir and to the prefix before anything else. */
export const filterFields = {
  include: patterns('to keep, e.g. "*.csv"'),
  exclude: patterns('to leave out, e.g. ".git/"'),
};

const bytes = int();

const conflictDetail = outputObject({
  key: z.string(),
  local_path: z.string(),
  local: outputObject({ size: int(), mtime: z.string() }).optional(),
  remote: outputObject({ size: int(), last_modified: z.string(), etag: z.string() }).optional(),
});

const common = {
  conflict_details: z.array(conflictDetail),
  skipped: z.array(z.string()),
  conflicts: z.array(z.string()),
  planned: int(),
  dry_run: z.boolean(),
  error: errorShape,
};

export const uploadDirectoryOutput = {
  uploaded: int(),
  bytes,
  keys: z.array(z.string()).describe(`First ${LISTED} written (dry run: to write).`),
  ...common,
};

export const downloadDirectoryOutput = {
  downloaded: int(),
  bytes,
  files: z.array(z.string()).describe(`First ${LISTED} written (dry run: to write).`),
  unverified: z
    .array(outputObject({ path: z.string(), reason: z.string() }))
    .optional()
    .describe(`Not checked against the ETag (first ${LISTED}).`),
  ...common,
};

type Common = z.input<z.ZodObject<typeof common>> & { bytes: number };
type Wire = z.input<typeof conflictDetail>;
type Direction = "upload" | "download";

const localSide = (side: ConflictSide) => ({ size: side.size, mtime: side.modified.toISOString() });
const remoteSide = (side: ConflictSide) => ({ size: side.size, last_modified: side.modified.toISOString(), etag: side.etag ?? "" });

/** A conflict as tools report it: the key and the local path, each side described when known. */
function conflictToWire(direction: Direction, d: ConflictDetail): Wire {
  const [local, remote] = direction === "upload" ? [d.source, d.existing] : [d.existing, d.source];
  return {
    key: direction === "upload" ? d.destination : d.from,
    local_path: direction === "upload" ? d.from : d.destination,
    ...(local ? { local: localSide(local) } : {}),
    ...(remote ? { remote: remoteSide(remote) } : {}),
  };
}

function conflictLine(c: Wire): string {
  const local = c.local ? `local ${formatBytes(c.local.size)}, modified ${c.local.mtime}` : "local: not a regular file";
  const remote = c.remote
    ? `remote ${formatBytes(c.remote.size)}, modified ${c.remote.last_modified}, etag ${c.remote.etag}`
    : "remote: unknown";
  return `  conflict ${q(c.key)} ↔ ${q(c.local_path)}: ${local}; ${remote}`;
}

function commonOf(direction: Direction, r: DirectoryTransferResult): Common {
  return {
    bytes: r.bytes,
    conflict_details: r.conflictDetails.slice(0, LISTED).map((d) => conflictToWire(direction, d)),
    skipped: r.skipped.slice(0, LISTED),
    conflicts: r.conflicts.slice(0, LISTED),
    planned: r.planned,
    dry_run: r.dryRun,
  };
}

/** How many written keys or files a real run's text names (its structured content lists LISTED). */
const WRITTEN_IN_TEXT = 10;

/** What the result's text says: counts, then every listed item one per line (hosts may show only the text). */
function summary(direction: Direction, r: DirectoryTransferResult, listed: string[], details: Wire[]): string {
  const what = direction === "upload" ? "key" : "file";
  const lines: string[] = [];
  if (r.dryRun) {
    lines.push(
      `dry run: would ${direction} ${counted(r.planned, "file")}, ${formatBytes(r.plannedBytes)}; ${counted(r.skipped.length, "identical file")} skipped; ${counted(r.conflicts.length, "conflict")}`,
    );
    if (listed.length > 0)
      lines.push(`would write${r.planned > listed.length ? ` (first ${listed.length})` : ""}:`, ...listed.map((i) => `  ${i}`));
  } else {
    const skipped = r.skipped.length ? `; ${counted(r.skipped.length, "file")} already identical, skipped` : "";
    lines.push(`${direction}ed ${counted(r.transferred, "file")}, ${formatBytes(r.bytes)}${skipped}`);
    // Done is done: a few names confirm it, and a long list would only fill the context (a dry
    // run, which asks "what would happen?", names all it lists).
    const named = listed.slice(0, WRITTEN_IN_TEXT);
    if (named.length > 0) {
      lines.push(`${what}s written${r.transferred > named.length ? ` (first ${named.length})` : ""}:`, ...named.map((i) => `  ${i}`));
      if (r.transferred > named.length) lines.push(`  … and ${r.transferred - named.length} more`);
    }
  }
  lines.push(...details.map(conflictLine));
  if (r.conflicts.length > details.length) lines.push(`  … ${r.conflicts.length - details.length} more conflicts`);
  return lines.join("\n");
}

function listedOf(r: DirectoryTransferResult): string[] {
  return (r.dryRun ? r.wouldWrite : r.items).slice(0, LISTED);
}

export function uploadReply(r: DirectoryTransferResult): ToolReply<typeof uploadDirectoryOutput> {
  const keys = listedOf(r);
  const rest = commonOf("upload", r);
  return { structured: { uploaded: r.transferred, keys, ...rest }, text: summary("upload", r, keys, rest.conflict_details) };
}

export function downloadReply(r: DirectoryTransferResult): ToolReply<typeof downloadDirectoryOutput> {
  const files = listedOf(r);
  const rest = commonOf("download", r);
  const unverified = (r.unverified ?? []).slice(0, LISTED);
  const first = unverified[0];
  const lines = summary("download", r, files, rest.conflict_details).split("\n");
  if (first !== undefined) {
    // Said on the first line, and each file with its reason after the rest (hosts may show only the text).
    const total = r.unverified?.length ?? 0;
    lines[0] += `; ${counted(total, "file")} not verified (${q(first.path)}: ${first.reason})`;
    lines.push("not verified (written as received):", ...unverified.map((u) => `  ${u.path}: ${u.reason}`));
  }
  return {
    structured: { downloaded: r.transferred, files, ...(unverified.length > 0 ? { unverified } : {}), ...rest },
    text: lines.join("\n"),
  };
}

/** A failed transfer still says what completed, and lists the conflicts with both sides. */
function failed(direction: Direction, err: StorageError): { completed: string[]; rest: Common } {
  const details = err.details ?? {};
  const completed = Array.isArray(details.completed) ? (details.completed as string[]) : [];
  const conflicts = Array.isArray(details.conflicts) ? (details.conflicts as string[]) : [];
  const described = Array.isArray(details.conflictDetails) ? (details.conflictDetails as ConflictDetail[]) : [];
  return {
    completed,
    rest: {
      bytes: 0,
      conflict_details: described.slice(0, LISTED).map((d) => conflictToWire(direction, d)),
      skipped: [],
      conflicts: conflicts.slice(0, LISTED),
      planned: 0,
      dry_run: false,
    },
  };
}

export function uploadFailure(err: StorageError): z.input<z.ZodObject<typeof uploadDirectoryOutput>> {
  const { completed, rest } = failed("upload", err);
  return { uploaded: completed.length, keys: completed.slice(0, LISTED), ...rest };
}

export function downloadFailure(err: StorageError): z.input<z.ZodObject<typeof downloadDirectoryOutput>> {
  const { completed, rest } = failed("download", err);
  return { downloaded: completed.length, files: completed.slice(0, LISTED), ...rest };
}
