/**
 * The one place a tool runs: argument ranges checked, the handler called, the outcome logged, and
 * any failure turned into an error result. Tools only throw; they never build error results.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import type * as z from "zod";
import { StorageError } from "../core/errors.js";
import type { ToolContext } from "./context.js";
import type { ToolExtra } from "./progress.js";
import { redact } from "./redact.js";
import { asStorageError, errorResult } from "./results.js";
import { rangeOf, type Tool } from "./tool.js";

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

export async function runTool(tool: Tool, args: Record<string, unknown>, ctx: ToolContext, extra: ToolExtra): Promise<CallToolResult> {
  try {
    checkRanges(tool, args);
    const reply = await tool.handle(args, ctx, extra);
    return {
      structuredContent: reply.structured as Record<string, unknown>,
      content: [{ type: "text", text: reply.unredacted ? reply.text : redact(reply.text) }, ...(reply.content ?? [])],
    };
  } catch (err) {
    const error = asStorageError(err);
    ctx.log("debug", `${tool.name} failed: ${error.kind}`, { tool: tool.name, code: error.kind });
    return errorResult(error, tool.onError?.(error) as Record<string, unknown> | undefined);
  }
}
