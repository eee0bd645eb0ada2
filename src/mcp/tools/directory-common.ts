/** What upload_directory and download_directory share: fields, result shape, error shape. */
import * as z from "zod";
import { isStorageError } from "../../core/errors.js";
import type { DirectoryTransferResult } from "../../core/transfer.js";
import { DEFAULT_MAX_WORKERS, MAX_WORKERS } from "../../core/transfer.js";
import { fail, formatBytes, ok } from "../results.js";
import { errorShape, rangedInt } from "./define.js";

/** Lists in results are capped so a large transfer cannot flood an assistant's context. */
export const LISTED = 50;

export const maxWorkersField = rangedInt(1, MAX_WORKERS, `Files transferred in parallel, 1-${MAX_WORKERS}.`).default(DEFAULT_MAX_WORKERS);
export const dryRunField = z
  .boolean()
  .default(false)
  .describe("true: change nothing; report what would be transferred, skipped, or conflict.");

export function directoryOutput(count: "uploaded" | "downloaded", list: "keys" | "files") {
  return {
    [count]: z.number().int().describe("Files written by this call."),
    bytes: z.number().int().describe("Bytes written by this call."),
    [list]: z.array(z.string()).describe(`The first ${LISTED} written.`),
    skipped: z.array(z.string()).describe(`Destinations that already held identical bytes and were left alone (first ${LISTED}).`),
    conflicts: z
      .array(z.string())
      .describe(`Destinations that exist with other content (first ${LISTED}); without overwrite the call writes nothing.`),
    planned: z.number().int().describe("Files this call set out to write (or, with dry_run, would write)."),
    dry_run: z.boolean(),
    error: errorShape,
  } as Record<string, z.ZodType>;
}

function structured(count: string, list: string, r: DirectoryTransferResult) {
  return {
    [count]: r.transferred,
    bytes: r.bytes,
    [list]: r.items.slice(0, LISTED),
    skipped: r.skipped.slice(0, LISTED),
    conflicts: r.conflicts.slice(0, LISTED),
    planned: r.planned,
    dry_run: r.dryRun,
  };
}

export function directoryOk(count: string, list: string, verb: string, r: DirectoryTransferResult) {
  const text = r.dryRun
    ? `dry run: would ${verb} ${r.planned} file(s), ${formatBytes(r.plannedBytes)}; ${r.skipped.length} identical skipped; ${r.conflicts.length} conflict(s)${r.conflicts.length ? `: ${r.conflicts.slice(0, 10).join(", ")}` : ""}`
    : `${verb}ed ${r.transferred} file(s), ${formatBytes(r.bytes)}${r.skipped.length ? `; ${r.skipped.length} already identical, skipped` : ""}`;
  return ok(structured(count, list, r), text);
}

/** A failed transfer still says what completed, and lists the conflicts, in structured form. */
export function directoryFail(count: string, list: string, err: unknown) {
  const details = isStorageError(err) ? (err.details ?? {}) : {};
  const completed = Array.isArray(details.completed) ? (details.completed as string[]) : [];
  const conflicts = Array.isArray(details.conflicts) ? (details.conflicts as string[]) : [];
  return fail(err, {
    [count]: completed.length,
    bytes: 0,
    [list]: completed.slice(0, LISTED),
    skipped: [],
    conflicts: conflicts.slice(0, LISTED),
    planned: 0,
    dry_run: false,
  });
}
