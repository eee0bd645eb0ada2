/**
 * What the bundled CLI (scripts/build-cli.ts) uses in place of the MCP SDK's
 * `@modelcontextprotocol/server/_shims` on Node. The SDK's own shim exports its default JSON Schema
 * validator, which is AJV with its formats: a third of the source the server would otherwise load
 * before its first answer, for a validator only a few requests use (a form's answer, checked
 * against the form's schema when a tool asks the person). This one is the same validator, loaded
 * (synchronously, from the SDK's own CommonJS build in node_modules) on its first use.
 *
 * Nothing else imports this module: run from src/ or as the library, the SDK's shim is used as is.
 */
import { createRequire } from "node:module";
import process from "node:process";
import type { JsonSchemaType, JsonSchemaValidator, jsonSchemaValidator } from "@modelcontextprotocol/server";

const require = createRequire(import.meta.url);

export class DefaultJsonSchemaValidator implements jsonSchemaValidator {
  private validator: jsonSchemaValidator | undefined;

  getValidator<T>(schema: JsonSchemaType): JsonSchemaValidator<T> {
    if (this.validator === undefined) {
      const shim = require("@modelcontextprotocol/server/_shims") as { DefaultJsonSchemaValidator: new () => jsonSchemaValidator };
      this.validator = new shim.DefaultJsonSchemaValidator();
    }
    return this.validator.getValidator<T>(schema);
  }
}

export { process };
