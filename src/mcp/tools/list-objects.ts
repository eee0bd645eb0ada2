import * as z from "zod";
import { q } from "../../core/errors.js";
import { decodeListingCursor, encodeListingCursor, findObjects, MAX_SCANNED } from "../../core/find.js";
import { describeFilter, isFiltering, type ObjectFilter, parseTime } from "../../core/object-filter.js";
import { counted, formatBytes, objectToWire } from "../results.js";
import { bucketInput, defineTool, int, objectSummary, rangedInt } from "../tool.js";

const MAX_SIZE = Number.MAX_SAFE_INTEGER;

export const listObjects = defineTool({
  name: "list_objects",
  title: "List objects",
  description: `One page of objects under a prefix (next_cursor → cursor), filtered by glob, size or time if asked; at most ${MAX_SCANNED} keys examined a call.`,
  input: {
    prefix: z.string().default("").describe('e.g. "runs/2024/".'),
    recursive: z.boolean().default(true).describe("false: one level, with child prefixes."),
    limit: rangedInt(1, 1000, "Page size.").default(200),
    cursor: z.string().optional().describe("A next_cursor."),
    glob: z.string().optional().describe('Whole-key glob, e.g. "runs/**/*.ckpt".'),
    min_size: rangedInt(0, MAX_SIZE, "Minimum bytes.").optional(),
    max_size: rangedInt(0, MAX_SIZE, "Maximum bytes.").optional(),
    modified_after: z.string().optional().describe('ISO 8601, e.g. "2026-06-01".'),
    modified_before: z.string().optional().describe("ISO 8601."),
    ...bucketInput,
  },
  output: {
    objects: z.array(objectSummary),
    prefixes: z.array(z.string()),
    next_cursor: z.string().optional(),
    scanned: int().optional().describe("With a filter: keys examined."),
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
    const what = filtering ? counted(objects.length, "matching object") : counted(objects.length, "object");
    const levels = args.recursive || filtering ? "" : ` and ${counted(found.prefixes.length, "prefix", "prefixes")}`;
    const scope = filtering ? ` (${describeFilter(filter)}; ${found.scanned} keys examined)` : "";
    const more = nextCursor
      ? filtering && found.scanned >= MAX_SCANNED
        ? ` (stopped after examining ${MAX_SCANNED} keys); more follow`
        : "; more follow"
      : "";
    // Every entry of the page, one compact line each: some hosts show the model only this text.
    const lines = [
      `${what}${levels} under ${q(args.prefix)}${scope}${more}`,
      ...found.prefixes.map((p) => `${p}  (prefix)`),
      ...objects.map((o) => `${o.key}  ${formatBytes(o.size)}  ${o.last_modified.replace(/\.000Z$/, "Z")}`),
    ];
    if (nextCursor) lines.push(`next_cursor: ${nextCursor}`);
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
