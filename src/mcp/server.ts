/**
 * createServer: an McpServer with every tool registered over one guarded store. Registration only:
 * tools run in run-tool.ts, roots are tracked in roots.ts, resources live in resources.ts.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { RootsListChangedNotificationSchema } from "@modelcontextprotocol/sdk/types.js";
import * as z from "zod";
import { PACKAGE_NAME, PACKAGE_VERSION } from "../version.js";
import { Buckets, type ServedBucket } from "./buckets.js";
import type { ToolContext } from "./context.js";
import { instructionsFor } from "./instructions.js";
import { Jobs } from "./jobs.js";
import type { ServerLog } from "./log.js";
import { registerResources } from "./resources.js";
import { LocalRoots } from "./roots.js";
import { runTool } from "./run-tool.js";
import { annotationsOf, outputShape } from "./tool.js";
import { allTools } from "./tools/index.js";

export interface ServerOptions {
  /** Every bucket served, in order: the first is the default. */
  buckets: readonly ServedBucket[];
  /** Local roots (absolute paths). */
  roots: readonly string[];
  /** True when roots came from --root or R2_MCP_ROOTS (then client roots do not replace them). */
  rootsExplicit: boolean;
  logging: ServerLog;
  /** The background jobs (the process's, so its exit can stop them); a new registry when absent. */
  jobs?: Jobs;
}

export interface CreatedServer {
  server: McpServer;
  context: ToolContext;
  jobs: Jobs;
}

export function createServer(options: ServerOptions): CreatedServer {
  const { logging } = options;
  const buckets = new Buckets(options.buckets);
  const server = new McpServer(
    { name: PACKAGE_NAME, version: PACKAGE_VERSION },
    { capabilities: { logging: {} }, instructions: instructionsFor(buckets) },
  );
  logging.connect((params) => server.server.sendLoggingMessage(params));
  const directories = buckets.list.flatMap((b) => (b.store.capabilities.directory !== undefined ? [b.store.capabilities.directory] : []));
  const roots = new LocalRoots(
    options.roots,
    options.rootsExplicit,
    {
      clientHasRoots: () => server.server.getClientCapabilities()?.roots !== undefined,
      listClientRoots: () => server.server.listRoots(),
    },
    logging.log,
    directories,
  );
  server.server.setNotificationHandler(RootsListChangedNotificationSchema, async () => roots.changed());

  const jobs = options.jobs ?? new Jobs(logging.log);
  const context: ToolContext = { buckets, localRoots: () => roots.current(), log: logging.log, jobs };
  const remote = buckets.list.some((b) => b.store.capabilities.remote);
  for (const tool of allTools) {
    // Write tools stay while any bucket is writable; a write to a read-only one is access_denied.
    if (tool.changesBucket && !buckets.anyWritable) continue;
    if (tool.availableWith && !tool.availableWith(buckets.list.map((b) => b.store))) continue;
    server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        inputSchema: z.strictObject(tool.input),
        outputSchema: z.object(outputShape(tool)),
        annotations: annotationsOf(tool, remote),
      },
      (args: Record<string, unknown>, extra) => runTool(tool, args, context, extra),
    );
  }
  registerResources(server, context);
  return { server, context, jobs };
}
