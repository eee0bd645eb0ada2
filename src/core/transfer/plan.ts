/**
 * Deciding what a directory transfer copies, the same way in both directions: every destination is
 * looked at before the first byte is written, identical ones are skipped, and ones with other
 * content are conflicts unless the caller asked to overwrite.
 */
import { q, StorageError } from "../errors.js";

export interface DirectoryTransferResult {
  /** Objects or files written by this call. */
  transferred: number;
  bytes: number;
  /** Keys (upload) or local paths (download) written, in order of completion. */
  items: string[];
  /** Destinations that already held identical bytes and were left as they were. */
  skipped: string[];
  /** Destinations that exist with other content (only reported by a dry run; a real run fails). */
  conflicts: string[];
  /** What a dry run would write. */
  planned: number;
  plannedBytes: number;
  dryRun: boolean;
  /** Downloads: files written whose bytes could not be checked against their object's ETag, and why. */
  unverified?: { path: string; reason: string }[];
}

/** What is at a destination: nothing, a regular file (or an object), or anything else. */
export type Existing<F> = { state: "absent" } | { state: "file"; found: F } | { state: "other" };

export interface PlanRule {
  overwrite: boolean;
  /**
   * Whether an identical destination is skipped when overwriting too. Downloads compare; uploads
   * with overwrite replace every object without reading the local files first.
   */
  compareWhenOverwriting: boolean;
}

export type Decision = "todo" | "skipped" | "conflict";

/**
 * What to do with one item given what is at its destination. "compare" means the answer depends
 * on whether the bytes are identical: find out, and ask again passing `identical`.
 */
export function decide(at: Existing<unknown>["state"], rule: PlanRule, identical?: boolean): Decision | "compare" {
  if (at === "absent") return "todo";
  // A folder, symlink or device is never replaced, overwrite or not.
  if (at === "other") return "conflict";
  if (rule.overwrite && !rule.compareWhenOverwriting) return "todo";
  if (identical === undefined) return "compare";
  if (identical) return "skipped";
  return rule.overwrite ? "todo" : "conflict";
}

export interface PlanOptions<T, F> extends PlanRule {
  /** The key (upload) or local path (download) the item is written to; what the result lists. */
  destination: (item: T) => string;
  size: (item: T) => number;
  lookup: (item: T) => Existing<F> | Promise<Existing<F>>;
  /** Whether what is at the destination already holds the item's bytes (sameBytes). */
  identical: (item: T, found: F) => Promise<boolean>;
}

export interface Plan<T> {
  todo: T[];
  skipped: string[];
  conflicts: string[];
  plannedBytes: number;
}

/** Sorts every item into todo, skipped or conflicts, one at a time in the order given. */
export async function planTransfer<T, F>(items: readonly T[], options: PlanOptions<T, F>): Promise<Plan<T>> {
  const plan: Plan<T> = { todo: [], skipped: [], conflicts: [], plannedBytes: 0 };
  for (const item of items) {
    const at = await options.lookup(item);
    let decision = decide(at.state, options);
    if (decision === "compare" && at.state === "file") decision = decide(at.state, options, await options.identical(item, at.found));
    if (decision === "todo") {
      plan.todo.push(item);
      plan.plannedBytes += options.size(item);
    } else if (decision === "skipped") {
      plan.skipped.push(options.destination(item));
    } else {
      plan.conflicts.push(options.destination(item));
    }
  }
  return plan;
}

/** What a dry run answers, or (given the run's outcome) what a real run does. */
export function transferResult(plan: Plan<unknown>, run?: { items: string[]; bytes: number }): DirectoryTransferResult {
  const base = { skipped: plan.skipped, conflicts: plan.conflicts, planned: plan.todo.length, plannedBytes: plan.plannedBytes };
  if (!run) return { transferred: 0, bytes: 0, items: [], ...base, dryRun: true };
  return { transferred: run.items.length, bytes: run.bytes, items: run.items, ...base, dryRun: false };
}

/** A real run with conflicts writes nothing: the caller decides with the whole list in hand. */
export function conflictError(conflicts: string[], what: string): StorageError {
  return new StorageError(
    "already_exists",
    `${conflicts.length} ${what} already exist with other content: ${listing(conflicts)}; nothing was written. Pass overwrite: true to replace them`,
    { details: { conflicts } },
  );
}

/** The first `max` items quoted, and how many more: for messages that refuse a whole plan. */
export function listing(items: string[], max = 20): string {
  const shown = items.slice(0, max).map(q).join(", ");
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
