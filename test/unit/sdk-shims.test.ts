/**
 * The stand-in for the SDK's `_shims` in the bundled CLI (src/mcp/sdk-shims.ts): its validator is
 * the SDK's own JSON Schema validator, loaded on first use, so a form's answer is still checked
 * against the form's schema.
 */
import { DefaultJsonSchemaValidator as SdkValidator, process as sdkProcess } from "@modelcontextprotocol/server/_shims";
import { describe, expect, it } from "vitest";
import { DefaultJsonSchemaValidator, process } from "../../src/mcp/sdk-shims.js";

const QUESTION = {
  type: "object",
  properties: { confirm: { type: "boolean" }, note: { type: "string", format: "email" } },
  required: ["confirm"],
} as const;

describe("sdk-shims", () => {
  it("validates like the SDK's default validator, loaded on the first schema", () => {
    const ours = new DefaultJsonSchemaValidator().getValidator(QUESTION);
    const sdk = new SdkValidator().getValidator(QUESTION);
    for (const answer of [
      { confirm: true },
      { confirm: "yes" },
      {},
      { confirm: false, note: "not an address" },
      { confirm: false, note: "a@b.example" },
    ]) {
      const got = ours(answer);
      expect(got).toEqual(sdk(answer));
    }
    expect(ours({ confirm: true }).valid).toBe(true);
    expect(ours({ confirm: "yes" })).toMatchObject({ valid: false, errorMessage: expect.stringContaining("boolean") });
    expect(ours({ confirm: false, note: "not an address" }).valid).toBe(false);
  });

  it("exports Node's process, as the SDK's shim does", () => {
    expect(process).toBe(sdkProcess);
  });
});
