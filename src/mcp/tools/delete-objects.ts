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

/** How many deleted keys the text names (the structured result lists LISTED). */
const SHOWN_IN_TEXT = 10;

import { counted, formatBytes } from "../results.js";
import {
  backgroundInput,
  bucketInput,
  defineTool,
  errorShape,
  int,
  outputObject,
  rangedInt,
  type ToolReply,
  transferReply,
} from "../tool.js";

const output = {
  deleted: int().describe("Objects deleted (dry_run: that would be)."),
  bytes: int(),
  keys: z.array(z.string()).describe(`The first ${LISTED}.`),
  failed: z.array(outputObject({ key: z.string(), code: z.string() })).describe(`Refused by the store, so still there (first ${LISTED}).`),
  failed_count: int(),
  missing: z.array(z.string()).describe(`Listed keys that did not exist (first ${LISTED}).`),
  dry_run: z.boolean(),
  prefix: z.string().optional().describe('The folder, with its "/".'),
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

/**
 * The text, for hosts that show the model only the text: what could not be deleted, every one the
 * result lists (they need acting on); the first SHOWN_IN_TEXT deleted (or to delete) and where the
 * rest are (all under the prefix, or among the keys given): enough to tell the person, and a small
 * answer for a large folder.
 */
function reply(r: DeleteObjectsResult): ToolReply<typeof output> {
  const where = r.prefix !== undefined ? ` under ${q(r.prefix)}` : "";
  const objects = counted(r.deleted, "object");
  const lines = [
    r.dryRun
      ? `dry run: would delete ${objects}, ${formatBytes(r.bytes)}${where}; nothing was deleted`
      : `deleted ${objects}, ${formatBytes(r.bytes)}${where}`,
  ];
  if (r.failed.length) {
    lines.unshift(`${counted(r.failed.length, "object")} could NOT be deleted and remain:`);
    lines.push(...r.failed.slice(0, LISTED).map((f) => `failed ${f.code}: ${f.key}`), ...unlisted(r.failed.length));
  }
  const verb = r.dryRun ? "would delete" : "deleted";
  lines.push(...r.keys.slice(0, SHOWN_IN_TEXT).map((k) => `${verb} ${k}`));
  if (r.keys.length > SHOWN_IN_TEXT) {
    const rest = r.keys.length - SHOWN_IN_TEXT;
    lines.push(`… and ${rest} more, ${r.prefix !== undefined ? `all under ${q(r.prefix)}` : "among the keys given"}`);
  }
  if (r.missing.length) {
    lines.push(`${counted(r.missing.length, "key")} did not exist:`, ...r.missing.slice(0, LISTED).map((k) => `missing ${k}`));
    lines.push(...unlisted(r.missing.length));
  }
  return { structured: structuredOf(r), text: lines.join("\n") };
}

/** The line that says how many were not named (the structured content lists the same first LISTED). */
function unlisted(total: number): string[] {
  return total > LISTED ? [`… and ${total - LISTED} more (not listed)`] : [];
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
  description: `Delete everything under a folder prefix ("exp4" is "exp4/…", never "exp42/…") or a list of keys. Cannot be undone: dry_run first shows what would go. Over max_objects is too_large and nothing is deleted.`,
  input: {
    prefix: z.string().optional().describe('Folder to empty, e.g. "runs/exp42/" ("/" added). This or keys.'),
    keys: z.array(z.string()).optional().describe(`Exact keys, 1-${MAX_DELETE_KEYS}. This or prefix.`),
    dry_run: z.boolean().default(false).describe("Preview: delete nothing."),
    max_objects: rangedInt(1, MAX_DELETE_OBJECTS, "More is too_large (nothing deleted).").default(DEFAULT_DELETE_MAX_OBJECTS),
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
