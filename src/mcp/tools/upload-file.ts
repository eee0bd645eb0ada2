import * as z from "zod";
import { checkContentType } from "../../core/content-type.js";
import { q } from "../../core/errors.js";
import { prepareUploadFile } from "../../core/transfer/index.js";
import { confirmReplacing } from "../confirm.js";
import { formatBytes } from "../results.js";
import { backgroundInput, bucketInput, defineTool, keyField, overwriteField, putResultShape, transferReply } from "../tool.js";

export const uploadFile = defineTool({
  name: "upload_file",
  title: "Upload a local file",
  description: "Upload a local file to a key (multipart when large).",
  input: {
    local_path: z.string().describe("File to upload."),
    key: keyField(),
    content_type: z.string().max(255).optional().describe("Default: from the extension."),
    overwrite: overwriteField("object"),
    ...backgroundInput,
    ...bucketInput,
  },
  output: putResultShape,
  effect: "destructive",
  changesBucket: true,
  async handle(args, ctx, extra) {
    const store = ctx.buckets.store(args.bucket);
    // Refused here, not by the write: a background call must fail before its job exists.
    store.checkKey(args.key);
    store.checkWritable(args.key);
    checkContentType(args.content_type);
    const prepared = await prepareUploadFile(store, args.local_path, args.key, {
      overwrite: args.overwrite,
      roots: await ctx.localRoots(),
      signal: extra.signal,
      beforeReplace: confirmReplacing(extra.confirm, store.name),
      contentType: args.content_type,
    });
    return transferReply(prepared, (result) => {
      ctx.log("info", "uploaded file", { key: args.key, size: result.size, replaced: result.replaced });
      return {
        structured: { ...result },
        text: `${result.replaced ? "replaced" : "created"} ${q(args.key)} from ${q(args.local_path)} (${formatBytes(result.size)})`,
      };
    });
  },
});
