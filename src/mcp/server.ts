/**
 * createServer(config, store): an McpServer with every tool of SPEC.md registered over one store.
 */
import { fileURLToPath } from "node:url";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { RootsListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import * as z from "zod";
import type { Config } from "../config.js";
import { realRoots } from "../core/local-fs.js";
import type { ObjectStore } from "../core/store.js";
import { PACKAGE_NAME, PACKAGE_VERSION } from "../version.js";
import type { ToolContext } from "./context.js";
import { createLogger } from "./log.js";
import { registerResources } from "./resources.js";
import { fail } from "./results.js";
import { allTools } from "./tools/index.js";

export const INSTRUCTIONS = `r2-mcp moves data between this machine and an object store (Cloudflare R2 or any S3-compatible bucket, or a local directory store).
- Nothing is ever overwritten silently: every write (upload_*, download_*) takes overwrite, default false; an existing destination is an already_exists error and nothing changes. Only pass overwrite: true when the user asked to replace data.
- To look at an object, check its size first (head_object or list_objects). get_object_bytes returns at most max_bytes (64 KiB by default): read large objects in ranges (offset/length) or save them with download_file instead of pulling them into the conversation.
- list_objects returns one page; pass next_cursor to continue. recursive=false shows one level, like folders.
- Directory transfers check every destination before writing; repeating an interrupted call finishes it (identical files are skipped). Use dry_run to preview.
- Errors start with a stable code (already_exists, not_found, too_large, outside_roots, ...) followed by what to do next.`;

function instructionsFor(config: ServerConfig): string {
  const lines = [INSTRUCTIONS];
  if (config.readOnly) lines.push("- This server is read-only: it offers no tool that changes the bucket.");
  if (config.allowPrefixes.length > 0) {
    lines.push(`- Only keys under these prefixes may be used: ${config.allowPrefixes.map((p) => JSON.stringify(p)).join(", ")}.`);
  }
  return lines.join("\n");
}

export type ServerConfig = Pick<Config, "readOnly" | "allowPrefixes" | "roots" | "rootsExplicit" | "logLevel">;

export interface CreatedServer {
  server: McpServer;
  context: ToolContext;
}

export function createServer(config: ServerConfig, store: ObjectStore): CreatedServer {
  const server = new McpServer(
    { name: PACKAGE_NAME, version: PACKAGE_VERSION },
    { capabilities: { logging: {} }, instructions: instructionsFor(config) },
  );
  const log = createLogger(config.logLevel, (params) => server.server.sendLoggingMessage(params));

  // Client roots replace the default (the working directory), never roots set with --root or
  // R2_MCP_ROOTS: a client cannot widen what the person who started the server allowed. They are
  // fetched once and refreshed when the client says they changed. A client that offers roots
  // but lists none gets no local access.
  let clientRoots: Promise<string[] | undefined> | undefined;
  const configured = realRoots(config.roots);
  async function fetchClientRoots(): Promise<string[] | undefined> {
    try {
      const { roots: listed } = await server.server.listRoots();
      const paths: string[] = [];
      for (const root of listed) {
        try {
          if (root.uri.startsWith("file://")) paths.push(fileURLToPath(root.uri));
        } catch {
          log("warning", "ignoring a client root that is not a local file URI", { uri: root.uri });
        }
      }
      return realRoots(paths);
    } catch (err) {
      log("warning", "could not read the client's roots; using the working directory", { error: String(err) });
      return undefined;
    }
  }
  async function roots(): Promise<string[]> {
    if (!config.rootsExplicit && server.server.getClientCapabilities()?.roots) {
      clientRoots ??= fetchClientRoots();
      const fromClient = await clientRoots;
      if (fromClient) return fromClient;
    }
    return configured;
  }
  server.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    clientRoots = undefined;
  });

  const context: ToolContext = { store, readOnly: config.readOnly, allowPrefixes: config.allowPrefixes, roots, log };
  for (const tool of allTools) {
    if (tool.changesBucket && config.readOnly) continue;
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: z.strictObject(tool.input),
        outputSchema: z.object(tool.output),
        annotations: { title: tool.title, ...tool.annotations, openWorldHint: store.capabilities.remote },
      },
      async (args: Record<string, unknown>, extra) => {
        try {
          return await tool.handle(args, context, extra);
        } catch (err) {
          return fail(err);
        }
      },
    );
  }
  registerResources(server, context);
  return { server, context };
}
