import * as z from "zod";
import { q } from "../../core/errors.js";
import { downloadFile as download } from "../../core/transfer.js";
import { checkKey, localRoots } from "../context.js";
import { progressReporter } from "../progress.js";
import { formatBytes, ok } from "../results.js";
import { defineTool, keyField, overwriteField } from "./define.js";

export const downloadFile = defineTool({
  name: "download_file",
  title: "Download an object to a local file",
  description:
    "Save one object to a local file (inside the allowed roots). Written to a temporary file and renamed, so the target is never partial. Never replaces an existing file unless overwrite is true.",
  input: {
    key: keyField("Key of the object to download."),
    local_path: z
      .string()
      .describe("Destination file path (absolute, or relative to the server's working directory). Parent folders are created."),
    overwrite: overwriteField("the local file"),
  },
  output: {
    local_path: z.string().describe("The file written (resolved path)."),
    size: z.number().int(),
    etag: z.string(),
  },
  annotations: { readOnlyHint: false, destructiveHint: true, idempotentHint: true },
  changesBucket: false,
  async handle(args, ctx, extra) {
    const key = checkKey(ctx, args.key);
    const onProgress = progressReporter(extra);
    const result = await download(ctx.store, key, args.local_path, {
      overwrite: args.overwrite,
      roots: await localRoots(ctx),
      signal: extra.signal,
      ...(onProgress ? { onProgress } : {}),
    });
    ctx.log("info", "downloaded file", { key, size: result.size });
    return ok(
      { local_path: result.localPath, size: result.size, etag: result.etag },
      `saved ${q(key)} to ${q(result.localPath)} (${formatBytes(result.size)})`,
    );
  },
});
