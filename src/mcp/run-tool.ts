/**
 * The one place a tool runs: argument ranges checked, the handler called, the outcome logged, and
 * any failure turned into an error result. Tools only throw; they never build error results.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type * as z from "zod";
import { q, StorageError } from "../core/errors.js";
import type { ToolContext } from "./context.js";
import type { ToolExtra } from "./progress.js";
import { redact } from "./redact.js";
import { asStorageError, errorResult } from "./results.js";
import { rangeOf, type Tool, takesBucket } from "./tool.js";

/** Integers outside their documented range are refused, never clamped. */
function checkRanges(tool: Tool, args: Record<string, unknown>): void {
  for (const [name, schema] of Object.entries(tool.input)) {
    const value = args[name];
    const range = rangeOf(schema as z.ZodType);
    if (range === undefined || value === undefined) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < range.minimum || value > range.maximum) {
      throw new StorageError(
        "invalid_argument",
        `${name} must be an integer from ${range.minimum} to ${range.maximum}${range.unit ? ` ${range.unit}` : ""}; got ${String(value)}`,
      );
    }
  }
}

/** With several buckets, every result and error names the bucket it acted on. */
function namedBucket(tool: Tool, args: Record<string, unknown>, ctx: ToolContext): string | undefined {
  if (ctx.buckets.size < 2 || !takesBucket(tool)) return undefined;
  try {
    return ctx.buckets.store(args.bucket as string | undefined).name;
  } catch {
    return undefined; // not a configured bucket: the error itself lists them
  }
}

export async function runTool(tool: Tool, args: Record<string, unknown>, ctx: ToolContext, extra: ToolExtra): Promise<CallToolResult> {
  const bucket = namedBucket(tool, args, ctx);
  try {
    checkRanges(tool, args);
    const reply = await tool.handle(args, ctx, extra);
    const text = bucket === undefined ? reply.text : `bucket ${q(bucket)}: ${reply.text}`;
    const structured = reply.structured as Record<string, unknown>;
    return {
      structuredContent: bucket === undefined ? structured : { ...structured, bucket },
      content: [{ type: "text", text: reply.unredacted ? text : redact(text) }, ...(reply.content ?? [])],
    };
  } catch (err) {
    const error = asStorageError(err);
    ctx.log("debug", `${tool.name} failed: ${error.kind}`, { tool: tool.name, code: error.kind, bucket });
    const structured = tool.onError?.(error) as Record<string, unknown> | undefined;
    const result = errorResult(error, structured && bucket !== undefined ? { ...structured, bucket } : structured);
    if (bucket !== undefined) {
      const first = result.content[0];
      if (first?.type === "text") first.text += ` (bucket ${q(bucket)})`;
    }
    return result;
  }
}
