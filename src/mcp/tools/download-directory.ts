import * as z from "zod";
import { directoryPrefix } from "../../core/keys.js";
import { prepareDownloadDirectory } from "../../core/transfer/index.js";
import { confirmReplacing } from "../confirm.js";
import { downloadDirectoryOutput, downloadFailure, downloadReply, dryRunField, filterFields, maxWorkersField } from "../directory.js";
import { backgroundInput, bucketInput, defineTool, overwriteField, transferReply } from "../tool.js";

export const downloadDirectory = defineTool({
  name: "download_directory",
  title: "Download a prefix",
  description:
    "Download a prefix into a local folder. A file holding other content fails the call before anything is written; identical files are skipped.",
  input: {
    prefix: z.string().describe('e.g. "runs/42/" ("/" added); "" is the whole bucket.'),
    local_dir: z.string().describe("Folder, created if missing."),
    overwrite: overwriteField("files"),
    max_workers: maxWorkersField,
    dry_run: dryRunField,
    ...filterFields,
    ...backgroundInput,
    ...bucketInput,
  },
  output: downloadDirectoryOutput,
  effect: "destructive",
  changesBucket: false,
  onError: downloadFailure,
  async handle(args, ctx, extra) {
    const store = ctx.buckets.store(args.bucket);
    // The prefix as the transfer uses it ("/" added): "runs/42" is allowed under an allowed "runs/42/".
    store.checkPrefix(directoryPrefix(args.prefix));
    const prepared = await prepareDownloadDirectory(store, args.prefix, args.local_dir, {
      overwrite: args.overwrite,
      maxWorkers: args.max_workers,
      dryRun: args.dry_run,
      include: args.include,
      exclude: args.exclude,
      roots: await ctx.localRoots(),
      signal: extra.signal,
      beforeReplace: confirmReplacing(extra.confirm),
    });
    return transferReply(prepared, (result) => {
      if (!result.dryRun) ctx.log("info", "downloaded directory", { prefix: args.prefix, files: result.transferred, bytes: result.bytes });
      return downloadReply(result);
    });
  },
});
