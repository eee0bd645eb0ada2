/**
 * tools/list over the real stdio transport (see test/helpers/tools-server.ts): exactly SPEC's
 * tools, each described, with output schemas, annotations and SPEC's defaults and ranges.
 */
import { describe, expect, it } from "vitest";
import { MIB } from "../helpers/bytes.js";
import { SPEC_TOOLS } from "../helpers/spec.js";
import { SERVED } from "../helpers/start-client.js";
import { useToolsServer } from "../helpers/tools-server.js";

const ALL_TOOLS: string[] = [...SPEC_TOOLS];
/** SPEC.md "Beyond the tools": may be registered next to them; nothing else may. */
const OPTIONAL_TOOLS = ["presign_url"];
const WRITING_TOOLS = ["upload_bytes", "upload_file", "upload_directory", "download_file", "download_directory"];
const READ_ONLY_TOOLS = [
  "list_buckets",
  "list_objects",
  "head_object",
  "summarize_prefix",
  "get_object_bytes",
  "compare_directory",
  "presign_url",
  "transfer_status",
];
/** Tools that take no argument at all. */
const NO_ARGUMENT_TOOLS = ["list_buckets"];

describe.each(SERVED)("tools over stdio, %s backend, protocol %s", (backend, era) => {
  const fx = useToolsServer(backend, era);

  describe("tools/list", () => {
    it("lists exactly the tools of SPEC.md (and nothing but presign_url besides)", () => {
      const names = fx.tools.map((t) => t.name);
      expect(names.filter((n) => !OPTIONAL_TOOLS.includes(n)).sort()).toEqual([...ALL_TOOLS].sort());
      expect(new Set(names).size).toBe(names.length);
      // Only where some bucket can make links: with only a local store it is not registered.
      expect(names.includes("presign_url")).toBe(backend === "s3");
    });

    it("describes every tool, every input property, and gives an output schema and annotations", () => {
      for (const tool of fx.tools) {
        expect(tool.description, tool.name).toMatch(/\S{3}/);
        expect(tool.inputSchema.type, tool.name).toBe("object");
        const properties = (tool.inputSchema.properties ?? {}) as Record<string, { description?: unknown }>;
        if (!NO_ARGUMENT_TOOLS.includes(tool.name)) expect(Object.keys(properties).length, tool.name).toBeGreaterThan(0);
        for (const [name, schema] of Object.entries(properties)) {
          expect(typeof schema.description, `${tool.name}.${name} has a description`).toBe("string");
          expect((schema.description as string).length, `${tool.name}.${name}`).toBeGreaterThan(5);
        }
        expect(tool.outputSchema?.type, tool.name).toBe("object");
        const a = tool.annotations;
        expect(a, tool.name).toBeDefined();
        for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
          expect(typeof a?.[hint], `${tool.name}.${hint}`).toBe("boolean");
        }
        expect(a?.openWorldHint, tool.name).toBe(backend === "s3");
      }
    });

    it("marks reading tools read-only and the others not", () => {
      for (const tool of fx.tools) {
        expect(tool.annotations?.readOnlyHint, tool.name).toBe(READ_ONLY_TOOLS.includes(tool.name));
        if (READ_ONLY_TOOLS.includes(tool.name)) expect(tool.annotations?.destructiveHint, tool.name).toBe(false);
      }
      expect(fx.tools.find((t) => t.name === "delete_object")?.annotations?.destructiveHint).toBe(true);
    });

    it("gives every writing tool an optional overwrite flag defaulting to false", () => {
      for (const name of WRITING_TOOLS) {
        const tool = fx.tools.find((t) => t.name === name)!;
        const overwrite = (tool.inputSchema.properties as Record<string, { type?: string; default?: unknown }>).overwrite;
        expect(overwrite, name).toMatchObject({ type: "boolean", default: false });
        expect(tool.inputSchema.required ?? [], name).not.toContain("overwrite");
      }
    });

    it("documents the defaults and ranges of SPEC.md in the input schemas", () => {
      const props = (name: string) =>
        fx.tools.find((t) => t.name === name)!.inputSchema.properties as Record<string, Record<string, unknown>>;
      expect(props("list_objects")).toMatchObject({
        prefix: { default: "" },
        recursive: { default: true },
        limit: { default: 200, minimum: 1, maximum: 1000 },
      });
      expect(props("get_object_bytes")).toMatchObject({
        encoding: { default: "auto", enum: ["auto", "utf8", "base64"] },
        max_bytes: { default: 64 * 1024, maximum: 4 * MIB },
      });
      expect(props("upload_bytes")).toMatchObject({ encoding: { default: "utf8", enum: ["utf8", "base64"] } });
      for (const name of ["upload_directory", "download_directory"]) {
        expect(props(name), name).toMatchObject({ max_workers: { default: 8, minimum: 1, maximum: 64 }, dry_run: { default: false } });
      }
      expect(props("delete_object")).toMatchObject({ missing_ok: { default: true } });
    });
  });
});
