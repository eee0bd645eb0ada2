import * as z from "zod";
import { q } from "../../core/errors.js";
import { countOfObjects, objectsUnderKey } from "../../core/store-ext.js";
import { formatBytes, objectToWire } from "../results.js";
import { bucketInput, defineTool, int, keyField } from "../tool.js";

export const headObject = defineTool({
  name: "head_object",
  title: "Object metadata",
  description: "Size, time, ETag and content type of an object; a missing key is exists:false.",
  input: { key: keyField(), ...bucketInput },
  output: {
    exists: z.boolean(),
    key: z.string(),
    size: int().optional(),
    last_modified: z.string().optional(),
    etag: z.string().optional(),
    content_type: z.string().optional(),
    prefix_objects: int().optional().describe("Objects under a missing key as a folder (≤ 1000)."),
  },
  effect: "read",
  changesBucket: false,
  async handle(args, ctx) {
    const store = ctx.buckets.store(args.bucket);
    const info = await store.head(args.key);
    if (!info) {
      const under = await objectsUnderKey(store, args.key);
      if (under && under.objects > 0) {
        return {
          structured: { exists: false, key: args.key, prefix_objects: under.objects },
          text: `${q(args.key)} does not exist as an object, but ${countOfObjects(under)} sit under the prefix ${q(under.prefix)} (list_objects or summarize_prefix with that prefix shows them)`,
        };
      }
      return { structured: { exists: false, key: args.key }, text: `${q(args.key)} does not exist` };
    }
    const wire = objectToWire(info);
    return {
      structured: { exists: true, ...wire, content_type: info.contentType },
      text: `${q(info.key)}: ${formatBytes(info.size)}, ${info.contentType ?? "no content type"}, modified ${wire.last_modified}, etag ${info.etag}`,
    };
  },
});
