/**
 * schemas/ must hold exactly what `npm run schemas` generates from the tools (as tools/list
 * reports them): no file changed, missing or extra.
 */
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { generateSchemas, SCHEMAS_DIR } from "../../scripts/gen-schemas.js";
import { SPEC_TOOLS } from "../helpers/spec.js";

const HINT = "schemas/ is out of date: run npm run schemas";

describe("schemas/", () => {
  it("matches the generated schemas exactly", async () => {
    const expected = await generateSchemas();
    const present = (await readdir(SCHEMAS_DIR).catch(() => [] as string[])).sort();

    const missing = [...expected.keys()].filter((name) => !present.includes(name));
    const extra = present.filter((name) => !expected.has(name));
    expect(missing, `${HINT} (missing files)`).toEqual([]);
    expect(extra, `${HINT} (files it would not generate)`).toEqual([]);
    for (const [name, content] of expected) {
      const actual = await readFile(path.join(SCHEMAS_DIR, name), "utf8");
      expect(actual, `${HINT} (${name} differs)`).toBe(content);
    }
  });

  it("covers the input and output of every tool of SPEC.md", async () => {
    const names = [...(await generateSchemas()).keys()];
    const tools = SPEC_TOOLS;
    for (const tool of tools) expect(names).toEqual(expect.arrayContaining([`${tool}.input.json`, `${tool}.output.json`]));
    expect(names.filter((n) => n.endsWith(".input.json")).length).toBe(names.filter((n) => n.endsWith(".output.json")).length);
    expect(names).toContain("README.md");
  });
});
