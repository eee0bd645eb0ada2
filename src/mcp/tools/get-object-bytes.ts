import * as z from "zod";
import { checkRange } from "../../core/client.js";
import { q, StorageError } from "../../core/errors.js";
import { checkKey } from "../context.js";
import { formatBytes, ok } from "../results.js";
import { defineTool, keyField, rangedInt } from "./define.js";

export const DEFAULT_MAX_BYTES = 64 * 1024;
export const HARD_MAX_BYTES = 4 * 1024 * 1024;
/** Images this small also come back as MCP image content, which clients can show. */
const INLINE_IMAGE_MAX = 1024 * 1024;

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeUtf8(bytes: Buffer): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

export const getObjectBytes = defineTool({
  name: "get_object_bytes",
  title: "Read an object",
  description:
    "Read an object (or a byte range of it) into the conversation: UTF-8 text when the bytes are text, else base64. Objects larger than max_bytes are refused with too_large: read a range (offset/length) or save it with download_file instead.",
  input: {
    key: keyField(),
    offset: rangedInt(0, Number.MAX_SAFE_INTEGER, "First byte to read (0-based). With length, reads a range.").optional(),
    length: rangedInt(1, HARD_MAX_BYTES, "Bytes to read from offset (to the end when absent).").optional(),
    encoding: z
      .enum(["auto", "utf8", "base64"])
      .default("auto")
      .describe("auto: UTF-8 text when the bytes are valid UTF-8, else base64. utf8 fails on non-text bytes."),
    max_bytes: rangedInt(
      1,
      HARD_MAX_BYTES,
      `Refuse to return more than this many bytes (default ${DEFAULT_MAX_BYTES}, at most ${HARD_MAX_BYTES}).`,
    ).default(DEFAULT_MAX_BYTES),
  },
  output: {
    key: z.string(),
    data: z.string().describe("The bytes, as UTF-8 text or base64 (see encoding)."),
    encoding: z.enum(["utf8", "base64"]),
    size: z.number().int().describe("Size of the whole object in bytes."),
    range: z.object({ offset: z.number().int(), length: z.number().int() }).describe("The bytes returned."),
    content_type: z.string().optional(),
  },
  annotations: { readOnlyHint: true, destructiveHint: false, idempotentHint: true },
  changesBucket: false,
  async handle(args, ctx, extra) {
    const key = checkKey(ctx, args.key);
    if (!Number.isInteger(args.max_bytes) || args.max_bytes < 1 || args.max_bytes > HARD_MAX_BYTES) {
      throw new StorageError("invalid_argument", `max_bytes must be an integer from 1 to ${HARD_MAX_BYTES}; got ${args.max_bytes}`);
    }
    const ranged = args.offset !== undefined || args.length !== undefined;
    const range = ranged ? { offset: args.offset ?? 0, ...(args.length !== undefined ? { length: args.length } : {}) } : undefined;
    if (range) checkRange(range);
    if (range?.length !== undefined && range.length > HARD_MAX_BYTES) {
      throw new StorageError(
        "invalid_argument",
        `length must be an integer from 1 to ${HARD_MAX_BYTES}; got ${range.length}. Save larger objects with download_file`,
        { key },
      );
    }
    if (range?.length !== undefined && range.length > args.max_bytes) {
      throw new StorageError(
        "too_large",
        `length ${range.length} is over max_bytes ${args.max_bytes}; raise max_bytes (up to ${HARD_MAX_BYTES}) or read smaller ranges`,
        { key },
      );
    }
    const got = await ctx.store.get(key, { ...(range ? { range } : {}), signal: extra.signal });
    const returned = got.range.end - got.range.start;
    if (returned > args.max_bytes) {
      got.body.destroy();
      const advice = ranged
        ? `give a length of at most ${args.max_bytes}`
        : `read it in ranges (offset and length) or save it with download_file`;
      throw new StorageError(
        "too_large",
        `${q(key)} is ${formatBytes(got.info.size)} (${got.info.size} bytes), over max_bytes ${args.max_bytes}; ${advice}`,
        { key },
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of got.body) chunks.push(chunk as Buffer);
    const bytes = Buffer.concat(chunks);
    let encoding: "utf8" | "base64" = "base64";
    let data: string;
    const text = args.encoding === "base64" ? undefined : decodeUtf8(bytes);
    if (text !== undefined) {
      encoding = "utf8";
      data = text;
    } else if (args.encoding === "utf8") {
      throw new StorageError("invalid_argument", `${q(key)} is not valid UTF-8 text; pass encoding "base64" (or "auto")`, { key });
    } else {
      data = bytes.toString("base64");
    }
    const contentType = got.info.contentType;
    const structured = {
      key,
      data,
      encoding,
      size: got.info.size,
      range: { offset: got.range.start, length: bytes.length },
      ...(contentType ? { content_type: contentType } : {}),
    };
    const summary = `${q(key)}: ${bytes.length} of ${got.info.size} bytes from offset ${got.range.start}, as ${encoding}`;
    const isImage = !ranged && contentType?.startsWith("image/") && bytes.length <= INLINE_IMAGE_MAX && contentType !== "image/svg+xml";
    const image = isImage
      ? [{ type: "image" as const, data: bytes.toString("base64"), mimeType: contentType ?? "application/octet-stream" }]
      : [];
    return ok(structured, encoding === "utf8" ? `${summary}\n\n${data}` : summary, image);
  },
});
