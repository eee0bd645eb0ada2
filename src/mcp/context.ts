/**
 * What every tool handler gets: the store, the policy (read-only, allowed prefixes), the local
 * roots in force, and a logger.
 */
import { StorageError, q } from "../core/errors.js";
import { validateKey } from "../core/keys.js";
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

/** A valid key under an allowed prefix. */
export function checkKey(ctx: ToolContext, key: string, argument = "key"): string {
  validateKey(key, argument);
  if (!allowed(ctx, key)) throw refuse(ctx, argument, key);
  return key;
}

/** A prefix to list or transfer: it must itself lie under an allowed prefix. */
export function checkPrefix(ctx: ToolContext, prefix: string, argument = "prefix"): string {
  if (prefix !== "") validateKey(prefix, argument);
  if (!allowed(ctx, prefix)) throw refuse(ctx, argument, prefix);
  return prefix;
}
