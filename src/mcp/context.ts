/**
 * What every tool handler gets: the store, the policy (read-only, allowed prefixes), the local
 * roots in force, and a logger.
 */
import { q, StorageError } from "../core/errors.js";
import { validateKey } from "../core/keys.js";
import { type Roots, rootsExcluding } from "../core/local-fs.js";
import type { ObjectStore } from "../core/store.js";
import type { Logger } from "./log.js";

export interface ToolContext {
  store: ObjectStore;
  readOnly: boolean;
  allowPrefixes: readonly string[];
  /** Real paths of the local roots in force for this call. */
  roots(): Promise<string[]>;
  log: Logger;
}

/**
 * The roots a tool's local paths must resolve inside. The local store's own directory is never a
 * local path, even inside a root: writing files there would create objects behind --read-only and
 * --allow-prefix, and reading them would copy keys the server does not allow.
 */
export async function localRoots(ctx: ToolContext): Promise<Roots> {
  const roots = await ctx.roots();
  const dir = ctx.store.capabilities.directory;
  return dir !== undefined ? rootsExcluding(roots, [dir]) : roots;
}

function allowed(ctx: ToolContext, value: string): boolean {
  return ctx.allowPrefixes.length === 0 || ctx.allowPrefixes.some((p) => value.startsWith(p));
}

function refuse(ctx: ToolContext, argument: string, value: string): StorageError {
  return new StorageError(
    "outside_allowed_prefix",
    `${argument} ${q(value)} is outside the prefixes this server allows (${ctx.allowPrefixes.map(q).join(", ")}); use a key under one of them`,
    { key: value },
  );
}

/**
 * Under an allow-list, "." and ".." segments are refused: S3 keeps "allowed/../secret" as a key of
 * its own, but a server, gateway or proxy that normalizes URL paths (RFC 3986 dot-segment removal,
 * as WHATWG URL parsing does) would turn it into "secret", outside every allowed prefix.
 */
function assertNoDotSegments(ctx: ToolContext, argument: string, value: string): void {
  if (ctx.allowPrefixes.length === 0) return;
  if (value.split("/").some((segment) => segment === "." || segment === "..")) {
    throw new StorageError(
      "outside_allowed_prefix",
      `${argument} ${q(value)} has a "." or ".." segment, which a server or proxy that normalizes paths could resolve outside the allowed prefixes (${ctx.allowPrefixes.map(q).join(", ")}); use a plain key`,
      { key: value },
    );
  }
}

/** A valid key under an allowed prefix. */
export function checkKey(ctx: ToolContext, key: string, argument = "key"): string {
  validateKey(key, argument);
  if (!allowed(ctx, key)) throw refuse(ctx, argument, key);
  assertNoDotSegments(ctx, argument, key);
  return key;
}

/** A prefix to list or transfer: it must itself lie under an allowed prefix. */
export function checkPrefix(ctx: ToolContext, prefix: string, argument = "prefix"): string {
  if (prefix !== "") validateKey(prefix, argument);
  if (!allowed(ctx, prefix)) throw refuse(ctx, argument, prefix);
  assertNoDotSegments(ctx, argument, prefix);
  return prefix;
}
