import * as z from "zod";
import { q } from "../../core/errors.js";
import { uploadFile as upload } from "../../core/transfer.js";
import { checkKey, localRoots } from "../context.js";
import { progressReporter } from "../progress.js";
import { formatBytes, ok } from "../results.js";
import { checkContentType, defineTool, keyField, overwriteField } from "./define.js";
import { putResultShape } from "./upload-bytes.js";

export const uploadFile = defineTool({
  name: "upload_file",
  title: "Upload a local file",
  description:
    "Upload one local file (inside the allowed roots) to a key, streaming; large files go multipart. Never replaces an existing object unless overwrite is true. Sends progress when the request has a progressToken.",
  input: {
    local_path: z.string().describe("Path of the local file to upload (absolute, or relative to the server's working directory)."),
    key: keyField("Destination object key."),
    content_type: z.string().max(255).optional().describe("Media type to store. Guessed from the file extension when absent."),
    overwrite: overwriteField("the object"),
  },
  output: putResultShape,
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  changesBucket: true,
  async handle(args, ctx, extra) {
    const key = checkKey(ctx, args.key);
    checkContentType(args.content_type);
    const onProgress = progressReporter(extra);
    const result = await upload(ctx.store, args.local_path, key, {
      overwrite: args.overwrite,
      roots: await localRoots(ctx),
      signal: extra.signal,
      ...(onProgress ? { onProgress } : {}),
      ...(args.content_type ? { contentType: args.content_type } : {}),
    });
    ctx.log("info", "uploaded file", { key, size: result.size, replaced: result.replaced });
    return ok(
      { ...result },
      `${result.replaced ? "replaced" : "created"} ${q(key)} from ${q(args.local_path)} (${formatBytes(result.size)})`,
    );
  },
});
