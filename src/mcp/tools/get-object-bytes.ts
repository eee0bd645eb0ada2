import * as z from "zod";
import { q, StorageError } from "../../core/errors.js";
import { DEFAULT_MAX_BYTES, HARD_MAX_BYTES } from "../limits.js";
import { type CutText, decodeUtf8, decodeUtf8Range, formatBytes } from "../results.js";
import { bucketInput, defineTool, int, keyField, outputObject, rangedInt } from "../tool.js";

/** Images this small also come back as MCP image content, which clients can show. */
const INLINE_IMAGE_MAX = 1024 * 1024;

export const getObjectBytes = defineTool({
  name: "get_object_bytes",
  title: "Read an object",
  description: "Read an object or a byte range: text, else base64. Over max_bytes: read a range or use download_file.",
  input: {
    key: keyField(),
    offset: rangedInt(0, Number.MAX_SAFE_INTEGER, "First byte (0-based).").optional(),
    length: rangedInt(1, HARD_MAX_BYTES, "Default: to the end.", "(save larger objects with download_file)").optional(),
    encoding: z.enum(["auto", "utf8", "base64"]).default("auto").describe("auto: text if valid UTF-8."),
    max_bytes: rangedInt(1, HARD_MAX_BYTES, "Most bytes returned.").default(DEFAULT_MAX_BYTES),
    ...bucketInput,
  },
  output: {
    key: z.string(),
    data: z.string(),
    encoding: z.enum(["utf8", "base64"]),
    size: int().describe("Of the whole object."),
    range: outputObject({ offset: int(), length: int() }),
    content_type: z.string().optional(),
  },
  effect: "read",
  changesBucket: false,
  async handle(args, ctx, extra) {
    const store = ctx.buckets.store(args.bucket);
    const key = args.key;
    const ranged = args.offset !== undefined || args.length !== undefined;
    const range = ranged ? { offset: args.offset ?? 0, length: args.length } : undefined;
    if (range?.length !== undefined && range.length > args.max_bytes) {
      throw new StorageError(
        "too_large",
        `length ${range.length} is over max_bytes ${args.max_bytes}; raise max_bytes (up to ${HARD_MAX_BYTES}) or read smaller ranges`,
        { key },
      );
    }
    const got = await store.get(key, { range, signal: extra.signal });
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
    const whole = Buffer.concat(chunks);
    const asText = args.encoding === "base64" ? undefined : decodeUtf8(whole);
    // A range that splits a character: the valid text between the cuts, saying where it was cut.
    const cut: CutText | undefined = asText === undefined && ranged && args.encoding !== "base64" ? decodeUtf8Range(whole) : undefined;
    const text = asText ?? cut?.text;
    if (text === undefined && args.encoding === "utf8") {
      throw new StorageError("invalid_argument", `${q(key)} is not valid UTF-8 text; pass encoding "base64" (or "auto")`, { key });
    }
    const bytes = cut ? whole.subarray(cut.lead, whole.length - cut.tail) : whole;
    const offset = got.range.start + (cut?.lead ?? 0);
    const encoding: "utf8" | "base64" = text !== undefined ? "utf8" : "base64";
    const data = text ?? bytes.toString("base64");
    const contentType = got.info.contentType;
    const why = encoding === "base64" && args.encoding === "auto" ? " (not valid UTF-8 text)" : "";
    const cutNote = cut
      ? ` (the range ${got.range.start}-${got.range.end - 1} splits a UTF-8 character: ${describeCut(cut)}; the text is bytes ${offset}-${offset + bytes.length - 1})`
      : "";
    const summary = `${q(key)}: ${bytes.length} of ${got.info.size} bytes from offset ${offset}, as ${encoding}${why}${cutNote}`;
    const isImage = !ranged && contentType?.startsWith("image/") && bytes.length <= INLINE_IMAGE_MAX && contentType !== "image/svg+xml";
    return {
      structured: {
        key,
        data,
        encoding,
        size: got.info.size,
        range: { offset, length: bytes.length },
        content_type: contentType,
      },
      // The data itself too (hosts may show only the text), except an image shown as image content.
      text: isImage ? summary : `${summary}\n\n${data}`,
      content: isImage ? [{ type: "image", data: bytes.toString("base64"), mimeType: contentType ?? "application/octet-stream" }] : [],
    };
  },
});

function describeCut(cut: CutText): string {
  const parts = [];
  if (cut.lead > 0) parts.push(`${cut.lead} byte${cut.lead === 1 ? "" : "s"} skipped at the start`);
  if (cut.tail > 0) parts.push(`${cut.tail} byte${cut.tail === 1 ? "" : "s"} dropped at the end`);
  return parts.join(", ");
}
