import * as z from "zod";
import { q, StorageError } from "../../core/errors.js";
import { countOfObjects, objectsUnderKey } from "../../core/store-ext.js";
import { bucketInput, defineTool, int, keyField } from "../tool.js";

export const deleteObject = defineTool({
  name: "delete_object",
  title: "Delete an object",
  description: "Delete one object (cannot be undone).",
  input: {
    key: keyField(),
    missing_ok: z.boolean().default(true).describe("false: a missing key is not_found."),
    ...bucketInput,
  },
  output: {
    key: z.string(),
    existed: z.boolean(),
    prefix_objects: int().optional().describe("Objects under a missing key as a folder (≤ 1000)."),
  },
  effect: "destructive",
  changesBucket: true,
  async handle(args, ctx, extra) {
    const store = ctx.buckets.store(args.bucket);
    // A person is asked first (--confirm) when the key exists; a missing key destroys nothing.
    await extra.confirm(async () => {
      const info = await store.head(args.key);
      return info ? { action: "delete", keys: [args.key], bytes: info.size, bucket: store.name } : undefined;
    });
    const { existed } = await store.delete(args.key);
    // A folder-like key is not an object: say what sits under it rather than "nothing to delete".
    const under = existed ? undefined : await objectsUnderKey(store, args.key);
    const folder =
      under && under.objects > 0
        ? `; ${countOfObjects(under)} sit under the prefix ${q(under.prefix)} and were NOT deleted: delete_objects {prefix: ${q(under.prefix)}} deletes them (dry_run: true first shows them)`
        : "";
    if (!existed && !args.missing_ok) {
      throw new StorageError(
        "not_found",
        `${q(args.key)} does not exist; nothing was deleted${folder || " (pass missing_ok: true to accept that)"}`,
        {
          key: args.key,
        },
      );
    }
    ctx.log("info", "deleted", { key: args.key, existed });
    return {
      structured: { key: args.key, existed, ...(folder ? { prefix_objects: under?.objects } : {}) },
      text: existed
        ? `deleted ${q(args.key)}`
        : folder
          ? `${q(args.key)} did not exist as an object; nothing was deleted${folder}`
          : `${q(args.key)} did not exist; nothing to delete`,
    };
  },
});
