/**
 * A tool is one value: name, schemas, annotations and a small handler. server.ts registers them;
 * scripts/gen-schemas.ts writes their JSON Schemas to schemas/.
 */
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/sdk/types.js";
import * as z from "zod";
import { StorageError } from "../../core/errors.js";
import type { ToolContext } from "../context.js";
import type { ToolExtra } from "../progress.js";

export interface ToolDefinition<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  /** openWorldHint is filled in by the server: true for S3, false for the local store. */
  annotations: Omit<ToolAnnotations, "title" | "openWorldHint">;
  /** Changes the bucket: not registered with --read-only. */
  changesBucket: boolean;
  handle(args: z.output<z.ZodObject<I>>, ctx: ToolContext, extra: ToolExtra): Promise<CallToolResult>;
}

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(tool: ToolDefinition<I, O>): ToolDefinition {
  return tool as unknown as ToolDefinition;
}

/**
 * An integer whose documented range is in the JSON Schema (so assistants see it) but checked by
 * the handler, so that a value out of range is an `invalid_argument` result naming the argument
 * rather than a generic schema error. Never clamped.
 */
export function rangedInt(min: number, max: number, description: string) {
  return z.number().int().meta({ minimum: min, maximum: max }).describe(description);
}

/**
 * A content type is sent as an HTTP header: printable ASCII only, so a CR/LF cannot split the
 * request and no control character reaches the store (both backends refuse the same values).
 */
export function checkContentType(value: string | undefined): void {
  if (value !== undefined && !/^[\x21-\x7e][\x20-\x7e]*$/.test(value)) {
    throw new StorageError(
      "invalid_argument",
      `content_type ${JSON.stringify(value)} is not a media type (printable ASCII without line breaks, e.g. "text/csv"); fix it or leave it out to have it guessed`,
    );
  }
}

export const overwriteField = (what: string) =>
  z
    .boolean()
    .default(false)
    .describe(
      `Replace ${what} if it already exists. Default false: an existing destination is an already_exists error and nothing is changed.`,
    );

export const keyField = (description = 'Object key, e.g. "runs/2024-06-01/metrics.csv" (1-1024 bytes of UTF-8).') =>
  z.string().describe(description);

export const objectSummary = z.object({
  key: z.string(),
  size: z.number().int().describe("Size in bytes."),
  last_modified: z.string().describe("ISO 8601 time of the last write."),
  etag: z.string().describe("Entity tag without quotes: the MD5 of the bytes for single-part uploads."),
});

export const errorShape = z
  .object({
    code: z.string().describe("Stable error code, e.g. already_exists."),
    message: z.string(),
    key: z.string().optional(),
    path: z.string().optional(),
  })
  .optional()
  .describe("Present when the call failed: what went wrong. The other fields then say what completed.");
