import * as z from "zod";
import type { StorageError } from "../../core/errors.js";
import { q } from "../../core/errors.js";
import { directoryPrefix } from "../../core/keys.js";
import { type CopyObjectsResult, prepareCopyObjects } from "../../core/transfer/index.js";
import type { ConflictDetail, ConflictSide } from "../../core/transfer/plan.js";
import { dryRunField, maxWorkersField } from "../directory.js";
import { LISTED } from "../limits.js";
import { counted, formatBytes } from "../results.js";
import { backgroundInput, bucketInput, defineTool, errorShape, int, outputObject, overwriteField, transferReply } from "../tool.js";

const side = outputObject({ size: int(), last_modified: z.string(), etag: z.string() });

const output = {
  copied: int().describe("Objects written."),
  bytes: int(),
  keys: z.array(z.string()).describe(`First ${LISTED} written (dry run: to write).`),
  skipped: z.array(z.string()).describe(`Identical, left alone (first ${LISTED}).`),
  conflicts: z.array(z.string()).describe(`Existing with other content (first ${LISTED}).`),
  conflict_details: z.array(outputObject({ key: z.string(), source_key: z.string(), source: side, existing: side.optional() })),
  planned: int(),
  dry_run: z.boolean(),
  moved: int().describe("Sources deleted."),
  source_changed: z.array(z.string()).describe(`move: sources kept because they changed after being copied (first ${LISTED}).`),
  server_side: z.boolean().describe("false: bytes streamed through r2-mcp."),
  error: errorShape,
};

type Output = z.input<z.ZodObject<typeof output>>;
type Wire = Output["conflict_details"][number];

/** How many written keys a real run's text names (its structured content lists LISTED). */
const WRITTEN_IN_TEXT = 10;

const sideOf = (s: ConflictSide) => ({ size: s.size, last_modified: s.modified.toISOString(), etag: s.etag ?? "" });

function conflictToWire(d: ConflictDetail): Wire {
  return { key: d.destination, source_key: d.from, source: sideOf(d.source), ...(d.existing ? { existing: sideOf(d.existing) } : {}) };
}

function conflictLine(c: Wire): string {
  const existing = c.existing
    ? `${formatBytes(c.existing.size)}, modified ${c.existing.last_modified}, etag ${c.existing.etag}`
    : "unknown";
  return `  conflict ${q(c.key)} ← ${q(c.source_key)}: source ${formatBytes(c.source.size)}, modified ${c.source.last_modified}, etag ${c.source.etag}; existing ${existing}`;
}

/** The text names what the structured content lists (some hosts show the model only the text). */
function reply(r: CopyObjectsResult, move: boolean, from: string, to: string): { structured: Output; text: string } {
  const details = r.conflictDetails.slice(0, LISTED).map(conflictToWire);
  const keys = (r.dryRun ? r.wouldWrite : r.items).slice(0, LISTED);
  const structured: Output = {
    copied: r.transferred,
    bytes: r.bytes,
    keys,
    skipped: r.skipped.slice(0, LISTED),
    conflicts: r.conflicts.slice(0, LISTED),
    conflict_details: details,
    planned: r.planned,
    dry_run: r.dryRun,
    moved: r.moved.length,
    source_changed: r.sourceChanged.slice(0, LISTED),
    server_side: r.serverSide,
  };
  const how = r.serverSide ? "server-side" : "streamed through r2-mcp";
  const lines: string[] = [];
  if (r.dryRun) {
    lines.push(
      `dry run: would ${move ? "move" : "copy"} ${counted(r.planned, "object")}, ${formatBytes(r.plannedBytes)} (${how}) from ${from} to ${to}; ${r.skipped.length} identical skipped; ${counted(r.conflicts.length, "conflict")}`,
    );
    if (keys.length > 0)
      lines.push(`would write${r.planned > keys.length ? ` (first ${keys.length})` : ""}:`, ...keys.map((k) => `  ${k}`));
    lines.push(...details.map(conflictLine));
    if (r.conflicts.length > details.length) lines.push(`  … ${r.conflicts.length - details.length} more conflicts`);
  } else {
    const skipped = r.skipped.length ? `; ${r.skipped.length} already identical, skipped` : "";
    const moved = move ? `; ${counted(r.moved.length, "source")} deleted` : "";
    const changed = r.sourceChanged.slice(0, LISTED);
    const kept = changed.length
      ? `; ${counted(r.sourceChanged.length, "source")} changed after being copied and ${r.sourceChanged.length === 1 ? "was" : "were"} kept (check them, listed below)`
      : "";
    lines.push(
      `copied ${counted(r.transferred, "object")}, ${formatBytes(r.bytes)} (${how}) from ${from} to ${to}${skipped}${moved}${kept}`,
    );
    const named = keys.slice(0, WRITTEN_IN_TEXT);
    if (named.length > 0) {
      lines.push(`keys written${r.transferred > named.length ? ` (first ${named.length})` : ""}:`, ...named.map((k) => `  ${k}`));
      if (r.transferred > named.length) lines.push(`  … and ${r.transferred - named.length} more`);
    }
    if (changed.length > 0) lines.push("sources kept:", ...changed.map((k) => `  ${k}`));
  }
  return { structured, text: lines.join("\n") };
}

/** A failed copy still says what completed, what was moved, and the conflicts with both sides. */
function failure(err: StorageError): Output {
  const details = err.details ?? {};
  const list = (name: string) => (Array.isArray(details[name]) ? (details[name] as string[]) : []);
  const described = Array.isArray(details.conflictDetails) ? (details.conflictDetails as ConflictDetail[]) : [];
  const completed = list("completed");
  return {
    copied: completed.length,
    bytes: typeof details.bytes === "number" ? details.bytes : 0,
    keys: completed.slice(0, LISTED),
    skipped: [],
    conflicts: list("conflicts").slice(0, LISTED),
    conflict_details: described.slice(0, LISTED).map(conflictToWire),
    planned: 0,
    dry_run: false,
    moved: list("moved").length,
    source_changed: list("sourceChanged").slice(0, LISTED),
    server_side: false,
  };
}

export const copyObjects = defineTool({
  name: "copy_objects",
  title: "Copy or move objects",
  description:
    "Copy an object, or all under a prefix (recursive), within a bucket or from source_bucket; server-side on one endpoint. A destination with other content fails the call before any write; identical ones are skipped. move deletes each source once copied.",
  input: {
    source: z.string().describe('Key, or with recursive a prefix ("/" added).'),
    destination: z.string().describe('Key, or with recursive a prefix ("/" added); not overlapping source.'),
    source_bucket: z.string().optional().describe("Default: bucket."),
    ...bucketInput,
    recursive: z.boolean().default(false).describe("true: source and destination are prefixes."),
    overwrite: overwriteField("destinations"),
    move: z.boolean().default(false).describe("true: delete each source once its copy is confirmed, if unchanged since."),
    dry_run: dryRunField,
    max_workers: maxWorkersField,
    ...backgroundInput,
  },
  output,
  effect: "destructive",
  changesBucket: true,
  onError: failure,
  async handle(args, ctx, extra) {
    const destination = ctx.buckets.store(args.bucket);
    const source = args.source_bucket === undefined ? destination : ctx.buckets.store(args.source_bucket, "source_bucket");
    // Refused before anything is read or written (and before any job exists): the destination is
    // written, a moved source deleted.
    if (!args.dry_run) {
      destination.checkWritable(args.destination || "(bucket root)", "copied to");
      if (args.move) source.checkWritable(args.source || "(bucket root)", "moved (deleted)");
    }
    if (args.recursive) {
      source.checkPrefix(directoryPrefix(args.source), "source");
      destination.checkPrefix(directoryPrefix(args.destination), "destination");
    }
    // Listed, vetted and conflicts refused here: a background call fails before its job exists.
    const prepared = await prepareCopyObjects(source, args.source, destination, args.destination, {
      recursive: args.recursive,
      overwrite: args.overwrite,
      move: args.move,
      dryRun: args.dry_run,
      maxWorkers: args.max_workers,
      signal: extra.signal,
      // A person is asked first (--confirm): one question for what a move deletes and an overwrite replaces.
      beforeDestroy: ({ replaced, moved }) =>
        extra.confirm(
          moved.length > 0
            ? {
                action: "move",
                keys: moved.map((o) => o.key),
                bytes: moved.reduce((n, o) => n + o.size, 0),
                bucket: source.name,
                ...(replaced.length > 0 ? { replacing: replaced.length } : {}),
              }
            : {
                action: "replace",
                keys: replaced.map((o) => o.key),
                bytes: replaced.reduce((n, o) => n + o.size, 0),
                bucket: destination.name,
              },
        ),
    });
    const at = (bucket: string, key: string) => (ctx.buckets.size > 1 ? `${bucket}:${q(key)}` : q(key));
    return transferReply(prepared, (result) => {
      if (!result.dryRun) {
        ctx.log("info", args.move ? "moved objects" : "copied objects", {
          source_bucket: source.name,
          source: args.source,
          destination: args.destination,
          objects: result.transferred,
          bytes: result.bytes,
          moved: result.moved.length,
          server_side: result.serverSide,
        });
      }
      return reply(result, args.move, at(source.name, args.source), at(destination.name, args.destination));
    });
  },
});
