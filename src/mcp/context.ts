/**
 * What every tool handler gets: the guarded store (read-only, allowed prefixes and key checks live
 * there), the local roots in force for this call, and a logger.
 */

import type { Roots } from "../core/fs/roots.js";
import type { GuardedStore } from "../core/guarded-store.js";
import type { Logger } from "./log.js";

export interface ToolContext {
  store: GuardedStore;
  /**
   * The real paths a tool's local paths must resolve inside. A store's own directory (the local
   * store's files are its objects) is never a local path, even inside a root: writing there would
   * create objects behind --read-only and --allow-prefix.
   */
  localRoots(): Promise<Roots>;
  log: Logger;
}
