/**
 * Tool arguments checked by the server itself, so that input failing the schema (a wrong type, an
 * unknown or missing argument) comes back as an `invalid_argument` tool result naming the argument
 * (the model can correct itself) rather than the SDK's generic validation text.
 *
 * The SDK is given the tool's schema as a Standard Schema that advertises the real JSON Schema in
 * tools/list but accepts any value; run-tool then parses with the zod schema and words the failure.
 */
import type { StandardSchemaWithJSON } from "@modelcontextprotocol/server";
import * as z from "zod";
import { q, StorageError } from "../core/errors.js";
import { rangeOf } from "./tool.js";

/**
 * The schema registered with the SDK: `schema`'s JSON Schema (or `jsonSchema`, the same answered
 * from a precomputed table, see listed-schemas.ts), validation left to checkArguments.
 */
export function advertisedOnly(schema: z.ZodType, jsonSchema?: StandardSchemaWithJSON["~standard"]["jsonSchema"]): StandardSchemaWithJSON {
  const own = schema["~standard"] as unknown as StandardSchemaWithJSON["~standard"];
  return {
    "~standard": {
      version: 1,
      vendor: "r2-mcp",
      validate: (value: unknown) => ({ value }),
      jsonSchema: jsonSchema ?? own.jsonSchema,
    },
  };
}

function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "string") return `the string ${q(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const key of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

const EXPECTED: Record<string, string> = {
  int: "an integer",
  number: "a number",
  string: "a string",
  boolean: "a boolean",
  array: "an array",
  object: "an object",
};

function describeIssue(issue: z.core.$ZodIssue, input: unknown, shape: z.ZodRawShape): string {
  const known = Object.keys(shape);
  const name = issue.path.length > 0 ? issue.path.map(String).join(".") : "the arguments";
  const value = valueAt(input, issue.path);
  switch (issue.code) {
    case "unrecognized_keys":
      return `unknown argument${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map(q).join(", ")}; this tool takes ${known.join(", ")}`;
    case "invalid_type": {
      const field = issue.path.length === 1 ? shape[String(issue.path[0])] : undefined;
      const range = field ? rangeOf(field as z.ZodType) : undefined;
      if (range && value !== undefined)
        return `${name} must be an integer from ${range.minimum} to ${range.maximum}, got ${describeValue(value)}`;
      if (value === undefined) return `${name} is required (${EXPECTED[issue.expected] ?? issue.expected})`;
      return `${name} must be ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(value)}`;
    }
    case "invalid_value":
      return `${name} must be one of ${issue.values.map((v) => q(String(v))).join(", ")}, got ${describeValue(value)}`;
    default:
      return `${name}: ${issue.message}`;
  }
}

/**
 * Each tool's input object, built once: zod compiles an object schema's parser on its first use,
 * which costs far more than a parse, so a schema built per call made every call pay it.
 */
const inputObjects = new WeakMap<z.ZodRawShape, z.ZodObject>();

function inputObject<I extends z.ZodRawShape>(input: I): z.ZodObject<I> {
  let object = inputObjects.get(input);
  if (!object) {
    object = z.strictObject(input);
    inputObjects.set(input, object);
  }
  return object as z.ZodObject<I>;
}

/** The arguments parsed by the tool's schema (defaults applied), or invalid_argument naming what is wrong. */
export function checkArguments<I extends z.ZodRawShape>(input: I, args: unknown): z.output<z.ZodObject<I>> {
  const parsed = inputObject(input).safeParse(args ?? {});
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.slice(0, 3).map((issue) => describeIssue(issue, args, input));
  throw new StorageError("invalid_argument", problems.join("; "));
}
