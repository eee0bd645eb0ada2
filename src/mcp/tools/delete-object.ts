import * as z from "zod";
import { q, StorageError } from "../../core/errors.js";
import { bucketInput, defineTool, keyField } from "../tool.js";

export const deleteObject = defineTool({
  name: "delete_object",
  title: "Delete an object",
  description: "Delete one object. This cannot be undone. With missing_ok=false a missing key is a not_found error.",
  input: {
    key: keyField("Key of the object to delete."),
    missing_ok: z.boolean().default(true).describe("true (default): succeed when the key does not exist. false: report not_found."),
    ...bucketInput,
  },
  output: {
    key: z.string(),
    existed: z.boolean().describe("Whether the object existed before this call."),
  },
  effect: "destructive",
  changesBucket: true,
  async handle(args, ctx) {
    const store = ctx.buckets.store(args.bucket);
    const { existed } = await store.delete(args.key);
    if (!existed && !args.missing_ok) {
      throw new StorageError("not_found", `${q(args.key)} does not exist; nothing was deleted (pass missing_ok: true to accept that)`, {
        key: args.key,
      });
    }
    ctx.log("info", "deleted", { key: args.key, existed });
    return {
      structured: { key: args.key, existed },
      text: existed ? `deleted ${q(args.key)}` : `${q(args.key)} did not exist; nothing to delete`,
    };
  },
});
