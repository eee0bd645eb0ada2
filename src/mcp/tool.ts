/**
 * A tool is one typed value: name, schemas, one effect from which its annotations follow, and a
 * small handler that returns typed structured content. run-tool.ts runs it; server.ts registers it;
 * scripts/gen-schemas.ts writes its JSON Schemas to schemas/.
 */
import type { CallToolResult, ToolAnnotations } from "@modelcontextprotocol/server";
import * as z from "zod";
import type { StorageError } from "../core/errors.js";
import type { ObjectStore } from "../core/store.js";
import type { PreparedTransfer, RunOptions } from "../core/transfer/index.js";
import type { ToolContext } from "./context.js";
import type { IconName } from "./icons.js";
import type { ToolExtra } from "./progress.js";

/**
 * What a tool can do to data: read only; write without ever replacing anything; or destroy data
 * (delete, or replace a destination when asked to with overwrite).
 */
export type Effect = "read" | "write" | "destructive";

/** What a handler returns: structured content typed by the output schema, and its readable text. */
export interface ToolReply<O extends z.ZodRawShape> {
  structured: z.input<z.ZodObject<O>>;
  text: string;
  /** More content blocks after the text (e.g. an image). */
  content?: CallToolResult["content"];
  /** The text carries something meant for the user that looks like a credential (a presigned URL). */
  unredacted?: boolean;
}

export interface Tool<I extends z.ZodRawShape = z.ZodRawShape, O extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  title: string;
  description: string;
  input: I;
  output: O;
  effect: Effect;
  /** The picture in tools/list (default: one for the tool's name, else for its effect; see icons.ts). */
  icon?: IconName;
  /** Repeating the call with the same arguments has no further effect (default: true unless effect is "write"). */
  idempotent?: boolean;
  /** Changes the bucket: not registered with --read-only. */
  changesBucket: boolean;
  /** Registered only when this holds for the buckets served (e.g. some bucket can presign). */
  availableWith?(stores: readonly ObjectStore[]): boolean;
  /**
   * A long tool (one that takes `background`) returns its work checked and planned but not yet run
   * (see transferReply); run-tool runs it now or as a background job.
   */
  handle(args: z.output<z.ZodObject<I>>, ctx: ToolContext, extra: ToolExtra): Promise<ToolReply<O> | PendingTransfer<O>>;
  /**
   * Structured content for an error result, for tools whose output schema admits `error` (the SDK's
   * client validates error results against the output schema too): what completed before the failure.
   */
  onError?(err: StorageError): z.input<z.ZodObject<O>>;
}

/**
 * A transfer whose arguments, roots and conflicts are checked and whose plan is made: the work
 * itself, run by run-tool in the call (with the call's cancellation and progress) or as a job.
 */
export interface PendingTransfer<O extends z.ZodRawShape> {
  readonly bytesTotal: number;
  readonly filesTotal: number;
  run(options: RunOptions): Promise<ToolReply<O>>;
}

export function isPendingTransfer<O extends z.ZodRawShape>(reply: ToolReply<O> | PendingTransfer<O>): reply is PendingTransfer<O> {
  return "run" in reply;
}

/** A long tool's answer: a prepared transfer and how its result reads (a dry run is answered at once). */
export function transferReply<R, O extends z.ZodRawShape>(
  prepared: PreparedTransfer<R>,
  reply: (result: R) => ToolReply<O>,
): ToolReply<O> | PendingTransfer<O> {
  if (prepared.answered !== undefined) return reply(prepared.answered);
  return {
    bytesTotal: prepared.bytesTotal,
    filesTotal: prepared.filesTotal,
    run: async (options) => reply(await prepared.run(options)),
  };
}

/** The `background` argument of every long tool. */
export const backgroundInput = {
  background: z
    .boolean()
    .default(false)
    // The instructions say when to use it; the schema says what it does.
    .describe("true: run as a job, answered with its job_id."),
};

/** Whether a tool can run as a background job. */
export function takesBackground(tool: Tool): boolean {
  return "background" in tool.input;
}

export function defineTool<I extends z.ZodRawShape, O extends z.ZodRawShape>(tool: Tool<I, O>): Tool<I, O> {
  return tool;
}

/** MCP annotations, derived from the effect; openWorldHint comes from the store. */
export function annotationsOf(tool: Tool, remote: boolean): ToolAnnotations {
  // The title is the tool's own (tools/list carries it once, beside the annotations).
  return {
    readOnlyHint: tool.effect === "read",
    destructiveHint: tool.effect === "destructive",
    idempotentHint: tool.idempotent ?? tool.effect !== "write",
    openWorldHint: remote,
  };
}

/**
 * An integer field. Its JSON Schema says "integer" and nothing more: zod would add the safe-integer
 * bounds (±9007199254740991) to every one, which tell an assistant nothing and cost context.
 */
export const int = () => z.number().int().meta({ minimum: undefined, maximum: undefined });

/**
 * An object in a result. Its JSON Schema leaves out `additionalProperties: false` and `required`:
 * results are what this server sends (the result itself shows which fields it has), and saying so
 * on every object costs context without informing. Arguments keep both.
 */
export const RESULT_OBJECT = { additionalProperties: undefined, required: undefined };
export const outputObject = <S extends z.ZodRawShape>(shape: S) => z.object(shape).meta(RESULT_OBJECT);

/** The documented range of an integer argument, kept in its JSON Schema and checked by run-tool. */
export interface IntRange {
  minimum: number;
  maximum: number;
  /** Appended to the refusal, e.g. "seconds" or what to do instead. */
  unit?: string;
}

const RANGES = new WeakMap<z.ZodType, IntRange>();

/**
 * An integer whose range is in the JSON Schema (so assistants see it) but checked by run-tool, so
 * that a value out of range is an `invalid_argument` result naming the argument rather than a
 * generic schema error. Never clamped.
 */
export function rangedInt(minimum: number, maximum: number, description: string, unit?: string) {
  // A maximum of MAX_SAFE_INTEGER means "no upper bound" and is left out of the schema.
  const shown = maximum >= Number.MAX_SAFE_INTEGER ? undefined : maximum;
  const schema = z.number().int().meta({ minimum, maximum: shown }).describe(description);
  RANGES.set(schema, { minimum, maximum, unit });
  return schema;
}

/** The range of a field made with rangedInt (through .optional() and .default()). */
export function rangeOf(schema: z.ZodType): IntRange | undefined {
  let current: z.ZodType = schema;
  for (let depth = 0; depth < 4; depth++) {
    const range = RANGES.get(current);
    if (range) return range;
    const inner = (current as { def?: { innerType?: z.ZodType } }).def?.innerType;
    if (!inner) return undefined;
    current = inner;
  }
  return undefined;
}

/** `what` names the destination, singular ("the object") or plural ("existing objects"). */
export const overwriteField = (what: string) => z.boolean().default(false).describe(`Replace existing ${what} (else already_exists).`);

export const keyField = (description = "Object key.") => z.string().describe(description);

export const objectSummary = outputObject({
  key: z.string(),
  size: int(),
  last_modified: z.string(),
  etag: z.string(),
});

export const errorShape = outputObject({
  code: z.string(),
  message: z.string(),
  key: z.string().optional(),
  path: z.string().optional(),
})
  .optional()
  .describe("On failure.");

/** What a write of one object returns (upload_bytes, upload_file). */
export const putResultShape = {
  key: z.string(),
  size: int(),
  etag: z.string(),
  replaced: z.boolean(),
};

/** Whether a tool acts on one bucket (it takes the `bucket` argument). */
export function takesBucket(tool: Tool): boolean {
  return "bucket" in tool.input;
}

/** The output schema as registered: with several buckets (the default here), a tool that acts on one also names it. */
export function outputShape(tool: Tool, severalBuckets = true): z.ZodRawShape {
  const shape = takesBackground(tool) ? backgroundOutput(tool.output) : tool.output;
  if (!severalBuckets || !takesBucket(tool)) return shape;
  return { ...shape, bucket: z.string().optional() };
}

/**
 * A long tool's output: its result, or, with background: true, only the job it started (the
 * result then comes with transfer_status). Its fields are therefore optional on the wire. The
 * schema names job_id only: the job's state is in the text, and in transfer_status.
 */
function backgroundOutput(output: z.ZodRawShape): z.ZodRawShape {
  const fields = Object.entries(output).map(([name, field]) => [name, field instanceof z.ZodOptional ? field : z.optional(field)]);
  return { ...Object.fromEntries(fields), job_id: jobStartShape.job_id };
}

/** What a call with background: true answers (results are open objects: state needs no schema to be read). */
export const jobStartShape = {
  job_id: z.string().optional(),
  state: z.enum(["queued", "running"]).optional(),
};

/** The `bucket` argument every object tool takes. */
export const bucketInput = {
  // The instructions name the buckets when there are several.
  bucket: z.string().optional().describe("Default: first."),
};
