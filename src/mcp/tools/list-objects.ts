import * as z from "zod";
import { q } from "../../core/errors.js";
import { decodeListingCursor, encodeListingCursor, findObjects, MAX_SCANNED } from "../../core/find.js";
import { describeFilter, isFiltering, type ObjectFilter, parseTime } from "../../core/object-filter.js";
import { formatBytes, objectToWire } from "../results.js";
import { bucketInput, defineTool, objectSummary, rangedInt } from "../tool.js";

const SHOWN_IN_TEXT = 50;
const MAX_SIZE = Number.MAX_SAFE_INTEGER;

export const listObjects = defineTool({
  name: "list_objects",
  title: "List objects",
  description: `List objects under a key prefix, one page at a time, optionally only those matching a glob, a size range or a time window (filters are applied while paging, so only matches come back). recursive=false lists one level (delimiter "/") and returns child prefixes like folders. One call examines at most ${MAX_SCANNED} keys; pass next_cursor back as cursor for the next page.`,
  input: {
    prefix: z.string().default("").describe('Key prefix to list under, e.g. "runs/2024/". Empty lists the whole bucket.'),
    recursive: z.boolean().default(true).describe("true: every object under the prefix. false: one level, with child prefixes."),
    limit: rangedInt(1, 1000, "Most entries (matching objects, plus prefixes when unfiltered) in this page, 1-1000.").default(200),
    cursor: z.string().optional().describe("next_cursor from the previous page of this same listing (same prefix, recursive and filters)."),
    glob: z
      .string()
      .optional()
      .describe(
        'Only keys matching this pattern, matched against the whole key: * within one /-segment, ** across segments, ? one character, {a,b} alternatives, \\ escapes. E.g. "experiments/**/*.ckpt".',
      ),
    min_size: rangedInt(0, MAX_SIZE, "Only objects of at least this many bytes.").optional(),
    max_size: rangedInt(0, MAX_SIZE, "Only objects of at most this many bytes.").optional(),
    modified_after: z
      .string()
      .optional()
      .describe(
        'Only objects last modified at or after this ISO 8601 time, e.g. "2026-06-01" or "2026-06-01T12:00:00Z" (UTC unless a zone is given).',
      ),
    modified_before: z.string().optional().describe("Only objects last modified before this ISO 8601 time."),
    ...bucketInput,
  },
  output: {
    objects: z.array(objectSummary),
    prefixes: z.array(z.string()).describe("Child prefixes (only with recursive=false and no filter)."),
    next_cursor: z.string().optional().describe("Present when more entries follow: pass it as cursor."),
    scanned: z
      .number()
      .int()
      .optional()
      .describe(
        `With a filter: the keys examined by this call (at most ${MAX_SCANNED}; a call that stops there still returns next_cursor).`,
      ),
  },
  effect: "read",
  changesBucket: false,
  async handle(args, ctx, extra) {
    const store = ctx.buckets.store(args.bucket);
    store.checkPrefix(args.prefix);
    const filter: ObjectFilter = {
      glob: args.glob,
      minSize: args.min_size,
      maxSize: args.max_size,
      modifiedAfter: args.modified_after === undefined ? undefined : parseTime(args.modified_after, "modified_after"),
      modifiedBefore: args.modified_before === undefined ? undefined : parseTime(args.modified_before, "modified_before"),
    };
    const binding = { bucket: store.name, prefix: args.prefix, delimiter: args.recursive ? undefined : ("/" as const), filter };
    const found = await findObjects(store, {
      ...binding,
      limit: args.limit,
      from: args.cursor === undefined ? undefined : decodeListingCursor(binding, args.cursor),
      signal: extra.signal,
    });
    const filtering = isFiltering(filter);
    const nextCursor = found.next ? encodeListingCursor(binding, found.next) : undefined;
    const objects = found.objects.map(objectToWire);
    const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
    const what = filtering
      ? `${plural(objects.length, "matching object", "matching objects")}`
      : plural(objects.length, "object", "objects");
    const levels = args.recursive || filtering ? "" : ` and ${plural(found.prefixes.length, "prefix", "prefixes")}`;
    const scope = filtering ? ` (${describeFilter(filter)}; ${found.scanned} keys examined)` : "";
    const more = nextCursor
      ? filtering && found.scanned >= MAX_SCANNED
        ? ` (stopped after examining ${MAX_SCANNED} keys; more: pass next_cursor as cursor)`
        : " (more: pass next_cursor as cursor)"
      : "";
    const lines = [
      `${what}${levels} under ${q(args.prefix)}${scope}${more}`,
      ...found.prefixes.slice(0, SHOWN_IN_TEXT).map((p) => `${p}  (prefix)`),
      ...objects.slice(0, SHOWN_IN_TEXT).map((o) => `${o.key}  ${formatBytes(o.size)}  ${o.last_modified}`),
    ];
    const shown = Math.min(found.prefixes.length, SHOWN_IN_TEXT) + Math.min(objects.length, SHOWN_IN_TEXT);
    if (shown < objects.length + found.prefixes.length)
      lines.push(`… ${objects.length + found.prefixes.length - shown} more in structuredContent`);
    return {
      structured: {
        objects,
        prefixes: found.prefixes,
        next_cursor: nextCursor,
        ...(filtering ? { scanned: found.scanned } : {}),
      },
      text: lines.join("\n"),
    };
  },
});
