import * as z from "zod";
import { directoryPrefix } from "../../core/keys.js";
import { prepareUploadDirectory } from "../../core/transfer/index.js";
import { confirmReplacing } from "../confirm.js";
import { dryRunField, filterFields, maxWorkersField, uploadDirectoryOutput, uploadFailure, uploadReply } from "../directory.js";
import { backgroundInput, bucketInput, defineTool, overwriteField, transferReply } from "../tool.js";

export const uploadDirectory = defineTool({
  name: "upload_directory",
  title: "Upload a folder",
  description:
    "Upload a local folder under a prefix. A key holding other content fails the call before anything is written; identical files are skipped.",
  input: {
    local_dir: z.string().describe("Folder to upload."),
    prefix: z.string().describe('e.g. "datasets/mnist/" ("/" added); "" is the bucket root.'),
    overwrite: overwriteField("objects"),
    max_workers: maxWorkersField,
    dry_run: dryRunField,
    ...filterFields,
    ...backgroundInput,
    ...bucketInput,
  },
  output: uploadDirectoryOutput,
  effect: "destructive",
  changesBucket: true,
  onError: uploadFailure,
  async handle(args, ctx, extra) {
    const store = ctx.buckets.store(args.bucket);
    // The prefix as the transfer uses it ("/" added): "runs/42" is allowed under an allowed "runs/42/".
    store.checkPrefix(directoryPrefix(args.prefix));
    // Refused here, not by the first write: a background call must fail before its job exists.
    if (!args.dry_run) store.checkWritable(args.prefix || "(bucket root)", "uploaded to");
    const prepared = await prepareUploadDirectory(store, args.local_dir, args.prefix, {
      overwrite: args.overwrite,
      maxWorkers: args.max_workers,
      dryRun: args.dry_run,
      include: args.include,
      exclude: args.exclude,
      roots: await ctx.localRoots(),
      signal: extra.signal,
      beforeReplace: confirmReplacing(extra.confirm, store.name),
    });
    return transferReply(prepared, (result) => {
      if (!result.dryRun) ctx.log("info", "uploaded directory", { prefix: args.prefix, files: result.transferred, bytes: result.bytes });
      return uploadReply(result);
    });
  },
});
