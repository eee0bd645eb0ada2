import * as z from "zod";
import { q } from "../../core/errors.js";
import { DEFAULT_SUMMARY_MAX_OBJECTS, MAX_SUMMARY_OBJECTS, summarizePrefix as summarize } from "../../core/summary.js";
import { counted, formatBytes } from "../results.js";
import { bucketInput, defineTool, int, outputObject, rangedInt } from "../tool.js";

const totals = { objects: int(), bytes: int() };

export const summarizePrefix = defineTool({
  name: "summarize_prefix",
  title: "Summarize a prefix",
  description:
    "Objects and bytes under a prefix, the largest and newest objects, totals by extension and by child folder, from listings alone. Answers 'how big, what is in it, what changed'.",
  input: {
    prefix: z.string().default("").describe('Key prefix, e.g. "experiments/exp42/".'),
    max_objects: rangedInt(1, MAX_SUMMARY_OBJECTS, "Stop after this many objects (truncated: true).").default(DEFAULT_SUMMARY_MAX_OBJECTS),
    ...bucketInput,
  },
  output: {
    prefix: z.string(),
    objects: int(),
    bytes: int(),
    largest: z.array(outputObject({ key: z.string(), size: int() })),
    newest: z.array(outputObject({ key: z.string(), last_modified: z.string() })),
    oldest_modified: z.string().optional(),
    newest_modified: z.string().optional(),
    by_extension: z.array(outputObject({ ...totals, extension: z.string() })),
    by_prefix: z.array(outputObject({ ...totals, prefix: z.string() })).describe("Child folders."),
    truncated: z.boolean(),
    scanned: int(),
  },
  effect: "read",
  changesBucket: false,
  async handle(args, ctx, extra) {
    const store = ctx.buckets.store(args.bucket);
    store.checkPrefix(args.prefix);
    const s = await summarize(store, args.prefix, { maxObjects: args.max_objects, signal: extra.signal });
    const lines = [
      `${q(args.prefix)}: ${counted(s.objects, "object")}, ${formatBytes(s.bytes)}${s.truncated ? ` (truncated after ${s.scanned} objects)` : ""}`,
    ];
    if (s.oldestModified && s.newestModified) {
      lines.push(`modified ${s.oldestModified.toISOString()} … ${s.newestModified.toISOString()}`);
    }
    if (s.byPrefix.length) lines.push(`folders: ${s.byPrefix.map((p) => `${p.prefix} ${p.objects} / ${formatBytes(p.bytes)}`).join("; ")}`);
    if (s.byExtension.length) {
      lines.push(`extensions: ${s.byExtension.map((e) => `${e.extension || "(none)"} ${e.objects} / ${formatBytes(e.bytes)}`).join("; ")}`);
    }
    if (s.largest.length) lines.push(`largest: ${s.largest.map((o) => `${o.key} ${formatBytes(o.size)}`).join("; ")}`);
    if (s.newest.length) lines.push(`newest: ${s.newest.map((o) => `${o.key} ${o.lastModified.toISOString()}`).join("; ")}`);
    return {
      structured: {
        prefix: args.prefix,
        objects: s.objects,
        bytes: s.bytes,
        largest: s.largest,
        newest: s.newest.map((o) => ({ key: o.key, last_modified: o.lastModified.toISOString() })),
        oldest_modified: s.oldestModified?.toISOString(),
        newest_modified: s.newestModified?.toISOString(),
        by_extension: s.byExtension,
        by_prefix: s.byPrefix,
        truncated: s.truncated,
        scanned: s.scanned,
      },
      text: lines.join("\n"),
    };
  },
});
