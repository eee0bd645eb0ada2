import * as z from "zod";
import type { StorageError } from "../../core/errors.js";
import { q } from "../../core/errors.js";
import { directoryPrefix } from "../../core/keys.js";
import { type CopyObjectsResult, prepareCopyObjects } from "../../core/transfer/index.js";
import { dryRunField, maxWorkersField } from "../directory.js";
import { LISTED } from "../limits.js";
import { formatBytes } from "../results.js";
import { backgroundInput, bucketInput, defineTool, errorShape, overwriteField, transferReply } from "../tool.js";

const output = {
  copied: z.number().int().describe("Objects written by this call."),
  bytes: z.number().int().describe("Bytes written by this call."),
  keys: z.array(z.string()).describe(`The first ${LISTED} destination keys written.`),
  skipped: z.array(z.string()).describe(`Destination keys already holding identical bytes, left alone (first ${LISTED}).`),
  conflicts: z
    .array(z.string())
    .describe(`Destination keys that exist with other content (first ${LISTED}); without overwrite the call writes nothing.`),
  planned: z.number().int().describe("Objects this call set out to copy (or, with dry_run, would copy)."),
  dry_run: z.boolean(),
  moved: z.number().int().describe("Sources deleted after their copy was confirmed (move: true)."),
  source_changed: z
    .array(z.string())
    .describe(
      `move: true: sources left in place because they changed (or went) after the version copied was read; the copy holds that version (first ${LISTED}).`,
    ),
  server_side: z
    .boolean()
    .describe("true: the server copied the bytes itself (one endpoint and credentials); false: they streamed through r2-mcp."),
  error: errorShape,
};

type Output = z.input<z.ZodObject<typeof output>>;

function reply(r: CopyObjectsResult, move: boolean, from: string, to: string): { structured: Output; text: string } {
  const structured: Output = {
    copied: r.transferred,
    bytes: r.bytes,
    keys: r.items.slice(0, LISTED),
    skipped: r.skipped.slice(0, LISTED),
    conflicts: r.conflicts.slice(0, LISTED),
    planned: r.planned,
    dry_run: r.dryRun,
    moved: r.moved.length,
    source_changed: r.sourceChanged.slice(0, LISTED),
    server_side: r.serverSide,
  };
  const how = r.serverSide ? "server-side" : "streamed through r2-mcp";
  if (r.dryRun) {
    const conflicts = r.conflicts.length ? `: ${r.conflicts.slice(0, 10).join(", ")}` : "";
    return {
      structured,
      text: `dry run: would ${move ? "move" : "copy"} ${r.planned} object(s), ${formatBytes(r.plannedBytes)} (${how}) from ${from} to ${to}; ${r.skipped.length} identical skipped; ${r.conflicts.length} conflict(s)${conflicts}`,
    };
  }
  const skipped = r.skipped.length ? `; ${r.skipped.length} already identical, skipped` : "";
  const changed = r.sourceChanged.length
    ? `; ${r.sourceChanged.length} source(s) changed after being copied and were kept (check them): ${r.sourceChanged.slice(0, 10).map(q).join(", ")}`
    : "";
  const moved = move ? `; ${r.moved.length} source(s) deleted${changed}` : "";
  return {
    structured,
    text: `copied ${r.transferred} object(s), ${formatBytes(r.bytes)} (${how}) from ${from} to ${to}${skipped}${moved}`,
  };
}

/** A failed copy still says what completed, what was moved, and the conflicts. */
function failure(err: StorageError): Output {
  const details = err.details ?? {};
  const list = (name: string) => (Array.isArray(details[name]) ? (details[name] as string[]) : []);
  const completed = list("completed");
  return {
    copied: completed.length,
    bytes: typeof details.bytes === "number" ? details.bytes : 0,
    keys: completed.slice(0, LISTED),
    skipped: [],
    conflicts: list("conflicts").slice(0, LISTED),
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
    "Copy one object, or every object under a prefix (recursive: true, structure kept), within a bucket or from source_bucket to bucket; on one endpoint and account the server copies the bytes itself. Without overwrite, if any destination exists with other content the whole call fails before anything is written and lists the conflicts; destinations already holding identical bytes are skipped, so repeating an interrupted call finishes it. By default it only adds objects and never changes or removes one; it is marked destructive because overwrite: true replaces destinations and move: true deletes each source once its copy is confirmed. Use dry_run first for large copies.",
  input: {
    source: z.string().describe('Source key, or with recursive: true a prefix (a trailing / is added), e.g. "experiments/exp42/".'),
    destination: z
      .string()
      .describe(
        'Destination key, or with recursive: true a prefix (a trailing / is added), e.g. "experiments/exp43/". It may not overlap the source in one bucket.',
      ),
    source_bucket: z
      .string()
      .optional()
      .describe("Configured bucket to copy from (list_buckets shows them). Default: the destination bucket."),
    ...bucketInput,
    recursive: z
      .boolean()
      .default(false)
      .describe("false: source and destination are keys. true: they are prefixes; every object below is copied."),
    overwrite: overwriteField("destination objects"),
    move: z
      .boolean()
      .default(false)
      .describe(
        "true: delete each source after its copy is confirmed (same size and ETag), and only while it is still the version copied; a source whose copy fails, or that changed since, stays where it was.",
      ),
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
