/**
 * The second step of `npm run build`: dist/cli.js as a bundle, because the server's cold start is
 * mostly module loading. tsc has written dist/ (the library, with its declarations, and dist/cli.js,
 * which this replaces); esbuild then writes dist/cli.js with the MCP SDK, zod and r2-mcp's own
 * modules in a few files instead of some three hundred. What cli.js imports lazily stays lazy: each
 * dynamic import (the server, the local store, the S3 store) is a chunk of its own in dist/cli/,
 * loaded when the CLI reaches it. The AWS SDK is not bundled: it stays in node_modules, loaded on
 * the first request to a bucket (core/s3/deferred.ts), exactly as the library loads it.
 *
 *   tsx scripts/build-cli.ts
 */
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build, type Plugin } from "esbuild";
import { inputSchemaOf, listedJson, listedKey, outputSchemaOf } from "../src/mcp/listed-schemas.js";
import { allTools } from "../src/mcp/tools/index.js";
import { withFastChecks } from "./fast-jsonrpc-checks.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));
const DIST = path.join(REPO, "dist");
export const CHUNKS_DIR = "cli";

/**
 * src/version.ts reads ../package.json next to the module; a chunk in dist/cli/ is one level
 * deeper, so the bundle carries the name and version read here instead.
 */
function packageVersion(): Plugin {
  const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { name: string; version: string };
  return {
    name: "package-version",
    setup(b) {
      b.onLoad({ filter: /[\\/]src[\\/]version\.ts$/ }, () => ({
        contents: `export const PACKAGE_NAME = ${JSON.stringify(pkg.name)};\nexport const PACKAGE_VERSION = ${JSON.stringify(pkg.version)};\n`,
        loader: "ts",
      }));
    },
  };
}

/**
 * Every tool's JSON Schemas as tools/list reports them (input; output with one bucket and with
 * several), converted here once instead of by each server start (see src/mcp/listed-schemas.ts).
 */
/** The MCP SDK's JSON-RPC predicates with a key test in front of each parse (see fast-jsonrpc-checks.ts). */
function fastJsonRpcChecks(): Plugin {
  return {
    name: "fast-jsonrpc-checks",
    setup(b) {
      let patched = 0;
      b.onLoad({ filter: /[\\/]@modelcontextprotocol[\\/]server[\\/]dist[\\/][^\\/]+\.mjs$/ }, (args) => {
        const source = readFileSync(args.path, "utf8");
        if (!source.includes("const isJSONRPCRequest = ")) return undefined;
        patched++;
        return { contents: withFastChecks(source), loader: "js", resolveDir: path.dirname(args.path) };
      });
      b.onEnd((result) => {
        if (result.errors.length === 0 && patched !== 1)
          throw new Error(
            `the MCP SDK's JSON-RPC predicates were found in ${patched} modules, not one: update scripts/fast-jsonrpc-checks.ts`,
          );
      });
    },
  };
}

export function listedSchemas(): Record<string, string> {
  const table: Record<string, string> = {};
  for (const tool of allTools) {
    table[listedKey(tool.name, "input", false)] = listedJson(inputSchemaOf(tool), "input");
    for (const several of [false, true])
      table[listedKey(tool.name, "output", several)] = listedJson(outputSchemaOf(tool, several), "output");
  }
  return table;
}

export async function buildCli(): Promise<void> {
  // Chunk names carry a content hash: the previous build's chunks go first.
  rmSync(path.join(DIST, CHUNKS_DIR), { recursive: true, force: true });
  await build({
    entryPoints: { cli: path.join(REPO, "src", "cli.ts") },
    outdir: DIST,
    chunkNames: `${CHUNKS_DIR}/[name]-[hash]`,
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    target: "node20",
    // Loaded from node_modules at run time, on a bucket's first request.
    external: ["@aws-sdk/*", "@smithy/*"],
    // Without comments and indentation the source V8 must scan at start-up is a third smaller, and
    // pure ASCII (a comment's "—" makes a whole file a two-byte string). Names stay readable.
    minifyWhitespace: true,
    legalComments: "none",
    sourcemap: "linked",
    sourcesContent: false,
    // The SDK's default JSON Schema validator (AJV) loads on its first use, not at start-up.
    alias: { "@modelcontextprotocol/server/_shims": path.join(REPO, "src", "mcp", "sdk-shims.ts") },
    plugins: [packageVersion(), fastJsonRpcChecks()],
    define: { R2MCP_LISTED_SCHEMAS: JSON.stringify(listedSchemas()) },
    logLevel: "warning",
  });
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildCli().catch((err: unknown) => {
    process.stderr.write(`build-cli: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
