/**
 * Which local roots are in force. Client roots (MCP roots/list) replace the default (the working
 * directory), never roots set with --root or R2_MCP_ROOTS: a client cannot widen what the person who
 * started the server allowed. They are fetched once and refreshed when the client says they
 * changed. A client that offers roots but lists none gets no local access.
 */
import { fileURLToPath } from "node:url";
import { type Roots, realRoots, rootsExcluding } from "../core/fs/roots.js";
import type { Logger } from "./log.js";

export interface RootsSource {
  /** Whether the connected client declared the roots capability. */
  clientHasRoots(): boolean;
  /** The client's roots/list answer. */
  listClientRoots(): Promise<{ roots: { uri: string }[] }>;
}

export class LocalRoots {
  private readonly configured: Promise<string[]>;
  private fromClient: Promise<string[] | undefined> | undefined;

  constructor(
    roots: readonly string[],
    private readonly explicit: boolean,
    private readonly source: RootsSource,
    private readonly log: Logger,
    /** Real paths no local path may reach (the local store's directory). */
    private readonly excluded: readonly string[] = [],
  ) {
    this.configured = realRoots(roots);
  }

  /** The roots for the next call. */
  async current(): Promise<Roots> {
    let roots = await this.configured;
    if (!this.explicit && this.source.clientHasRoots()) {
      this.fromClient ??= this.fetch();
      roots = (await this.fromClient) ?? roots;
    }
    return this.excluded.length > 0 ? rootsExcluding(roots, this.excluded) : roots;
  }

  /** The client said its roots changed: ask again on the next call. */
  changed(): void {
    this.fromClient = undefined;
  }

  private async fetch(): Promise<string[] | undefined> {
    try {
      const { roots: listed } = await this.source.listClientRoots();
      const paths: string[] = [];
      for (const root of listed) {
        try {
          if (root.uri.startsWith("file://")) paths.push(fileURLToPath(root.uri));
        } catch {
          this.log("warning", "ignoring a client root that is not a local file URI", { uri: root.uri });
        }
      }
      return realRoots(paths);
    } catch (err) {
      this.log("warning", "could not read the client's roots; using the working directory", { error: String(err) });
      return undefined;
    }
  }
}
