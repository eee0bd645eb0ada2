import * as z from "zod";
import { q, StorageError } from "../../core/errors.js";
import { checkKey } from "../context.js";
import { defineTool, keyField, rangedInt } from "./define.js";

const MAX_EXPIRY = 7 * 24 * 3600;

export const presignUrl = defineTool({
  name: "presign_url",
  title: "Share a time-limited link",
  description:
    "Make a time-limited URL to share an object with a teammate without copying it. GET (default) downloads the object. PUT lets someone upload to the key: without overwrite the uploader must send the header If-None-Match: * (returned in headers), so the link cannot replace an existing object. Not available on the local store.",
  input: {
    key: keyField(),
    method: z.enum(["GET", "PUT"]).default("GET").describe("GET to download; PUT to let someone upload to this key."),
    expires_in: rangedInt(1, MAX_EXPIRY, `Seconds until the link expires, 1-${MAX_EXPIRY} (7 days).`).default(3600),
    overwrite: z
      .boolean()
      .default(false)
      .describe(
        "PUT only. false (default): the link only creates the key; an existing object is refused (412). true: the link may replace it.",
      ),
  },
  output: {
    url: z.string(),
    method: z.enum(["GET", "PUT"]),
    expires_at: z.string().describe("ISO 8601 time the link stops working."),
    headers: z.record(z.string(), z.string()).describe("Headers the holder of the link must send with it."),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: false },
  changesBucket: false,
  async handle(args, ctx) {
    const key = checkKey(ctx, args.key);
    if (!Number.isInteger(args.expires_in) || args.expires_in < 1 || args.expires_in > MAX_EXPIRY) {
      throw new StorageError("invalid_argument", `expires_in must be an integer from 1 to ${MAX_EXPIRY} seconds; got ${args.expires_in}`);
    }
    if (args.method === "PUT" && ctx.readOnly) {
      throw new StorageError("access_denied", "PUT links are refused: this server is read-only; ask for a GET link instead");
    }
    const conditional = args.method === "PUT" && !args.overwrite;
    const url = await ctx.store.presign(key, args.method, args.expires_in, { createOnly: conditional });
    const headers: Record<string, string> = conditional ? { "If-None-Match": "*" } : {};
    const expiresAt = new Date(Date.now() + args.expires_in * 1000).toISOString();
    ctx.log("info", "presigned", { key, method: args.method, expires_in: args.expires_in });
    const structured = { url, method: args.method, expires_at: expiresAt, headers };
    const text = `${args.method} link for ${q(key)}, valid until ${expiresAt}${conditional ? " (send header If-None-Match: *; it cannot replace an existing object)" : ""}:\n${url}`;
    // Not passed through redact(): a presigned URL carries the access key ID by design.
    return { structuredContent: structured, content: [{ type: "text", text }] };
  },
});
