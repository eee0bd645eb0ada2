/**
 * What every tool handler gets: the buckets (each a guarded store: read-only, allowed prefixes and
 * key checks live there), the local roots in force for this call, and a logger.
 */
import type { Roots } from "../core/fs/roots.js";
import type { Buckets } from "./buckets.js";
import type { Jobs } from "./jobs.js";
import type { Logger } from "./log.js";

export interface ToolContext {
  buckets: Buckets;
  /**
   * The real paths a tool's local paths must resolve inside. A local store's own directory (its
   * files are its objects) is never a local path, even inside a root: writing there would create
   * objects behind --read-only and --allow-prefix.
   */
  localRoots(): Promise<Roots>;
  log: Logger;
  /** Background transfers of this server process. */
  jobs: Jobs;
}
