import * as z from "zod";
import { q, StorageError } from "../../core/errors.js";
import { bucketInput, defineTool, keyField, rangedInt } from "../tool.js";

const MAX_EXPIRY = 7 * 24 * 3600;

export const presignUrl = defineTool({
  name: "presign_url",
  title: "Share a time-limited link",
  description: "A time-limited link: GET downloads the object, PUT uploads to the key (only if absent, unless overwrite).",
  input: {
    key: keyField(),
    method: z.enum(["GET", "PUT"]).default("GET").describe("GET reads, PUT writes."),
    expires_in: rangedInt(1, MAX_EXPIRY, "Seconds the link works.", "seconds").default(3600),
    overwrite: z.boolean().default(false).describe("PUT only: may replace an existing object."),
    ...bucketInput,
  },
  output: {
    url: z.string(),
    method: z.enum(["GET", "PUT"]),
    expires_at: z.string(),
    headers: z.record(z.string(), z.string()).describe("To send with the request."),
  },
  effect: "read",
  idempotent: false,
  changesBucket: false,
  // With only local stores it could only answer unsupported; a local bucket among S3 ones does.
  availableWith: (stores) => stores.some((s) => s.capabilities.presign),
  async handle(args, ctx) {
    const store = ctx.buckets.store(args.bucket);
    // A link to nothing looks like success until a teammate opens it.
    if (args.method === "GET" && store.capabilities.presign && (await store.head(args.key)) === undefined) {
      throw new StorageError("not_found", `${q(args.key)} does not exist, so there is nothing to share; check the key with list_objects`, {
        key: args.key,
      });
    }
    const createOnly = args.method === "PUT" && !args.overwrite;
    const url = await store.presign(args.key, args.method, args.expires_in, { createOnly });
    const headers: Record<string, string> = createOnly ? { "If-None-Match": "*" } : {};
    const expiresAt = new Date(Date.now() + args.expires_in * 1000).toISOString();
    ctx.log("info", "presigned", { key: args.key, method: args.method, expires_in: args.expires_in });
    const condition = createOnly ? " (send header If-None-Match: *; it cannot replace an existing object)" : "";
    return {
      structured: { url, method: args.method, expires_at: expiresAt, headers },
      text: `${args.method} link for ${q(args.key)}, valid until ${expiresAt}${condition}:\n${url}`,
      // A presigned URL carries the access key ID by design: it is what the user asked for.
      unredacted: true,
    };
  },
});
