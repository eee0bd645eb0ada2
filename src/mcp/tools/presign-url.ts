import * as z from "zod";
import { q } from "../../core/errors.js";
import { bucketInput, defineTool, keyField, rangedInt } from "../tool.js";

const MAX_EXPIRY = 7 * 24 * 3600;

export const presignUrl = defineTool({
  name: "presign_url",
  title: "Share a time-limited link",
  description:
    "Make a time-limited URL to share an object with a teammate without copying it. GET (default) downloads the object. PUT lets someone upload to the key: without overwrite the uploader must send the header If-None-Match: * (returned in headers), so the link cannot replace an existing object. Not available on the local store.",
  input: {
    key: keyField(),
    method: z.enum(["GET", "PUT"]).default("GET").describe("GET to download; PUT to let someone upload to this key."),
    expires_in: rangedInt(1, MAX_EXPIRY, `Seconds until the link expires, 1-${MAX_EXPIRY} (7 days).`, "seconds").default(3600),
    overwrite: z
      .boolean()
      .default(false)
      .describe(
        "PUT only. false (default): the link only creates the key; an existing object is refused (412). true: the link may replace it.",
      ),
    ...bucketInput,
  },
  output: {
    url: z.string(),
    method: z.enum(["GET", "PUT"]),
    expires_at: z.string().describe("ISO 8601 time the link stops working."),
    headers: z.record(z.string(), z.string()).describe("Headers the holder of the link must send with it."),
  },
  effect: "read",
  idempotent: false,
  changesBucket: false,
  // With only local stores it could only answer unsupported; a local bucket among S3 ones does.
  availableWith: (stores) => stores.some((s) => s.capabilities.presign),
  async handle(args, ctx) {
    const store = ctx.buckets.store(args.bucket);
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
