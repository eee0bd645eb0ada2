/**
 * The MCP SDK tells a message's kind by parsing it with zod against each JSON-RPC shape in turn
 * (`isJSONRPCResultResponse(m) || isJSONRPCErrorResponse(m)` before `isJSONRPCRequest(m)`, on
 * every message, in the server's dispatch, in serveStdio's channel and in its entry). A parse
 * that fails costs far more than one that succeeds (5-10 µs each here: zod collects every issue),
 * and each request met two failing ones before its own. The bundled CLI (scripts/build-cli.ts)
 * puts a test of the keys each shape requires in front of each parse: a message without them is
 * answered false without parsing, exactly as the parse would have answered; any other message is
 * parsed as before. Nothing else of the SDK changes.
 */

/** For each of the SDK's JSON-RPC predicates: its zod schema, the keys the schema requires, and the keys it forbids (strict). */
export const FAST_CHECKS = {
  isJSONRPCRequest: { schema: "JSONRPCRequestSchema", present: ["jsonrpc", "id", "method"], absent: [] },
  isJSONRPCNotification: { schema: "JSONRPCNotificationSchema", present: ["jsonrpc", "method"], absent: ["id"] },
  isJSONRPCResultResponse: { schema: "JSONRPCResultResponseSchema", present: ["jsonrpc", "id", "result"], absent: [] },
  isJSONRPCErrorResponse: { schema: "JSONRPCErrorResponseSchema", present: ["jsonrpc", "error"], absent: [] },
} as const;

export type FastCheck = keyof typeof FAST_CHECKS;

/** The key test in front of a predicate, as the source text patched into the SDK. */
function guardText(check: FastCheck): string {
  const { present, absent } = FAST_CHECKS[check];
  return [
    'typeof value === "object"',
    "value !== null",
    ...present.map((key) => `value.${key} !== undefined`),
    ...absent.map((key) => `value.${key} === undefined`),
  ].join(" && ");
}

/** The same key test as a function (what the unit test compares with the SDK's own predicates). */
export function keyTest(check: FastCheck): (value: unknown) => boolean {
  const { present, absent } = FAST_CHECKS[check];
  return (value) => {
    if (typeof value !== "object" || value === null) return false;
    const record = value as Record<string, unknown>;
    return present.every((key) => record[key] !== undefined) && absent.every((key) => record[key] === undefined);
  };
}

/**
 * `source` (the SDK module defining the predicates) with each predicate's key test in front of its
 * parse; throws when a definition is not found exactly once (the SDK changed: look again).
 */
export function withFastChecks(source: string): string {
  let out = source;
  for (const check of Object.keys(FAST_CHECKS) as FastCheck[]) {
    const { schema } = FAST_CHECKS[check];
    const definition = `const ${check} = (value) => ${schema}.safeParse(value).success;`;
    const at = out.indexOf(definition);
    if (at === -1 || out.indexOf(definition, at + 1) !== -1)
      throw new Error(`the MCP SDK no longer defines ${check} as "${definition}": update scripts/fast-jsonrpc-checks.ts`);
    out = out.replace(definition, `const ${check} = (value) => ${guardText(check)} && ${schema}.safeParse(value).success;`);
  }
  return out;
}
