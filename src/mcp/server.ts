/**
 * createServer: an McpServer with every tool registered over the configured buckets. Registration
 * only: tools run in run-tool.ts, roots are tracked in roots.ts, resources live in resources.ts.
 *
 * One server instance serves one connection in one protocol era (the SDK's serveStdio builds one per
 * connection from a factory, see cli.ts): "legacy" for 2025 clients that open with `initialize`,
 * "modern" for 2026-07-28 clients. Everything registered here is the same in both; what differs
 * (roots, where log messages go) is decided here from the era.
 */
import { McpServer } from "@modelcontextprotocol/server";
import { PACKAGE_NAME, PACKAGE_VERSION } from "../version.js";
import { advertisedOnly } from "./arguments.js";
import { Buckets, type ServedBucket } from "./buckets.js";
import { type ConfirmMode, confirmFor, createQuestionSeal } from "./confirm.js";
import type { ToolContext } from "./context.js";
import { iconsOf } from "./icons.js";
import { instructionsFor } from "./instructions.js";
import { Jobs } from "./jobs.js";
import { inputSchemaOf, listedConverter, listedKey, registeredOutput } from "./listed-schemas.js";
import type { ServerLog } from "./log.js";
import { toolExtraOf } from "./progress.js";
import { registerResources } from "./resources.js";
import { LocalRoots } from "./roots.js";
import { runTool } from "./run-tool.js";
import { annotationsOf } from "./tool.js";
import { allTools } from "./tools/index.js";

/** The protocol era of the connection a server instance serves (the SDK's names). */
export type ProtocolEra = "legacy" | "modern";

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
  /** Default "legacy" (what a server connected by hand to a transport speaks). */
  era?: ProtocolEra;
  /** --confirm: whether to ask the person before data is destroyed (default "auto"). */
  confirm?: ConfirmMode;
}

export interface CreatedServer {
  server: McpServer;
  context: ToolContext;
  jobs: Jobs;
}

export function createServer(options: ServerOptions): CreatedServer {
  const { logging } = options;
  const era = options.era ?? "legacy";
  const buckets = new Buckets(options.buckets);
  const seal = createQuestionSeal();
  const server = new McpServer(
    { name: PACKAGE_NAME, version: PACKAGE_VERSION },
    // A question's requestState is checked before the call runs again with its answer.
    {
      capabilities: { logging: {} },
      instructions: instructionsFor(buckets, { roots: options.roots, explicit: options.rootsExplicit }),
      requestState: { verify: seal.verify },
    },
  );
  const confirmSource = {
    mode: options.confirm ?? "auto",
    era,
    seal,
    sessionCapabilities: () => server.server.getClientCapabilities(),
  };
  if (era === "legacy") {
    // Nothing goes to a 2025 client before its handshake completes; after it, messages logged
    // outside a call go to the session too (filtered by its logging/setLevel).
    server.server.oninitialized = () => logging.connect((params) => server.server.sendLoggingMessage(params));
  }
  const directories = buckets.list.flatMap((b) => (b.store.capabilities.directory !== undefined ? [b.store.capabilities.directory] : []));
  const roots = new LocalRoots(
    options.roots,
    options.rootsExplicit,
    {
      // Roots are a 2025 feature (deprecated in 2026-07-28, where --root is the way).
      clientHasRoots: () => era === "legacy" && server.server.getClientCapabilities()?.roots !== undefined,
      listClientRoots: () => server.server.listRoots(),
    },
    logging.log,
    directories,
  );
  server.server.setNotificationHandler("notifications/roots/list_changed", async () => roots.changed());

  const jobs = options.jobs ?? new Jobs(logging.log);
  const context: ToolContext = { buckets, localRoots: () => roots.current(), log: logging.log, jobs };
  const remote = buckets.list.some((b) => b.store.capabilities.remote);
  for (const tool of allTools) {
    // Write tools stay while any bucket is writable; a write to a read-only one is access_denied.
    if (tool.changesBucket && !buckets.anyWritable) continue;
    if (tool.availableWith && !tool.availableWith(buckets.list.map((b) => b.store))) continue;
    const input = inputSchemaOf(tool);
    const registered = server.registerTool(
      tool.name,
      {
        title: tool.title,
        description: tool.description,
        // Advertised as is; checked by run-tool, so a failure is an invalid_argument result naming the argument.
        inputSchema: advertisedOnly(input, listedConverter(input, "input", listedKey(tool.name, "input", false))),
        outputSchema: registeredOutput(tool, buckets.size > 1),
        annotations: annotationsOf(tool, remote),
        icons: iconsOf(tool),
      },
      (args: unknown, ctx) =>
        runTool(
          tool,
          args,
          // What the tool logs rides this call's exchange (log.ts).
          { ...context, log: logging.forCall((params) => ctx.mcpReq.log(params.level, params.data, params.logger)) },
          toolExtraOf(ctx, confirmFor(confirmSource, ctx)),
        ),
    );
    // The SDK spells out the default (no task support) on every tool; tools/list is read by an
    // assistant at every start, so it carries only what informs.
    registered.execution = undefined;
  }
  registerResources(server, context);
  return { server, context, jobs };
}
