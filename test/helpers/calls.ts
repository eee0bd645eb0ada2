/**
 * Calling tools through the SDK client, with results typed and checked by the tools' own zod
 * output schemas (src/mcp/tools/*.ts) rather than by hand-copied interfaces.
 */
import type { CallToolResult, Client } from "@modelcontextprotocol/client";
import { expect } from "vitest";
import * as z from "zod";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { type SpecErrorCode, startsWithSpecCode } from "./spec.js";
import { textOf } from "./start-client.js";

/** What the tests need of a tool value: its wire name, its input (does it take `bucket`?) and its output shape. */
export interface ToolShape<S extends z.ZodRawShape = z.ZodRawShape> {
  name: string;
  input: z.ZodRawShape;
  output: S;
}

/** The shape as the server registers it: a tool that acts on a bucket may also name it. */
type WithBucket<S extends z.ZodRawShape> = S & { bucket: z.ZodOptional<z.ZodString> };

/**
 * A tool's structuredContent as its output schema says (defineTool keeps each tool's shape type).
 * Should a shape's type ever be erased to an index signature, the fields fall back to `any`, still
 * checked at run time by structured(), rather than failing to compile.
 */
export type Structured<S extends z.ZodRawShape> = string extends keyof S
  ? // biome-ignore lint/suspicious/noExplicitAny: only for an erased shape type; see above.
    Record<string, any>
  : z.output<z.ZodObject<S>>;

/**
 * The result's structuredContent, checked against the tool's output shape with no unknown key
 * allowed (stricter than a cast, and than the SDK client's check). Returns the content itself, not
 * the parsed copy, so nothing the server sent is stripped or defaulted before the assertions.
 */
export function structured<S extends z.ZodRawShape>(result: CallToolResult, shape: S, name = "the tool"): Structured<S> {
  if (!result.structuredContent) throw new Error(`${name} returned no structuredContent`);
  const checked = z.strictObject(shape).safeParse(result.structuredContent);
  if (!checked.success) {
    throw new Error(`${name} returned structuredContent outside its output schema:\n${z.prettifyError(checked.error)}`);
  }
  return result.structuredContent as Structured<S>;
}

/** Calls a tool and returns the result typed as CallToolResult. */
export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

/**
 * Calls a tool that must succeed (given as its value from src/mcp/tools, for the name and the
 * output shape) and returns its structuredContent, typed and checked by structured().
 */
export async function callOk<S extends z.ZodRawShape>(
  client: Client,
  tool: ToolShape<S>,
  args: Record<string, unknown> = {},
): Promise<Structured<WithBucket<S>>> {
  const result = await call(client, tool.name, args);
  if (result.isError) throw new Error(`${tool.name} failed: ${textOf(result)}`);
  const shape = ("bucket" in tool.input ? { ...tool.output, bucket: z.string().optional() } : tool.output) as WithBucket<S>;
  return structured(result, shape, tool.name);
}

/** Calls a tool that must fail and returns the result; its text must start with a SPEC error code. */
export async function callError(
  client: Client,
  name: string,
  args: Record<string, unknown> = {},
): Promise<CallToolResult & { text: string }> {
  const result = await call(client, name, args);
  if (!result.isError) throw new Error(`${name} was expected to fail but returned ${JSON.stringify(result.structuredContent)}`);
  const text = textOf(result);
  if (!startsWithSpecCode(text)) {
    throw new Error(`${name} error text does not start with a SPEC error code: ${JSON.stringify(text)}`);
  }
  return { ...result, text };
}

/**
 * "sdk": a JSON-RPC error the MCP SDK itself answers (-32602 for an unknown tool); the call is
 * rejected rather than answered with a result (see expectProtocolError). Arguments that fail the
 * schema are not this: they are invalid_argument results naming the argument.
 */
export type ExpectedCode = SpecErrorCode | "sdk";

/** Asserts that a call was rejected with the SDK's JSON-RPC error `code` (default -32602), and returns its message. */
export async function expectProtocolError(call: Promise<unknown>, code = -32602): Promise<string> {
  const err = await call.then(
    (result) => expect.fail(`expected a JSON-RPC error ${code}, got a result: ${JSON.stringify(result)}`),
    (e: Error & { code?: number }) => e,
  );
  expect(err.code, err.message).toBe(code);
  return err.message;
}

/** Asserts a failed call: the exact code first in the text, and in structuredContent.error when present. */
export function expectError(result: CallToolResult & { text: string }, code: ExpectedCode): void {
  expect(result.isError, `expected ${code}, got success: ${JSON.stringify(result.structuredContent)}`).toBe(true);
  if (code === "sdk") throw new Error("an SDK error rejects the call: use expectProtocolError on the call itself");
  expect(result.text.slice(0, result.text.indexOf(":")), result.text).toBe(code);
  const content = result.structuredContent as { error?: { code?: string } } | undefined;
  if (content?.error) expect(content.error.code).toBe(code);
}

type ListPage = Structured<typeof listObjects.output>;

/**
 * Follows a list_objects listing to its end: every page as received, and their objects' keys and
 * prefixes in order. Fails once `maxPages` pages came back and the listing still goes on.
 */
export async function listAllPages(
  client: Client,
  args: Record<string, unknown>,
  { maxPages = 10_000 }: { maxPages?: number } = {},
): Promise<{ pages: ListPage[]; keys: string[]; prefixes: string[] }> {
  const pages: ListPage[] = [];
  let cursor: string | undefined;
  do {
    if (pages.length === maxPages) throw new Error(`list_objects ${JSON.stringify(args)} did not end within ${maxPages} pages`);
    const page: ListPage = await callOk(client, listObjects, { ...args, ...(cursor ? { cursor } : {}) });
    pages.push(page);
    cursor = page.next_cursor;
  } while (cursor);
  return {
    pages,
    keys: pages.flatMap((p) => p.objects.map((o) => o.key)),
    prefixes: pages.flatMap((p) => p.prefixes),
  };
}
