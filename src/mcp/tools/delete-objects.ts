import * as z from "zod";
import {
  checkDeletePolicy,
  DEFAULT_DELETE_MAX_OBJECTS,
  type DeleteObjectsResult,
  MAX_DELETE_KEYS,
  MAX_DELETE_OBJECTS,
  prepareDeleteObjects,
} from "../../core/delete-objects.js";
import { q, type StorageError } from "../../core/errors.js";
import { LISTED } from "../limits.js";
import { formatBytes } from "../results.js";
import { backgroundInput, bucketInput, defineTool, errorShape, rangedInt, type ToolReply, transferReply } from "../tool.js";

const SHOWN_IN_TEXT = 10;

const output = {
  deleted: z.number().int().describe("Objects deleted by this call (with dry_run: that would be deleted)."),
  bytes: z.number().int().describe("Their bytes."),
  keys: z.array(z.string()).describe(`The first ${LISTED} of them.`),
  failed: z
    .array(z.object({ key: z.string(), code: z.string().describe("Stable error code, e.g. access_denied.") }))
    .describe(`Objects the store refused to delete (first ${LISTED}); the others were deleted.`),
  failed_count: z.number().int().describe("How many failed in all."),
  missing: z.array(z.string()).describe(`Keys of a keys list that did not exist (first ${LISTED}): nothing to delete.`),
  dry_run: z.boolean(),
  prefix: z.string().optional().describe('The folder deleted under, with its trailing "/".'),
  error: errorShape,
};

type Output = z.input<z.ZodObject<typeof output>>;

function structuredOf(r: DeleteObjectsResult): Output {
  return {
    deleted: r.deleted,
    bytes: r.bytes,
    keys: r.keys.slice(0, LISTED),
    failed: r.failed.slice(0, LISTED).map(({ key, code }) => ({ key, code })),
    failed_count: r.failed.length,
    missing: r.missing.slice(0, LISTED),
    dry_run: r.dryRun,
    ...(r.prefix !== undefined ? { prefix: r.prefix } : {}),
  };
}

function reply(r: DeleteObjectsResult): ToolReply<typeof output> {
  const where = r.prefix !== undefined ? ` under ${q(r.prefix)}` : "";
  const shown = r.keys.slice(0, SHOWN_IN_TEXT);
  const lines = [
    r.dryRun
      ? `dry run: would delete ${r.deleted} object(s), ${formatBytes(r.bytes)}${where}; nothing was deleted`
      : `deleted ${r.deleted} object(s), ${formatBytes(r.bytes)}${where}`,
  ];
  if (r.failed.length) {
    lines.unshift(`${r.failed.length} object(s) could NOT be deleted and remain:`);
    lines.push(...r.failed.slice(0, SHOWN_IN_TEXT).map((f) => `failed ${f.code}: ${f.key}`));
  }
  if (shown.length) lines.push(...shown.map((k) => `${r.dryRun ? "would delete" : "deleted"} ${k}`));
  if (r.keys.length > shown.length) lines.push(`… ${r.keys.length - shown.length} more (first ${LISTED} in structuredContent)`);
  if (r.missing.length) lines.push(`${r.missing.length} key(s) did not exist: ${r.missing.slice(0, SHOWN_IN_TEXT).map(q).join(", ")}`);
  return { structured: structuredOf(r), text: lines.join("\n") };
}

/** A failure part-way (cancelled, the server gone) still says what was deleted. */
function failure(err: StorageError): Output {
  const details = err.details ?? {};
  const keys = Array.isArray(details.deleted) ? (details.deleted as string[]) : [];
  const failed = Array.isArray(details.failed) ? (details.failed as DeleteObjectsResult["failed"]) : [];
  return structuredOf({
    deleted: keys.length,
    bytes: typeof details.bytes === "number" ? details.bytes : 0,
    keys,
    failed,
    missing: [],
    dryRun: false,
  });
}

export const deleteObjects = defineTool({
  name: "delete_objects",
  title: "Delete many objects",
  description: `Delete every object under a folder prefix, or an exact list of keys, in batches. This cannot be undone: try dry_run first to see what would go. A prefix is a folder ("exp4" deletes "exp4/…", never "exp42/…"). More objects than max_objects is a too_large error and nothing is deleted. Objects written under the prefix after it was listed are left alone.`,
  input: {
    prefix: z
      .string()
      .optional()
      .describe('Folder to empty, e.g. "experiments/exp42/" (a trailing / is added). Not empty. Give this or keys, not both.'),
    keys: z
      .array(z.string())
      .optional()
      .describe(
        `Exact keys to delete, 1-${MAX_DELETE_KEYS}. Keys that do not exist are reported as missing. Give this or prefix, not both.`,
      ),
    dry_run: z.boolean().default(false).describe("true: delete nothing; report what would be deleted."),
    max_objects: rangedInt(
      1,
      MAX_DELETE_OBJECTS,
      `Refuse (too_large, nothing deleted) when more objects than this would be deleted, 1-${MAX_DELETE_OBJECTS}.`,
    ).default(DEFAULT_DELETE_MAX_OBJECTS),
    ...backgroundInput,
    ...bucketInput,
  },
  output,
  effect: "destructive",
  changesBucket: true,
  onError: failure,
  async handle(args, ctx, extra) {
    const store = ctx.buckets.store(args.bucket);
    const target = { prefix: args.prefix, keys: args.keys };
    checkDeletePolicy(store, target, args.dry_run);
    // Listed, counted (too_large) and checked here: a background call fails before its job exists.
    const prepared = await prepareDeleteObjects(store, target, {
      dryRun: args.dry_run,
      maxObjects: args.max_objects,
      signal: extra.signal,
      // A person is asked first (--confirm), naming what would go; nothing is asked for a dry run.
      beforeDelete: ({ keys, bytes }) => extra.confirm({ action: "delete", keys, bytes, bucket: store.name }),
    });
    return transferReply(prepared, (result) => {
      if (!result.dryRun) ctx.log("info", "deleted objects", { prefix: result.prefix, objects: result.deleted, bytes: result.bytes });
      return reply(result);
    });
  },
});
