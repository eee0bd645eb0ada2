/**
 * The MCP session itself over the real stdio transport (see test/helpers/tools-server.ts): SDK
 * errors for unknown tools and bad arguments, the server's name and instructions, and stdout kept
 * for JSON-RPC with logs on stderr. (Every file of the split suite gets the stdout and credential
 * checks again at its end: see useToolsServer.)
 */
import { beforeAll, describe, expect, it } from "vitest";
import { headObject } from "../../src/mcp/tools/head-object.js";
import { uploadBytes } from "../../src/mcp/tools/upload-bytes.js";
import { call, callOk } from "../helpers/calls.js";
import { PACKAGE_JSON } from "../helpers/repo.js";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { SPEC_ERROR_CODES } from "../helpers/spec.js";
import { BACKENDS, isLateProgressError, textOf } from "../helpers/start-client.js";
import { useToolsServer } from "../helpers/tools-server.js";

describe.each(BACKENDS)("tools over stdio, %s backend", (backend) => {
  const fx = useToolsServer(backend);

  describe("protocol", () => {
    // These checks used to run after every other tool, on the one shared server: give this server
    // a transfer to log first (the stderr check below looks for it).
    beforeAll(async () => {
      await callOk(fx.client, uploadBytes, { key: "protocol/logged.txt", data: "logged" });
    });

    it("answers an unknown tool and a wrongly typed argument with the SDK's error, and keeps serving", async () => {
      const unknown = await call(fx.client, "no_such_tool", {});
      // McpServer turns both into an isError result carrying the JSON-RPC InvalidParams text.
      expect(unknown.isError).toBe(true);
      expect(textOf(unknown)).toMatch(/-32602.*no_such_tool not found/);

      const wrongType = await call(fx.client, "list_objects", { limit: "ten" });
      expect(wrongType.isError).toBe(true);
      expect(textOf(wrongType)).toMatch(/-32602.*Input validation error/);
      const missingArg = await call(fx.client, "head_object", {});
      expect(missingArg.isError).toBe(true);
      const extraArg = await call(fx.client, "head_object", { key: "k", surprise: true });
      expect(extraArg.isError).toBe(true);
      expect(SPEC_ERROR_CODES.some((code) => textOf(wrongType).startsWith(code))).toBe(false);

      expect((await fx.client.listTools()).tools.map((t) => t.name)).toEqual(fx.tools.map((t) => t.name));
      expect((await callOk(fx.client, headObject, { key: "still/serving" })).exists).toBe(false);
    });

    it("names itself after package.json and tells the assistant the no-overwrite rule", () => {
      expect(fx.client.getServerVersion()).toMatchObject({ name: PACKAGE_JSON.name, version: PACKAGE_JSON.version });
      const instructions = fx.client.getInstructions() ?? "";
      expect(instructions).toContain("overwrite");
      expect(instructions).toContain("download_file");
      expect(fx.client.getServerCapabilities()?.logging).toBeDefined();
    });

    it("keeps stdout for JSON-RPC: logs went to stderr, the client saw no stray output", () => {
      expect(fx.server.transportErrors.filter((e) => !isLateProgressError(e))).toEqual([]);
      expect(fx.server.stderr()).toMatch(/^r2-mcp info: serving /m);
      expect(fx.server.stderr()).toMatch(/^r2-mcp info: uploaded bytes /m);
      expect(fx.server.stderr()).not.toContain("jsonrpc");
    });

    it.runIf(backend === "s3")("never prints the credentials", () => {
      expect(fx.server.stderr()).not.toContain(TEST_SECRET_ACCESS_KEY);
      expect(fx.server.stderr()).not.toContain(TEST_ACCESS_KEY_ID);
    });
  });
});
