/**
 * Which local roots are in force. Client roots (MCP roots/list) replace the default (the working
 * directory), never roots set with --root or R2_MCP_ROOTS: a client cannot widen what the person who
 * started the server allowed. They are fetched once and refreshed when the client says they
 * changed. A client that offers roots but lists none, or whose answer fails or holds anything but
 * file:// URIs, gets no local access (fail closed).
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
  private fromClient: Promise<{ roots: string[]; failed: boolean }> | undefined;

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
      const asked = this.fromClient;
      const answer = await asked;
      // A failed answer is asked again on the next call (the client may recover); until then, no roots.
      if (answer.failed && this.fromClient === asked) this.fromClient = undefined;
      roots = answer.roots;
    }
    return this.excluded.length > 0 ? rootsExcluding(roots, this.excluded) : roots;
  }

  /** The client said its roots changed: ask again on the next call. */
  changed(): void {
    this.fromClient = undefined;
  }

  /**
   * The client's roots as real paths. Fails closed: an error, or any entry that is not a file://
   * URI of a local path, gives no roots at all (never the working directory, which under a host
   * that starts servers in / would be the whole filesystem).
   */
  private async fetch(): Promise<{ roots: string[]; failed: boolean }> {
    try {
      const { roots: listed } = await this.source.listClientRoots();
      if (!Array.isArray(listed)) throw new Error("roots/list answered without a roots array");
      const paths: string[] = [];
      for (const root of listed as unknown[]) {
        const uri = (root as { uri?: unknown } | null)?.uri;
        if (typeof uri !== "string" || !uri.startsWith("file://")) {
          throw new Error(`a client root is not a file:// URI: ${JSON.stringify(uri ?? root)}`);
        }
        paths.push(fileURLToPath(uri));
      }
      return { roots: await realRoots(paths), failed: false };
    } catch (err) {
      this.log("warning", "could not read the client's roots; no local path is allowed until they can be read", {
        error: String(err),
      });
      return { roots: [], failed: true };
    }
  }
}
