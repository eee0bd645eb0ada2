import * as z from "zod";
import { q, StorageError } from "../../core/errors.js";
import { formatBytes } from "../results.js";
import { bucketInput, defineTool, keyField, overwriteField, putResultShape } from "../tool.js";

/** Decoded size cap: a 5 MiB payload in base64 is ~6.7 MiB, inside stdio's 10 MiB message cap. */
const MAX_UPLOAD_BYTES = 5 * 1024 * 1024;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function decode(data: string, encoding: "utf8" | "base64"): Buffer {
  if (encoding === "utf8") return Buffer.from(data, "utf8");
  const compact = data.replace(/\s+/g, "");
  if (compact.length % 4 !== 0 || !BASE64.test(compact)) {
    throw new StorageError(
      "invalid_argument",
      'data is not valid base64 (standard alphabet, padded to a multiple of 4); fix it or pass encoding "utf8" for text',
    );
  }
  return Buffer.from(compact, "base64");
}

export const uploadBytes = defineTool({
  name: "upload_bytes",
  title: "Write an object from text",
  description: `Write an object from text or base64 (up to ${MAX_UPLOAD_BYTES / 1024 / 1024} MiB; larger: upload_file).`,
  input: {
    key: keyField(),
    data: z.string().describe("Text, or base64."),
    encoding: z.enum(["utf8", "base64"]).default("utf8").describe("Of data."),
    content_type: z.string().max(255).optional().describe("Default: from the extension."),
    overwrite: overwriteField("object"),
    ...bucketInput,
  },
  output: putResultShape,
  effect: "destructive",
  changesBucket: true,
  async handle(args, ctx, extra) {
    const store = ctx.buckets.store(args.bucket);
    const key = args.key;
    // Cheap bound before decoding: base64 is 4/3 the size, UTF-8 at least 1 byte per char.
    if (args.data.length > Math.ceil((MAX_UPLOAD_BYTES * 4) / 3) + 1024) {
      throw new StorageError(
        "too_large",
        `data is over ${formatBytes(MAX_UPLOAD_BYTES)}; write the content to a file and use upload_file`,
        { key },
      );
    }
    const bytes = decode(args.data, args.encoding);
    if (bytes.length > MAX_UPLOAD_BYTES) {
      throw new StorageError(
        "too_large",
        `data is ${formatBytes(bytes.length)}, over the ${formatBytes(MAX_UPLOAD_BYTES)} limit; write it to a file and use upload_file`,
        { key },
      );
    }
    if (args.overwrite) {
      await extra.confirm(async () => {
        const info = await store.head(key);
        return info ? { action: "replace", keys: [key], bytes: info.size, bucket: store.name } : undefined;
      });
    }
    const result = await store.put(
      key,
      { kind: "bytes", data: bytes },
      { mode: args.overwrite ? "overwrite" : "create", signal: extra.signal, contentType: args.content_type },
    );
    ctx.log("info", "uploaded bytes", { key, size: result.size, replaced: result.replaced });
    return {
      structured: { ...result },
      text: `${result.replaced ? "replaced" : "created"} ${q(key)} (${formatBytes(result.size)}, etag ${result.etag})`,
    };
  },
});
