import * as z from "zod";
import { compareDirectory as compare } from "../../core/compare.js";
import { q } from "../../core/errors.js";
import { directoryPrefix } from "../../core/keys.js";
import { filterFields } from "../directory.js";
import { LISTED } from "../limits.js";
import { progressReporter } from "../progress.js";
import { formatBytes } from "../results.js";
import { bucketInput, defineTool, int } from "../tool.js";

const paths = (what: string) => z.array(z.string()).describe(`${what} (first ${LISTED}, relative paths, sorted).`);

export const compareDirectory = defineTool({
  name: "compare_directory",
  title: "Compare a local folder with a prefix",
  description:
    "Say whether a local folder (inside the allowed roots) and the objects under a prefix hold the same files: identical (same size and bytes, checked against the ETag, multipart ETags included), different (with the reason), only local, only remote. Reads only; changes nothing. Use it before or after a transfer to answer 'is my copy identical to the bucket?'.",
  input: {
    local_dir: z.string().describe("Local folder to compare."),
    prefix: z
      .string()
      .describe('Key prefix to compare with, e.g. "experiments/exp42/" (a trailing / is added). Empty compares with the bucket root.'),
    ...filterFields,
    ...bucketInput,
  },
  output: {
    identical: int().describe("Files with the same size and bytes on both sides."),
    different: int().describe("Files on both sides that differ, or whose ETag cannot be checked."),
    only_local: int(),
    only_remote: int(),
    in_sync: z.boolean().describe("true when every file is identical and none is on one side only."),
    identical_paths: paths("Identical files"),
    different_paths: z
      .array(
        z.object({
          path: z.string(),
          reason: z.enum(["size_differs", "content_differs", "etag_unverifiable"]),
          detail: z.string(),
        }),
      )
      .describe(
        `Different files (first ${LISTED}): size_differs; content_differs (same size, other bytes); etag_unverifiable (the ETag cannot be recomputed from the local file, e.g. an unknown multipart part size).`,
      ),
    only_local_paths: paths("Files only in local_dir"),
    only_remote_paths: paths("Objects only under the prefix"),
    bytes_local: int().describe("Bytes of the local files compared."),
    bytes_remote: int().describe("Bytes of the objects compared."),
  },
  effect: "read",
  changesBucket: false,
  async handle(args, ctx, extra) {
    const store = ctx.buckets.store(args.bucket);
    const prefix = directoryPrefix(args.prefix);
    store.checkPrefix(prefix);
    const c = await compare(store, args.local_dir, args.prefix, {
      include: args.include,
      exclude: args.exclude,
      roots: await ctx.localRoots(),
      signal: extra.signal,
      onProgress: progressReporter(extra),
    });
    const inSync = c.different.length === 0 && c.onlyLocal.length === 0 && c.onlyRemote.length === 0;
    const lines = [
      `${q(args.local_dir)} vs ${q(prefix)}: ${inSync ? "in sync, " : ""}${c.identical.length} identical, ${c.different.length} different, ${c.onlyLocal.length} only local, ${c.onlyRemote.length} only remote (local ${formatBytes(c.bytesLocal)}, remote ${formatBytes(c.bytesRemote)})`,
    ];
    const more = (n: number) => (n > LISTED ? [`… ${n - LISTED} more`] : []);
    if (c.different.length) {
      lines.push(
        "different:",
        ...c.different.slice(0, LISTED).map((d) => `  ${d.path}  ${d.reason}: ${d.detail}`),
        ...more(c.different.length),
      );
    }
    if (c.onlyLocal.length) lines.push("only local:", ...c.onlyLocal.slice(0, LISTED).map((p) => `  ${p}`), ...more(c.onlyLocal.length));
    if (c.onlyRemote.length)
      lines.push("only remote:", ...c.onlyRemote.slice(0, LISTED).map((p) => `  ${p}`), ...more(c.onlyRemote.length));
    return {
      structured: {
        identical: c.identical.length,
        different: c.different.length,
        only_local: c.onlyLocal.length,
        only_remote: c.onlyRemote.length,
        in_sync: inSync,
        identical_paths: c.identical.slice(0, LISTED),
        different_paths: c.different.slice(0, LISTED),
        only_local_paths: c.onlyLocal.slice(0, LISTED),
        only_remote_paths: c.onlyRemote.slice(0, LISTED),
        bytes_local: c.bytesLocal,
        bytes_remote: c.bytesRemote,
      },
      text: lines.join("\n"),
    };
  },
});
