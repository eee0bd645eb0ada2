import * as z from "zod";
import { q } from "../../core/errors.js";
import { formatBytes, objectToWire } from "../results.js";
import { bucketInput, defineTool, objectSummary, rangedInt } from "../tool.js";

const SHOWN_IN_TEXT = 50;

export const listObjects = defineTool({
  name: "list_objects",
  title: "List objects",
  description:
    'List objects under a key prefix, one page at a time. recursive=false lists one level (delimiter "/") and returns child prefixes like folders. Pass next_cursor back as cursor for the next page.',
  input: {
    prefix: z.string().default("").describe('Key prefix to list under, e.g. "runs/2024/". Empty lists the whole bucket.'),
    recursive: z.boolean().default(true).describe("true: every object under the prefix. false: one level, with child prefixes."),
    limit: rangedInt(1, 1000, "Most entries (objects plus prefixes) in this page, 1-1000.").default(200),
    cursor: z.string().optional().describe("next_cursor from the previous page of this same listing."),
    ...bucketInput,
  },
  output: {
    objects: z.array(objectSummary),
    prefixes: z.array(z.string()).describe("Child prefixes (only with recursive=false)."),
    next_cursor: z.string().optional().describe("Present when more entries follow: pass it as cursor."),
  },
  effect: "read",
  changesBucket: false,
  async handle(args, ctx) {
    const store = ctx.buckets.store(args.bucket);
    const page = await store.list({
      prefix: args.prefix,
      limit: args.limit,
      delimiter: args.recursive ? undefined : "/",
      cursor: args.cursor,
    });
    const objects = page.objects.map(objectToWire);
    const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;
    const lines = [
      `${plural(objects.length, "object", "objects")}${args.recursive ? "" : ` and ${plural(page.prefixes.length, "prefix", "prefixes")}`} under ${q(args.prefix)}${page.nextCursor ? " (more: pass next_cursor as cursor)" : ""}`,
      ...page.prefixes.slice(0, SHOWN_IN_TEXT).map((p) => `${p}  (prefix)`),
      ...objects.slice(0, SHOWN_IN_TEXT).map((o) => `${o.key}  ${formatBytes(o.size)}  ${o.last_modified}`),
    ];
    const shown = Math.min(page.prefixes.length, SHOWN_IN_TEXT) + Math.min(objects.length, SHOWN_IN_TEXT);
    if (shown < objects.length + page.prefixes.length)
      lines.push(`… ${objects.length + page.prefixes.length - shown} more in structuredContent`);
    return { structured: { objects, prefixes: page.prefixes, next_cursor: page.nextCursor }, text: lines.join("\n") };
  },
});
