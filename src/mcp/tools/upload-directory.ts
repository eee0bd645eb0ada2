import * as z from "zod";
import { uploadDirectory as upload } from "../../core/transfer.js";
import { checkPrefix, localRoots } from "../context.js";
import { progressReporter } from "../progress.js";
import { defineTool, overwriteField } from "./define.js";
import { directoryFail, directoryOk, directoryOutput, dryRunField, maxWorkersField } from "./directory-common.js";

export const uploadDirectory = defineTool({
  name: "upload_directory",
  title: "Upload a local directory",
  description:
    'Upload every file under a local directory (inside the allowed roots) to keys under a prefix, keeping the folder structure with "/". Without overwrite, if any destination key exists with other content the whole call fails before any byte is written and lists the conflicts; keys already holding identical bytes are skipped, so repeating an interrupted call finishes it.',
  input: {
    local_dir: z.string().describe("Local directory to upload."),
    prefix: z
      .string()
      .describe('Destination key prefix, e.g. "datasets/mnist/" (a trailing / is added). Empty uploads to the bucket root.'),
    overwrite: overwriteField("existing objects"),
    max_workers: maxWorkersField,
    dry_run: dryRunField,
  },
  output: directoryOutput("uploaded", "keys"),
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  changesBucket: true,
  async handle(args, ctx, extra) {
    checkPrefix(ctx, args.prefix);
    const onProgress = progressReporter(extra);
    try {
      const result = await upload(ctx.store, args.local_dir, args.prefix, {
        overwrite: args.overwrite,
        maxWorkers: args.max_workers,
        dryRun: args.dry_run,
        roots: await localRoots(ctx),
        signal: extra.signal,
        ...(onProgress ? { onProgress } : {}),
      });
      if (!result.dryRun) ctx.log("info", "uploaded directory", { prefix: args.prefix, files: result.transferred, bytes: result.bytes });
      return directoryOk("uploaded", "keys", "upload", result);
    } catch (err) {
      return directoryFail("uploaded", "keys", err);
    }
  },
});
