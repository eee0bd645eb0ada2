/**
 * Deciding what a directory transfer copies, the same way in both directions: every destination is
 * looked at before the first byte is written, identical ones are skipped, and ones with other
 * content are conflicts unless the caller asked to overwrite.
 */
import { q, StorageError } from "../errors.js";

/** How many planned destinations and conflict details a result carries (the counts stay complete). */
export const LISTED = 50;

/** One side of a conflict: what is there, so a person can tell which copy is newer. */
export interface ConflictSide {
  size: number;
  /** The local file's mtime, or the object's Last-Modified. */
  modified: Date;
  /** Objects only. */
  etag?: string;
}

/** An object as one side of a conflict. */
export function objectSide(object: { size: number; lastModified: Date; etag: string }): ConflictSide {
  return { size: object.size, modified: object.lastModified, etag: object.etag };
}

/** A destination that exists with other content, with both sides described. */
export interface ConflictDetail {
  /** The key (upload, copy) or local path (download) that would be written. */
  destination: string;
  /** Where its bytes would come from: the local path (upload) or the key (download, copy). */
  from: string;
  /** What would be written. */
  source: ConflictSide;
  /** What is there now; absent when it could not be read (it vanished, or is not a regular file). */
  existing?: ConflictSide;
}

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
  /** Both sides of the first LISTED conflicts. */
  conflictDetails: ConflictDetail[];
  /** Destinations a dry run would write, the first LISTED in order. */
  wouldWrite: string[];
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
  /** Both sides of a conflict, asked for the first LISTED conflicts only. */
  detail?: (item: T, at: Existing<F>) => ConflictDetail | Promise<ConflictDetail>;
}

export interface Plan<T> {
  todo: T[];
  /** The destinations of `todo`, the first LISTED. */
  wouldWrite: string[];
  skipped: string[];
  conflicts: string[];
  conflictDetails: ConflictDetail[];
  plannedBytes: number;
}

/** Sorts every item into todo, skipped or conflicts, one at a time in the order given. */
export async function planTransfer<T, F>(items: readonly T[], options: PlanOptions<T, F>): Promise<Plan<T>> {
  const plan: Plan<T> = { todo: [], wouldWrite: [], skipped: [], conflicts: [], conflictDetails: [], plannedBytes: 0 };
  for (const item of items) {
    const at = await options.lookup(item);
    let decision = decide(at.state, options);
    if (decision === "compare" && at.state === "file") decision = decide(at.state, options, await options.identical(item, at.found));
    if (decision === "todo") {
      plan.todo.push(item);
      if (plan.wouldWrite.length < LISTED) plan.wouldWrite.push(options.destination(item));
      plan.plannedBytes += options.size(item);
    } else if (decision === "skipped") {
      plan.skipped.push(options.destination(item));
    } else {
      plan.conflicts.push(options.destination(item));
      if (options.detail && plan.conflictDetails.length < LISTED) plan.conflictDetails.push(await options.detail(item, at));
    }
  }
  return plan;
}

/** What a dry run answers, or (given the run's outcome) what a real run does. */
export function transferResult(plan: Plan<unknown>, run?: { items: string[]; bytes: number }): DirectoryTransferResult {
  const base = {
    skipped: plan.skipped,
    conflicts: plan.conflicts,
    conflictDetails: plan.conflictDetails,
    wouldWrite: plan.wouldWrite,
    planned: plan.todo.length,
    plannedBytes: plan.plannedBytes,
  };
  if (!run) return { transferred: 0, bytes: 0, items: [], ...base, dryRun: true };
  return { transferred: run.items.length, bytes: run.bytes, items: run.items, ...base, dryRun: false };
}

/**
 * A real run with conflicts writes nothing: the caller decides with the whole list in hand, and
 * both sides of the first LISTED. `what` is the plural noun ("local files", "destination keys").
 */
export function conflictError(conflicts: string[], what: string, conflictDetails: ConflictDetail[] = []): StorageError {
  const one = conflicts.length === 1;
  const noun = one ? what.replace(/s$/, "") : what;
  const sides = conflictDetails.slice(0, SIDES_IN_MESSAGE).map(describeConflict);
  const more = conflictDetails.length > SIDES_IN_MESSAGE ? `; and ${conflictDetails.length - SIDES_IN_MESSAGE} more` : "";
  const both = sides.length > 0 ? `. Both sides: ${sides.join("; ")}${more}` : "";
  return new StorageError(
    "already_exists",
    `${conflicts.length} ${noun} already ${one ? "exists" : "exist"} with other content: ${listing(conflicts)}; nothing was written. Pass overwrite: true to replace ${one ? "it" : "them"}${both}`,
    { details: { conflicts, conflictDetails } },
  );
}

/** How many conflicts a refusal's message describes side by side (the structured details hold LISTED). */
const SIDES_IN_MESSAGE = 10;

function describeSide(side: ConflictSide): string {
  return `${side.size} bytes, modified ${side.modified.toISOString()}${side.etag ? `, etag ${side.etag}` : ""}`;
}

function describeConflict(d: ConflictDetail): string {
  const existing = d.existing ? describeSide(d.existing) : "not a regular file";
  return `${q(d.destination)} from ${q(d.from)}: new ${describeSide(d.source)}; existing ${existing}`;
}

/** The first `max` items quoted, and how many more: for messages that refuse a whole plan. */
export function listing(items: string[], max = 20): string {
  const shown = items.slice(0, max).map(q).join(", ");
  return items.length > max ? `${shown} and ${items.length - max} more` : shown;
}
