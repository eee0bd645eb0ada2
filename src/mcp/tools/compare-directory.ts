import * as z from "zod";
import { compareDirectory as compare } from "../../core/compare.js";
import { q } from "../../core/errors.js";
import { directoryPrefix } from "../../core/keys.js";
import { filterFields } from "../directory.js";
import { LISTED } from "../limits.js";
import { progressReporter } from "../progress.js";
import { formatBytes } from "../results.js";
import { bucketInput, defineTool, int, outputObject } from "../tool.js";

const paths = () => z.array(z.string()).describe(`First ${LISTED}, sorted.`);

export const compareDirectory = defineTool({
  name: "compare_directory",
  title: "Compare a local folder with a prefix",
  description:
    "Whether a local folder and the objects under a prefix hold the same files: identical (size and bytes, by ETag, multipart too), different (with the reason), only local, only remote. Reads only.",
  input: {
    local_dir: z.string().describe("Local folder to compare."),
    prefix: z.string().describe('e.g. "runs/exp42/" ("/" added); "" is the bucket root.'),
    ...filterFields,
    ...bucketInput,
  },
  output: {
    identical: int(),
    different: int(),
    only_local: int(),
    only_remote: int(),
    in_sync: z.boolean().describe("All identical, none on one side only."),
    identical_paths: paths(),
    different_paths: z
      .array(
        outputObject({
          path: z.string(),
          reason: z.enum(["size_differs", "content_differs", "etag_unverifiable"]),
          detail: z.string(),
        }),
      )
      .describe(`First ${LISTED}. etag_unverifiable: the ETag cannot be recomputed (e.g. unknown part size).`),
    only_local_paths: paths(),
    only_remote_paths: paths(),
    bytes_local: int(),
    bytes_remote: int(),
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
