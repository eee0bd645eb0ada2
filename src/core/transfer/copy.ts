/**
 * Copying (or moving) one object or every object under a prefix, within a bucket or between two:
 * planned in full before anything is written, like a directory transfer (the same planner), then
 * run server-side where the two stores share a location domain and streamed through otherwise.
 */
import pMap from "p-map";
import { changedSince, q, StorageError, throwIfAborted } from "../errors.js";
import { isPlainMd5, StreamDigest } from "../etag.js";
import { directoryPrefix } from "../keys.js";
import { type CopyResult, copiesServerSide, type ObjectInfo, type ObjectStore, type PutMode, sameContainer } from "../store.js";
import { listAll } from "../store-ext.js";
import { conflictError, type DirectoryTransferResult, type Existing, listing, objectSide, planTransfer, transferResult } from "./plan.js";
import { answered, checkMaxWorkers, type PreparedTransfer, ProgressTracker, runPlan, runPrepared, type TransferProgress } from "./run.js";

export interface CopyObjectsOptions {
  /** false: `source` and `destination` are keys. true: prefixes (a "/" is added), structure kept. */
  recursive?: boolean;
  overwrite?: boolean;
  /** Delete each source once its copy is confirmed (same size, and the source version's ETag). */
  move?: boolean;
  dryRun?: boolean;
  maxWorkers?: number;
  signal?: AbortSignal;
  onProgress?: (progress: TransferProgress) => void;
  /**
   * Called once the plan is known and before anything is written, when the call would destroy data:
   * destinations an overwrite replaces, sources a move deletes (not for a dry run). It may throw to
   * stop the call (the server asks the person here: --confirm).
   */
  beforeDestroy?: (loss: { replaced: ObjectInfo[]; moved: ObjectInfo[] }) => Promise<void>;
}

export interface CopyObjectsResult extends DirectoryTransferResult {
  /** Sources deleted by a move (copied ones, and ones whose destination was already identical). */
  moved: string[];
  /**
   * Sources a move left alone because they changed (or went) after the version copied was read:
   * each is deleted only while it is still that version (S3: DeleteObject with If-Match).
   */
  sourceChanged: string[];
  /** Whether the bytes stayed on the server (one endpoint and credentials) or streamed through. */
  serverSide: boolean;
}

interface PlannedCopy {
  sourceKey: string;
  key: string;
  object: ObjectInfo;
}

export async function copyObjects(
  source: ObjectStore,
  from: string,
  destination: ObjectStore,
  to: string,
  options: CopyObjectsOptions = {},
): Promise<CopyObjectsResult> {
  return runPrepared(await prepareCopyObjects(source, from, destination, to, options), options);
}

/**
 * Everything of copyObjects before the first object is written: the arguments and both sides'
 * policy checked, the sources listed, every destination looked up, a dry run answered and
 * conflicts refused. `options.signal` covers this part; the run takes its own (a background job's).
 */
export async function prepareCopyObjects(
  source: ObjectStore,
  from: string,
  destination: ObjectStore,
  to: string,
  options: CopyObjectsOptions = {},
): Promise<PreparedTransfer<CopyObjectsResult>> {
  const workers = checkMaxWorkers(options.maxWorkers);
  const overwrite = options.overwrite ?? false;
  const { items, existing } = options.recursive
    ? await prefixCopies(source, from, destination, to, options.signal)
    : await keyCopy(source, from, destination, to);
  vet(source, destination, items);

  const plan = await planTransfer(items, {
    overwrite,
    // Comparing costs nothing here (sizes and ETags from listings), so identical is skipped either way.
    compareWhenOverwriting: true,
    destination: (c) => c.key,
    size: (c) => c.object.size,
    lookup: (c): Existing<ObjectInfo> => {
      const found = existing.get(c.key);
      return found ? { state: "file", found } : { state: "absent" };
    },
    identical: async (c, found) => found.size === c.object.size && found.etag === c.object.etag,
    detail: (c, at) => ({
      destination: c.key,
      from: c.sourceKey,
      source: objectSide(c.object),
      ...(at.state === "file" ? { existing: objectSide(at.found) } : {}),
    }),
  });
  const serverSide = copiesServerSide(source, destination);
  if (options.dryRun) return answered({ ...transferResult(plan), moved: [], sourceChanged: [], serverSide });
  if (plan.conflicts.length > 0) throw conflictError(plan.conflicts, "destination keys", plan.conflictDetails);
  if (options.beforeDestroy) {
    const replaced = plan.todo.flatMap((c) => existing.get(c.key) ?? []);
    const todo = new Set(plan.todo.map((c) => c.key));
    const skipped = new Set(plan.skipped);
    const moved = options.move ? items.filter((c) => todo.has(c.key) || skipped.has(c.key)).map((c) => c.object) : [];
    if (replaced.length > 0 || moved.length > 0) await options.beforeDestroy({ replaced, moved });
  }

  const mode: PutMode = overwrite ? "overwrite" : "create";
  return {
    bytesTotal: plan.plannedBytes,
    filesTotal: plan.todo.length,
    async run({ signal, onProgress } = {}) {
      const progress = new ProgressTracker(plan.plannedBytes, plan.todo.length, onProgress);
      const moved: string[] = [];
      const sourceChanged: string[] = [];
      // Only the version copied goes: a source rewritten since is kept, and reported.
      const removeSource = async (c: PlannedCopy): Promise<void> => {
        const gone = await source.delete(c.sourceKey, { ifMatch: c.object.etag });
        if (gone.existed && !gone.kept) moved.push(c.sourceKey);
        else sourceChanged.push(c.sourceKey);
      };
      const copyOne = async (c: PlannedCopy): Promise<number> => {
        const common = {
          mode,
          existing: existing.get(c.key) ?? null,
          ...(signal ? { signal } : {}),
          onBytes: (b: number) => progress.bytes(c.key, b),
        };
        const out = serverSide
          ? await destination.copy(source.copySource(c.sourceKey), c.key, { ...common, expect: c.object })
          : await streamCopy(source, destination, c, common);
        progress.fileDone(c.key, out.size);
        if (options.move) {
          if (out.size !== c.object.size || out.sourceEtag !== c.object.etag) {
            throw new StorageError(
              "unavailable",
              `the copy of ${q(c.sourceKey)} at ${q(c.key)} could not be confirmed (size ${out.size} of ${c.object.size}, source ETag ${out.sourceEtag || "unknown"} for ${c.object.etag}); the source was left where it was`,
              { key: c.sourceKey },
            );
          }
          await removeSource(c);
        }
        return out.size;
      };

      let run: { items: string[]; bytes: number };
      try {
        run = await runPlan(plan.todo, (c) => c.key, copyOne, workers, signal);
        // A move repeated after an interruption finds some copies already in place (identical, so
        // confirmed by size and ETag): their sources go too, which finishes the move.
        if (options.move && plan.skipped.length > 0) {
          const skipped = new Set(plan.skipped);
          const done = items.filter((c) => skipped.has(c.key));
          await pMap(
            done,
            async (c) => {
              throwIfAborted(signal);
              await removeSource(c);
            },
            { concurrency: workers, stopOnError: true },
          );
        }
      } catch (err) {
        if (err instanceof StorageError) {
          throw new StorageError(err.kind, err.message, {
            ...(err.key !== undefined ? { key: err.key } : {}),
            cause: err.cause ?? err,
            details: { ...err.details, moved, sourceChanged },
          });
        }
        throw err;
      }
      return { ...transferResult(plan, run), moved, sourceChanged, serverSide };
    },
  };
}

/** One key to one key. */
async function keyCopy(source: ObjectStore, from: string, destination: ObjectStore, to: string) {
  // Each side's own checks (policy included) name the argument, before anything is asked of the server.
  source.copySource(from, "source");
  destination.copySource(to, "destination");
  if (sameContainer(source, destination) && from === to) {
    throw new StorageError("invalid_argument", `source and destination are the same object ${q(from)}; give another destination key`, {
      key: from,
    });
  }
  const object = await source.head(from);
  if (!object) {
    const under = await source.list({ prefix: directoryPrefix(from), limit: 1 }).catch(() => undefined);
    const hint = under && under.objects.length > 0 ? `; it is a prefix holding objects: pass recursive: true to copy them` : "";
    throw new StorageError("not_found", `source ${q(from)} does not exist${hint}`, { key: from });
  }
  const found = await destination.head(to);
  const existing = new Map<string, ObjectInfo>(found ? [[to, found]] : []);
  return { items: [{ sourceKey: from, key: to, object }], existing };
}

/** Every object under one prefix to the same relative keys under another. */
async function prefixCopies(source: ObjectStore, from: string, destination: ObjectStore, to: string, signal: AbortSignal | undefined) {
  const fromPrefix = directoryPrefix(from);
  const toPrefix = directoryPrefix(to);
  if (sameContainer(source, destination) && (fromPrefix.startsWith(toPrefix) || toPrefix.startsWith(fromPrefix))) {
    throw new StorageError(
      "invalid_argument",
      `source ${q(fromPrefix)} and destination ${q(toPrefix)} overlap in one bucket (one lies inside the other), so a copy would read what it writes; choose a destination outside the source`,
    );
  }
  // Zero-byte "folder/" markers made by consoles carry no data (and a local store cannot hold them).
  const objects = (await listAll(source, fromPrefix, signal)).filter((o) => !(o.key.endsWith("/") && o.size === 0));
  if (objects.length === 0) {
    throw new StorageError("not_found", `no objects under source ${q(fromPrefix)}; nothing to copy (check the prefix with list_objects)`, {
      key: fromPrefix,
    });
  }
  const items = objects.map((object) => ({ sourceKey: object.key, key: toPrefix + object.key.slice(fromPrefix.length), object }));
  const existing = new Map<string, ObjectInfo>();
  for (const o of await listAll(destination, toPrefix, signal)) existing.set(o.key, o);
  return { items, existing };
}

/**
 * Every source key must be one its store lets be read, and every destination key one its store
 * can hold and would let be read back (valid, inside the allowed prefixes), before anything is
 * written: the stores' own checks (policy lives in the guarded store) are asked for each, and the
 * refusals listed together. Whether the destination may be written at all is its put's or copy's
 * check, which callers also ask up front.
 */
function vet(source: ObjectStore, destination: ObjectStore, items: PlannedCopy[]): void {
  const refused: { key: string; error: StorageError }[] = [];
  for (const c of items) {
    for (const [store, key, argument] of [
      [source, c.sourceKey, "source"],
      [destination, c.key, "destination"],
    ] as const) {
      try {
        store.copySource(key, argument);
      } catch (err) {
        if (!(err instanceof StorageError)) throw err;
        refused.push({ key, error: err });
      }
    }
  }
  const first = refused[0];
  if (!first) return;
  if (refused.length === 1) throw first.error;
  throw new StorageError(
    first.error.kind,
    `${refused.length} keys cannot be copied: ${listing(refused.map((r) => r.key))}; nothing was copied. First: ${first.error.message}`,
    { details: { refused: refused.map((r) => r.key) } },
  );
}

/**
 * Streams one object from the source into the destination (no temporary file; the destination
 * holds at most a part in memory), checking the bytes against the source's ETag on the way.
 */
async function streamCopy(
  source: ObjectStore,
  destination: ObjectStore,
  c: PlannedCopy,
  options: { mode: PutMode; existing: ObjectInfo | null; signal?: AbortSignal; onBytes: (b: number) => void },
): Promise<CopyResult> {
  throwIfAborted(options.signal);
  const got = await source.get(c.sourceKey, options.signal ? { signal: options.signal } : {});
  if (got.info.size !== c.object.size || got.info.etag !== c.object.etag) {
    got.body.destroy();
    throw changedSince(c.sourceKey);
  }
  const digest = new StreamDigest(c.object.size, c.object.etag);
  async function* checked(): AsyncGenerator<Uint8Array> {
    for await (const chunk of got.body) {
      digest.update(chunk as Uint8Array);
      yield chunk as Uint8Array;
    }
  }
  let out: Awaited<ReturnType<ObjectStore["put"]>>;
  try {
    out = await destination.put(
      c.key,
      { kind: "stream", body: checked(), size: c.object.size },
      {
        ...options,
        ...(got.info.contentType ? { contentType: got.info.contentType } : {}),
        ...(got.info.metadata ? { metadata: got.info.metadata } : {}),
      },
    );
  } finally {
    got.body.destroy();
  }
  const verdict = digest.verdict();
  if (verdict === "mismatch") {
    // This call created it from bytes that do not match their ETag: it goes again.
    if (options.mode === "create") await destination.delete(c.key).catch(() => undefined);
    throw new StorageError(
      "unavailable",
      `${q(c.sourceKey)} arrived corrupted (MD5 ${digest.digest()}, ETag ${c.object.etag}); repeat the call`,
      {
        key: c.sourceKey,
      },
    );
  }
  // The source version is confirmed when the bytes read matched its ETag and the destination,
  // where its ETag is a plain MD5, holds those bytes.
  const landed = !isPlainMd5(out.etag) || out.etag === digest.digest();
  const sourceEtag = (verdict === "match" && landed) || out.etag === c.object.etag ? c.object.etag : "";
  return { ...out, sourceEtag };
}
