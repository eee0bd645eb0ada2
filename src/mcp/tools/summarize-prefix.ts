import * as z from "zod";
import { q } from "../../core/errors.js";
import { DEFAULT_SUMMARY_MAX_OBJECTS, MAX_SUMMARY_OBJECTS, summarizePrefix as summarize } from "../../core/summary.js";
import { counted, formatBytes } from "../results.js";
import { bucketInput, defineTool, rangedInt } from "../tool.js";

const totals = z.object({ objects: z.number().int(), bytes: z.number().int() });

export const summarizePrefix = defineTool({
  name: "summarize_prefix",
  title: "Summarize a prefix",
  description:
    "How many objects and bytes are under a prefix, the largest and newest objects, and totals by extension and by child folder, from listings alone (no object is read). Use it instead of listing everything to answer 'how big is it, what is in it, what changed'.",
  input: {
    prefix: z.string().default("").describe('Key prefix to summarize, e.g. "experiments/exp42/". Empty summarizes the whole bucket.'),
    max_objects: rangedInt(1, MAX_SUMMARY_OBJECTS, "Stop after this many objects; the result then says truncated: true.").default(
      DEFAULT_SUMMARY_MAX_OBJECTS,
    ),
    ...bucketInput,
  },
  output: {
    prefix: z.string(),
    objects: z.number().int(),
    bytes: z.number().int(),
    largest: z.array(z.object({ key: z.string(), size: z.number().int() })).describe("Up to 10, largest first."),
    newest: z.array(z.object({ key: z.string(), last_modified: z.string() })).describe("Up to 10, newest first."),
    oldest_modified: z.string().optional(),
    newest_modified: z.string().optional(),
    by_extension: z.array(totals.extend({ extension: z.string() })).describe('Up to 20, by bytes; "" for no extension.'),
    by_prefix: z.array(totals.extend({ prefix: z.string() })).describe("The child folders one level below, up to 50, by bytes."),
    truncated: z.boolean().describe("true: stopped at max_objects; the figures cover the objects scanned."),
    scanned: z.number().int(),
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
