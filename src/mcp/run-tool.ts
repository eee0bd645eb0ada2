/**
 * The one place a tool runs: arguments checked against the schema and their ranges, the handler
 * called, a long tool's work run in the call or started as a background job, the outcome logged,
 * and any failure turned into an error result. Tools only throw; they never build error results.
 */
import type { CallToolResult, InputRequiredResult } from "@modelcontextprotocol/server";
import type * as z from "zod";
import { q, StorageError } from "../core/errors.js";
import { checkArguments } from "./arguments.js";
import { QuestionAsked } from "./confirm.js";
import type { ToolContext } from "./context.js";
import { progressReporter, type ToolExtra } from "./progress.js";
import { redact, stringsIn } from "./redact.js";
import { asStorageError, errorResult, formatBytes } from "./results.js";
import { isPendingTransfer, type PendingTransfer, rangeOf, type Tool, type ToolReply, takesBucket } from "./tool.js";

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

/** Runs `tool` on the arguments as received (unchecked: checkArguments words schema failures). */
export async function runTool(
  tool: Tool,
  received: unknown,
  ctx: ToolContext,
  extra: ToolExtra,
): Promise<CallToolResult | InputRequiredResult> {
  const raw = received !== null && typeof received === "object" ? (received as Record<string, unknown>) : {};
  const bucket = namedBucket(tool, raw, ctx);
  let reply: ToolReply<z.ZodRawShape>;
  try {
    const args = checkArguments(tool.input, received) as Record<string, unknown>;
    checkRanges(tool, args);
    const answer = await tool.handle(args, ctx, extra);
    if (!isPendingTransfer(answer)) reply = answer;
    // The one place a long tool's work runs in the call or as a background job.
    else if (args.background === true) reply = startJob(tool, args, ctx, bucket, answer);
    else reply = await answer.run({ signal: extra.signal, onProgress: progressReporter(extra) });
  } catch (err) {
    // A question for the person (confirm.ts): the call ends here and runs again with the answer.
    if (err instanceof QuestionAsked) return err.result;
    return failure(tool, ctx, bucket, asStorageError(err));
  }
  return success(reply, bucket);
}

function success(reply: ToolReply<z.ZodRawShape>, bucket: string | undefined): CallToolResult {
  const text = bucket === undefined ? reply.text : `bucket ${q(bucket)}: ${reply.text}`;
  const structured = reply.structured as Record<string, unknown>;
  return {
    structuredContent: bucket === undefined ? structured : { ...structured, bucket },
    // Keys and data the result carries are the user's, not secrets: redaction leaves them whole.
    content: [{ type: "text", text: reply.unredacted ? text : redact(text, stringsIn(structured)) }, ...(reply.content ?? [])],
  };
}

function failure(tool: Tool, ctx: ToolContext, bucket: string | undefined, error: StorageError): CallToolResult {
  ctx.log("debug", `${tool.name} failed: ${error.kind}`, { tool: tool.name, code: error.kind, bucket });
  const structured = tool.onError?.(error) as Record<string, unknown> | undefined;
  const result = errorResult(error, structured && bucket !== undefined ? { ...structured, bucket } : structured);
  if (bucket !== undefined) {
    const first = result.content[0];
    if (first?.type === "text") first.text += ` (bucket ${q(bucket)})`;
  }
  return result;
}

/**
 * Hands the checked and planned work to the job registry; the job's result is the one this call
 * would have returned in the foreground, error results included.
 */
function startJob(
  tool: Tool,
  args: Record<string, unknown>,
  ctx: ToolContext,
  bucket: string | undefined,
  pending: PendingTransfer<z.ZodRawShape>,
): ToolReply<z.ZodRawShape> {
  const { background: _, ...callArguments } = args;
  const job = ctx.jobs.start({
    tool: tool.name,
    arguments: callArguments,
    bytesTotal: pending.bytesTotal,
    filesTotal: pending.filesTotal,
    log: ctx.log,
    async run(signal, onProgress) {
      let result: CallToolResult;
      let error: StorageError | undefined;
      try {
        result = success(await pending.run({ signal, onProgress }), bucket);
      } catch (err) {
        error = asStorageError(err);
        result = failure(tool, ctx, bucket, error);
      }
      const text = result.content[0]?.type === "text" ? result.content[0].text : "";
      return { structured: result.structuredContent as Record<string, unknown> | undefined, text, ...(error ? { error } : {}) };
    },
  });
  const files = `${pending.filesTotal} file${pending.filesTotal === 1 ? "" : "s"}, ${formatBytes(pending.bytesTotal)}`;
  return {
    structured: { job_id: job.job_id, state: job.state },
    text: `started job ${job.job_id} (${job.state}): ${tool.name} of ${files}. It runs on after this call; follow it with transfer_status {"job_id": "${job.job_id}"}, stop it with cancel_transfer.`,
  };
}
