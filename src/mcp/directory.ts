/** What upload_directory and download_directory share: fields, result shape, error shape. */
import * as z from "zod";
import { q, type StorageError } from "../core/errors.js";
import { MAX_FILTER_PATTERNS } from "../core/path-filter.js";
import { DEFAULT_MAX_WORKERS, type DirectoryTransferResult, MAX_WORKERS } from "../core/transfer/index.js";
import { LISTED } from "./limits.js";
import { formatBytes } from "./results.js";
import { errorShape, rangedInt, type ToolReply } from "./tool.js";

export const maxWorkersField = rangedInt(1, MAX_WORKERS, `Files transferred in parallel, 1-${MAX_WORKERS}.`).default(DEFAULT_MAX_WORKERS);
export const dryRunField = z
  .boolean()
  .default(false)
  .describe("true: change nothing; report what would be transferred, skipped, or conflict.");

const patterns = (what: string) =>
  z
    .array(z.string())
    .optional()
    .describe(
      `Up to ${MAX_FILTER_PATTERNS} globs of relative paths to ${what}. A pattern without "/" matches a name at any depth ("*.tmp", "__pycache__"); a trailing "/" matches folders only (".git/"); otherwise the whole relative path ("data/raw", "runs/*/ckpt/"). * stays within a segment, ** crosses segments, {a,b} alternatives.`,
    );

/** include / exclude, applied to paths relative to local_dir and to the prefix before anything else. */
export const filterFields = {
  include: patterns("keep (default: every file); others are left out"),
  exclude: patterns('leave out, e.g. [".git/", "__pycache__/", "*.tmp"]; wins over include'),
};

const bytes = z.number().int().describe("Bytes written by this call.");

const common = {
  skipped: z.array(z.string()).describe(`Destinations that already held identical bytes and were left alone (first ${LISTED}).`),
  conflicts: z
    .array(z.string())
    .describe(`Destinations that exist with other content (first ${LISTED}); without overwrite the call writes nothing.`),
  planned: z.number().int().describe("Files this call set out to write (or, with dry_run, would write)."),
  dry_run: z.boolean(),
  error: errorShape,
};

export const uploadDirectoryOutput = {
  uploaded: z.number().int().describe("Files written by this call."),
  bytes,
  keys: z.array(z.string()).describe(`The first ${LISTED} written.`),
  ...common,
};

export const downloadDirectoryOutput = {
  downloaded: z.number().int().describe("Files written by this call."),
  bytes,
  files: z.array(z.string()).describe(`The first ${LISTED} written.`),
  unverified: z
    .array(z.object({ path: z.string(), reason: z.string() }))
    .optional()
    .describe(
      `Present only when some files written could not be checked against their object's ETag (e.g. multipart objects whose part size the server does not tell): the first ${LISTED}, and why. They were written as received.`,
    ),
  ...common,
};

type Common = z.input<z.ZodObject<typeof common>> & { bytes: number };

function commonOf(r: DirectoryTransferResult): Common {
  return {
    bytes: r.bytes,
    skipped: r.skipped.slice(0, LISTED),
    conflicts: r.conflicts.slice(0, LISTED),
    planned: r.planned,
    dry_run: r.dryRun,
  };
}

function summary(verb: string, r: DirectoryTransferResult): string {
  if (r.dryRun) {
    const conflicts = r.conflicts.length ? `: ${r.conflicts.slice(0, 10).join(", ")}` : "";
    return `dry run: would ${verb} ${r.planned} file(s), ${formatBytes(r.plannedBytes)}; ${r.skipped.length} identical skipped; ${r.conflicts.length} conflict(s)${conflicts}`;
  }
  const skipped = r.skipped.length ? `; ${r.skipped.length} already identical, skipped` : "";
  return `${verb}ed ${r.transferred} file(s), ${formatBytes(r.bytes)}${skipped}`;
}

export function uploadReply(r: DirectoryTransferResult): ToolReply<typeof uploadDirectoryOutput> {
  return { structured: { uploaded: r.transferred, keys: r.items.slice(0, LISTED), ...commonOf(r) }, text: summary("upload", r) };
}

export function downloadReply(r: DirectoryTransferResult): ToolReply<typeof downloadDirectoryOutput> {
  const unverified = r.unverified ?? [];
  const first = unverified[0];
  const note = first === undefined ? "" : `; ${unverified.length} file(s) not verified (${q(first.path)}: ${first.reason})`;
  return {
    structured: {
      downloaded: r.transferred,
      files: r.items.slice(0, LISTED),
      ...(unverified.length > 0 ? { unverified: unverified.slice(0, LISTED) } : {}),
      ...commonOf(r),
    },
    text: summary("download", r) + note,
  };
}

/** A failed transfer still says what completed, and lists the conflicts. */
function failed(err: StorageError): { completed: string[]; rest: Common } {
  const details = err.details ?? {};
  const completed = Array.isArray(details.completed) ? (details.completed as string[]) : [];
  const conflicts = Array.isArray(details.conflicts) ? (details.conflicts as string[]) : [];
  return { completed, rest: { bytes: 0, skipped: [], conflicts: conflicts.slice(0, LISTED), planned: 0, dry_run: false } };
}

export function uploadFailure(err: StorageError): z.input<z.ZodObject<typeof uploadDirectoryOutput>> {
  const { completed, rest } = failed(err);
  return { uploaded: completed.length, keys: completed.slice(0, LISTED), ...rest };
}

export function downloadFailure(err: StorageError): z.input<z.ZodObject<typeof downloadDirectoryOutput>> {
  const { completed, rest } = failed(err);
  return { downloaded: completed.length, files: completed.slice(0, LISTED), ...rest };
}
