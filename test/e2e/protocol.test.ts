/**
 * The MCP session itself over the real stdio transport (see test/helpers/tools-server.ts), in both
 * protocol eras: the SDK's error for an unknown tool, invalid_argument results for arguments that
 * fail the schema, the server's name and instructions, and stdout kept for JSON-RPC with logs on
 * stderr. (Every file of the split suite gets the stdout and credential checks again at its end:
 * see useToolsServer.)
 */
import { beforeAll, describe, expect, it } from "vitest";
import { headObject } from "../../src/mcp/tools/head-object.js";
import { uploadBytes } from "../../src/mcp/tools/upload-bytes.js";
import { call, callError, callOk, expectProtocolError } from "../helpers/calls.js";
import { PACKAGE_JSON } from "../helpers/repo.js";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { BACKENDS, isLateProgressError, TEST_ERAS } from "../helpers/start-client.js";
import { useToolsServer } from "../helpers/tools-server.js";

describe.each(BACKENDS.flatMap((b) => TEST_ERAS.map((e) => [b, e] as const)))(
  "tools over stdio, %s backend, protocol %s",
  (backend, era) => {
    const fx = useToolsServer(backend, era);

    describe("protocol", () => {
      // These checks used to run after every other tool, on the one shared server: give this server
      // a transfer to log first (the stderr check below looks for it).
      beforeAll(async () => {
        await callOk(fx.client, uploadBytes, { key: "protocol/logged.txt", data: "logged" });
      });

      it("answers an unknown tool with the SDK's error, arguments that fail the schema with invalid_argument, and keeps serving", async () => {
        expect(await expectProtocolError(call(fx.client, "no_such_tool", {}))).toMatch(/no_such_tool not found/);

        const wrongType = await callError(fx.client, "list_objects", { limit: "ten" });
        expect(wrongType.text).toBe('invalid_argument: limit must be an integer from 1 to 1000, got the string "ten"');
        const missingArg = await callError(fx.client, "head_object", {});
        expect(missingArg.text).toBe("invalid_argument: key is required (a string)");
        const extraArg = await callError(fx.client, "head_object", { key: "k", surprise: true });
        expect(extraArg.text).toMatch(/^invalid_argument: unknown argument "surprise"; this tool takes key, bucket$/);

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
  },
);
