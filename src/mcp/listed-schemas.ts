/**
 * Each tool's schemas as registered with the SDK, and their JSON Schemas as tools/list reports them.
 *
 * The SDK converts every registered zod schema to JSON Schema on each tools/list (and each output
 * schema on a tool's first call): some 25 ms of a cold start's first tools/list here. The bundled
 * CLI carries them converted at build time instead (scripts/build-cli.ts computes them with the
 * functions below and defines R2MCP_LISTED_SCHEMAS); run from src/ or as the library, nothing is
 * precomputed and zod converts them as before. Validation is zod's either way.
 */
import type { StandardSchemaWithJSON } from "@modelcontextprotocol/server";
import * as z from "zod";
import { outputShape, RESULT_OBJECT, type Tool } from "./tool.js";

/** The dialect the SDK asks for (its JSON_SCHEMA_CONVERSION_TARGET). */
export const LISTED_TARGET = "draft-2020-12";

/** No "$schema" in each of them: tools/list would repeat it twice per tool (MCP's default dialect applies). */
const NO_DIALECT = { $schema: undefined };
const RESULT = { ...NO_DIALECT, ...RESULT_OBJECT };

/** A tool's arguments as checked by run-tool and advertised in tools/list. */
export function inputSchemaOf(tool: Tool): z.ZodObject {
  return z.strictObject(tool.input).meta(NO_DIALECT);
}

/** A tool's output as registered: with several buckets, a tool that acts on one also names it. */
export function outputSchemaOf(tool: Tool, severalBuckets: boolean): z.ZodObject {
  return z.object(outputShape(tool, severalBuckets)).meta(RESULT);
}

type Io = "input" | "output";
type Converter = StandardSchemaWithJSON["~standard"]["jsonSchema"];

/** Where a schema's JSON Schema is in the precomputed table. */
export function listedKey(tool: string, io: Io, severalBuckets: boolean): string {
  return io === "input" ? `${tool}.input` : `${tool}.output.${severalBuckets ? "several" : "one"}`;
}

/** The JSON Schema text the SDK's conversion gives for `schema` (what the build precomputes). */
export function listedJson(schema: z.ZodType, io: Io): string {
  return JSON.stringify(schema["~standard"].jsonSchema[io]({ target: LISTED_TARGET }));
}

/** Defined by scripts/build-cli.ts in the bundle only: listedKey → listedJson. */
declare const R2MCP_LISTED_SCHEMAS: Record<string, string> | undefined;

const PRECOMPUTED: Record<string, string> | undefined = typeof R2MCP_LISTED_SCHEMAS === "object" ? R2MCP_LISTED_SCHEMAS : undefined;

/** `schema`'s converter, answering the SDK's request from the precomputed table when it has it. */
export function listedConverter(schema: z.ZodType, io: Io, key: string): Converter {
  const own = schema["~standard"].jsonSchema;
  const text = PRECOMPUTED?.[key];
  const convert = (asked: Io) => (options: Parameters<Converter["input"]>[0]) =>
    // A fresh object each time, as zod gives: the caller may change it.
    text !== undefined && asked === io && options.target === LISTED_TARGET
      ? (JSON.parse(text) as Record<string, unknown>)
      : own[asked](options);
  return { input: convert("input"), output: convert("output") };
}

/** A tool's registered output schema: zod's validation, its JSON Schema precomputed when built. */
export function registeredOutput(tool: Tool, severalBuckets: boolean): StandardSchemaWithJSON {
  const schema = outputSchemaOf(tool, severalBuckets);
  const own = schema["~standard"];
  return {
    "~standard": {
      version: 1,
      vendor: own.vendor,
      validate: own.validate,
      jsonSchema: listedConverter(schema, "output", listedKey(tool.name, "output", severalBuckets)),
    },
  } as StandardSchemaWithJSON;
}
