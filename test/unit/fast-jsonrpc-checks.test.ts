/**
 * The key tests the bundled CLI puts in front of the MCP SDK's JSON-RPC predicates
 * (scripts/fast-jsonrpc-checks.ts) only ever answer false where the SDK's own parse answers false:
 * checked against the SDK's predicates (unpatched, from node_modules) on valid and broken messages
 * of every kind; and the patch applies to the SDK module installed here, or refuses loudly.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { isJSONRPCErrorResponse, isJSONRPCNotification, isJSONRPCRequest, isJSONRPCResultResponse } from "@modelcontextprotocol/server";
import { describe, expect, it } from "vitest";
import { FAST_CHECKS, type FastCheck, keyTest, withFastChecks } from "../../scripts/fast-jsonrpc-checks.js";
import { REPO_ROOT } from "../helpers/repo.js";

const SDK: Record<FastCheck, (value: unknown) => boolean> = {
  isJSONRPCRequest,
  isJSONRPCNotification,
  isJSONRPCResultResponse,
  isJSONRPCErrorResponse,
};

const request = { jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "head_object", arguments: { key: "a" } } };
const notification = { jsonrpc: "2.0", method: "notifications/initialized" };
const result = { jsonrpc: "2.0", id: "x", result: { content: [{ type: "text", text: "ok" }] } };
const error = { jsonrpc: "2.0", id: 3, error: { code: -32601, message: "Method not found" } };

/** Messages of every kind, valid and broken in the ways a peer or a bug could break them. */
const MESSAGES: unknown[] = [
  request,
  { ...request, id: "abc" },
  { ...request, params: undefined },
  { jsonrpc: "2.0", id: 1, method: "ping" },
  notification,
  { ...notification, params: { progressToken: 1, progress: 2 } },
  result,
  { jsonrpc: "2.0", id: 1, result: {} },
  error,
  { jsonrpc: "2.0", error: { code: -32700, message: "Parse error" } },
  // broken
  { ...request, id: null },
  { ...request, id: 1.5 },
  { ...request, jsonrpc: "1.0" },
  { jsonrpc: "2.0", method: "x", id: undefined },
  { id: 1, method: "x" },
  { ...request, extra: true },
  { ...notification, id: 4 },
  { ...result, error: error.error },
  { ...result, result: null },
  { ...result, result: "text" },
  { jsonrpc: "2.0", id: 1 },
  { jsonrpc: "2.0", id: 1, error: { code: "x", message: 1 } },
  { jsonrpc: "2.0", method: 5 },
  {},
  [],
  [request],
  null,
  undefined,
  "a string",
  42,
  true,
];

describe("fast JSON-RPC checks in front of the SDK's predicates", () => {
  for (const check of Object.keys(FAST_CHECKS) as FastCheck[]) {
    it(`${check}: the key test never refuses what the SDK accepts, and with it the answers are the SDK's`, () => {
      const test = keyTest(check);
      let accepted = 0;
      for (const message of MESSAGES) {
        const sdk = SDK[check](message);
        if (sdk) accepted++;
        expect({ message, answer: test(message) && SDK[check](message) }).toEqual({ message, answer: sdk });
      }
      // Each predicate accepts some of the corpus, so the comparison means something.
      expect(accepted).toBeGreaterThan(0);
    });
  }

  it("the key tests refuse requests as responses and responses as requests without parsing", () => {
    expect(keyTest("isJSONRPCResultResponse")(request)).toBe(false);
    expect(keyTest("isJSONRPCErrorResponse")(request)).toBe(false);
    expect(keyTest("isJSONRPCNotification")(request)).toBe(false);
    expect(keyTest("isJSONRPCRequest")(result)).toBe(false);
    expect(keyTest("isJSONRPCRequest")(notification)).toBe(false);
  });

  it("patches the SDK module installed here (the one the CLI bundles), each predicate once", () => {
    const dist = path.join(REPO_ROOT, "node_modules", "@modelcontextprotocol", "server", "dist");
    const modules = readdirSync(dist)
      .filter((name) => name.endsWith(".mjs"))
      .map((name) => readFileSync(path.join(dist, name), "utf8"))
      .filter((source) => source.includes("const isJSONRPCRequest = "));
    expect(modules).toHaveLength(1);
    const patched = withFastChecks(modules[0] as string);
    for (const [check, { schema }] of Object.entries(FAST_CHECKS)) {
      expect(patched).not.toContain(`const ${check} = (value) => ${schema}.safeParse(value).success;`);
      expect(patched).toContain(`const ${check} = (value) => typeof value === "object" && value !== null && `);
    }
  });

  it("refuses a module whose predicates are not written as expected", () => {
    expect(() => withFastChecks("const isJSONRPCRequest = (v) => S.safeParse(v).success;")).toThrow(
      /update scripts\/fast-jsonrpc-checks\.ts/,
    );
  });
});
