/** Running a plan: the pool stops starting copies after a failure and reports exactly what happened. */
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/core/errors.js";
import { checkMaxWorkers, ProgressTracker, runPlan, type TransferProgress } from "../../src/core/transfer/run.js";

const sizes: Record<string, number> = { a: 1, b: 2, c: 3, d: 4 };
const name = (item: string) => item;

async function caught(promise: Promise<unknown>): Promise<StorageError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(StorageError);
    return err as StorageError;
  }
  return expect.fail("the run succeeded");
}

describe("runPlan", () => {
  it("copies everything and adds up the bytes", async () => {
    const run = await runPlan(["a", "b", "c"], name, async (item) => sizes[item]!, 2, undefined);
    expect(run.items.sort()).toEqual(["a", "b", "c"]);
    expect(run.bytes).toBe(6);
  });

  it("after the first failure starts nothing new, and says what completed, failed and never started", async () => {
    const copy = async (item: string) => {
      if (item === "b") throw new StorageError("unavailable", "the server went away");
      return sizes[item]!;
    };
    const err = await caught(runPlan(["a", "b", "c", "d"], name, copy, 1, undefined));
    expect(err.kind).toBe("unavailable");
    expect(err.message).toBe(
      'the server went away (1 of 4 completed; failed: "b" (unavailable); 2 not started; repeat the call to finish: completed files are skipped as identical)',
    );
    expect(err.details).toEqual({
      completed: ["a"],
      bytes: 1,
      failed: ["b"],
      failures: [{ item: "b", code: "unavailable", message: "the server went away" }],
      notStarted: ["c", "d"],
    });
  });

  it("a cancelled run is reported as cancelled, whatever the copies threw", async () => {
    const controller = new AbortController();
    const copy = async (item: string) => {
      controller.abort();
      throw new Error(`interrupted ${item}`);
    };
    const err = await caught(runPlan(["a", "b"], name, copy, 1, controller.signal));
    expect(err.kind).toBe("cancelled");
    expect(err.details).toMatchObject({ completed: [], failed: ["a"], notStarted: ["b"] });
  });
});

describe("ProgressTracker", () => {
  it("keeps each item's latest count, so a copy that starts over is not counted twice", () => {
    const seen: TransferProgress[] = [];
    const progress = new ProgressTracker(10, 2, (p) => seen.push(p));
    progress.bytes("a", 4);
    progress.bytes("b", 3);
    progress.bytes("a", 1);
    progress.fileDone("a", 5);
    expect(seen.at(-1)).toEqual({ bytesDone: 8, bytesTotal: 10, filesDone: 1, filesTotal: 2 });
  });
});

describe("checkMaxWorkers", () => {
  it("defaults to 8 and refuses what is not an integer from 1 to 64", () => {
    expect(checkMaxWorkers(undefined)).toBe(8);
    expect(checkMaxWorkers(64)).toBe(64);
    for (const bad of [0, 65, 1.5]) expect(() => checkMaxWorkers(bad)).toThrow(/max_workers must be an integer from 1 to 64/);
  });
});
