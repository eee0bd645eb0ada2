import * as z from "zod";
import { q } from "../../core/errors.js";
import { prepareDownloadFile } from "../../core/transfer/index.js";
import { confirmReplacing } from "../confirm.js";
import { formatBytes } from "../results.js";
import { backgroundInput, bucketInput, defineTool, int, keyField, overwriteField, transferReply } from "../tool.js";

export const downloadFile = defineTool({
  name: "download_file",
  title: "Download an object",
  description: "Save an object to a local file (never left partial).",
  input: {
    key: keyField(),
    local_path: z.string().describe("Parent folders are created."),
    overwrite: overwriteField("file"),
    ...backgroundInput,
    ...bucketInput,
  },
  output: {
    local_path: z.string(),
    size: int(),
    etag: z.string(),
    unverified: z.string().optional().describe("Why not checked against the ETag."),
  },
  effect: "destructive",
  changesBucket: false,
  async handle(args, ctx, extra) {
    const store = ctx.buckets.store(args.bucket);
    const prepared = await prepareDownloadFile(store, args.key, args.local_path, {
      overwrite: args.overwrite,
      roots: await ctx.localRoots(),
      signal: extra.signal,
      beforeReplace: confirmReplacing(extra.confirm),
    });
    return transferReply(prepared, (result) => {
      ctx.log("info", "downloaded file", { key: args.key, size: result.size });
      const unverified = result.unverified === undefined ? "" : `; not verified: ${result.unverified}`;
      return {
        structured: {
          local_path: result.localPath,
          size: result.size,
          etag: result.etag,
          ...(result.unverified === undefined ? {} : { unverified: result.unverified }),
        },
        text: `saved ${q(args.key)} to ${q(result.localPath)} (${formatBytes(result.size)})${unverified}`,
      };
    });
  },
});
