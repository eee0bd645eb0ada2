import * as z from "zod";
import { q } from "../../core/errors.js";
import { checkKey } from "../context.js";
import { formatBytes, ok } from "../results.js";
import { defineTool, keyField } from "./define.js";

export const headObject = defineTool({
  name: "head_object",
  title: "Object metadata",
  description:
    "Check whether an object exists and read its size, time, ETag and content type without downloading it. A missing key is exists:false, not an error.",
  input: { key: keyField() },
  output: {
    exists: z.boolean(),
    key: z.string(),
    size: z.number().int().optional(),
    last_modified: z.string().optional(),
    etag: z.string().optional(),
    content_type: z.string().optional(),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  changesBucket: false,
  async handle(args, ctx) {
    const info = await ctx.store.head(checkKey(ctx, args.key));
    if (!info) return ok({ exists: false, key: args.key }, `${q(args.key)} does not exist`);
    return ok(
      {
        exists: true,
        key: info.key,
        size: info.size,
        last_modified: info.lastModified.toISOString(),
        etag: info.etag,
        ...(info.contentType ? { content_type: info.contentType } : {}),
      },
      `${q(info.key)}: ${formatBytes(info.size)}, ${info.contentType ?? "no content type"}, modified ${info.lastModified.toISOString()}, etag ${info.etag}`,
    );
  },
});
