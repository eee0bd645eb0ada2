/**
 * createServer: an McpServer with every tool registered over one guarded store. Registration only:
 * tools run in run-tool.ts, roots are tracked in roots.ts, resources live in resources.ts.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { RootsListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import * as z from "zod";
import type { GuardedStore } from "../core/guarded-store.js";
import { PACKAGE_NAME, PACKAGE_VERSION } from "../version.js";
import type { ToolContext } from "./context.js";
import { instructionsFor } from "./instructions.js";
import type { ServerLog } from "./log.js";
import { registerResources } from "./resources.js";
import { LocalRoots } from "./roots.js";
import { runTool } from "./run-tool.js";
import { annotationsOf } from "./tool.js";
import { allTools } from "./tools/index.js";

export interface ServerOptions {
  store: GuardedStore;
  /** Local roots (absolute paths). */
  roots: readonly string[];
  /** True when roots came from --root or R2_MCP_ROOTS (then client roots do not replace them). */
  rootsExplicit: boolean;
  logging: ServerLog;
}

export interface CreatedServer {
  server: McpServer;
  context: ToolContext;
}

export function createServer(options: ServerOptions): CreatedServer {
  const { store, logging } = options;
  const server = new McpServer(
    { name: PACKAGE_NAME, version: PACKAGE_VERSION },
    { capabilities: { logging: {} }, instructions: instructionsFor(store) },
  );
  logging.connect((params) => server.server.sendLoggingMessage(params));
  const directory = store.capabilities.directory;
  const roots = new LocalRoots(
    options.roots,
    options.rootsExplicit,
    {
      clientHasRoots: () => server.server.getClientCapabilities()?.roots !== undefined,
      listClientRoots: () => server.server.listRoots(),
    },
    logging.log,
    directory !== undefined ? [directory] : [],
  );
  server.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => roots.changed());

  const context: ToolContext = { store, localRoots: () => roots.current(), log: logging.log };
  for (const tool of allTools) {
    if (tool.changesBucket && store.readOnly) continue;
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: z.strictObject(tool.input),
        outputSchema: z.object(tool.output),
        annotations: annotationsOf(tool, store.capabilities.remote),
      },
      (args: Record<string, unknown>, extra) => runTool(tool, args, context, extra),
    );
  }
  registerResources(server, context);
  return { server, context };
}
