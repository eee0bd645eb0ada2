/** Planning a directory transfer: the per-item decision, the plan built from it, and its reports. */
import { describe, expect, it } from "vitest";
import { StorageError } from "../../src/core/errors.js";
import {
  conflictError,
  type Decision,
  decide,
  type Existing,
  listing,
  type PlanRule,
  planTransfer,
  transferResult,
} from "../../src/core/transfer/plan.js";

const UPLOAD = { compareWhenOverwriting: false };
const DOWNLOAD = { compareWhenOverwriting: true };

describe("decide", () => {
  const cases: [string, Existing<unknown>["state"], PlanRule, boolean | undefined, Decision | "compare"][] = [
    ["absent: written", "absent", { overwrite: false, ...DOWNLOAD }, undefined, "todo"],
    ["absent, overwriting: written", "absent", { overwrite: true, ...UPLOAD }, undefined, "todo"],
    ["not a regular file: conflict", "other", { overwrite: false, ...DOWNLOAD }, undefined, "conflict"],
    ["not a regular file, overwriting: still a conflict", "other", { overwrite: true, ...DOWNLOAD }, undefined, "conflict"],
    ["a file, not yet compared: compare", "file", { overwrite: false, ...UPLOAD }, undefined, "compare"],
    ["a file, overwriting with comparison: compare", "file", { overwrite: true, ...DOWNLOAD }, undefined, "compare"],
    ["identical: skipped", "file", { overwrite: false, ...UPLOAD }, true, "skipped"],
    ["identical, overwriting with comparison: skipped", "file", { overwrite: true, ...DOWNLOAD }, true, "skipped"],
    ["different: conflict", "file", { overwrite: false, ...DOWNLOAD }, false, "conflict"],
    ["different, overwriting: written", "file", { overwrite: true, ...DOWNLOAD }, false, "todo"],
    ["overwriting without comparison: written unread", "file", { overwrite: true, ...UPLOAD }, undefined, "todo"],
    ["overwriting without comparison ignores sameness", "file", { overwrite: true, ...UPLOAD }, true, "todo"],
  ];
  it.each(cases)("%s", (_name, at, rule, identical, expected) => {
    expect(decide(at, rule, identical)).toBe(expected);
  });
});

interface Item {
  name: string;
  size: number;
}

/** A plan over named items whose destinations are described by `at`; records every comparison. */
async function plan(items: Item[], at: Record<string, Existing<string>>, rule: PlanRule, identicalContent = "same") {
  const compared: string[] = [];
  const result = await planTransfer(items, {
    ...rule,
    destination: (i) => `dest/${i.name}`,
    size: (i) => i.size,
    lookup: async (i) => at[i.name] ?? { state: "absent" },
    identical: async (i, found) => {
      compared.push(i.name);
      return found === identicalContent;
    },
  });
  return { ...result, compared };
}

describe("planTransfer", () => {
  const items: Item[] = [
    { name: "new", size: 1 },
    { name: "same", size: 10 },
    { name: "changed", size: 100 },
    { name: "folder", size: 1000 },
  ];
  const at: Record<string, Existing<string>> = {
    same: { state: "file", found: "same" },
    changed: { state: "file", found: "other" },
    folder: { state: "other" },
  };

  it("sorts items by what is at their destination, in the order given", async () => {
    const got = await plan(items, at, { overwrite: false, ...DOWNLOAD });
    expect(got.todo.map((i) => i.name)).toEqual(["new"]);
    expect(got.skipped).toEqual(["dest/same"]);
    expect(got.conflicts).toEqual(["dest/changed", "dest/folder"]);
    expect(got.plannedBytes).toBe(1);
    expect(got.compared).toEqual(["same", "changed"]);
    expect(got.wouldWrite).toEqual(["dest/new"]);
  });

  it("describes both sides of the first 50 conflicts, and names the first 50 destinations it would write", async () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ name: `n${i}`, size: i }));
    const found: Record<string, Existing<string>> = Object.fromEntries(many.map((i) => [i.name, { state: "file", found: "other" }]));
    const described: string[] = [];
    const got = await planTransfer(many, {
      overwrite: false,
      ...DOWNLOAD,
      destination: (i) => i.name,
      size: (i) => i.size,
      lookup: (i) => found[i.name] ?? { state: "absent" },
      identical: async () => false,
      detail: (i, existing) => {
        described.push(i.name);
        return {
          destination: i.name,
          from: `src/${i.name}`,
          source: { size: i.size, modified: new Date(0) },
          ...(existing.state === "file" ? { existing: { size: 1, modified: new Date(1) } } : {}),
        };
      },
    });
    expect(got.conflicts).toHaveLength(60);
    expect(got.conflictDetails).toHaveLength(50);
    expect(got.conflictDetails[49]).toEqual({
      destination: "n49",
      from: "src/n49",
      source: { size: 49, modified: new Date(0) },
      existing: { size: 1, modified: new Date(1) },
    });
    expect(described).toHaveLength(50);

    const fresh = await plan(many, {}, { overwrite: false, ...UPLOAD });
    expect(fresh.wouldWrite).toEqual(many.slice(0, 50).map((i) => `dest/${i.name}`));
    expect(fresh.todo).toHaveLength(60);
  });

  it("overwriting with comparison skips identical files and replaces the others, never a folder", async () => {
    const got = await plan(items, at, { overwrite: true, ...DOWNLOAD });
    expect(got.todo.map((i) => i.name)).toEqual(["new", "changed"]);
    expect(got.skipped).toEqual(["dest/same"]);
    expect(got.conflicts).toEqual(["dest/folder"]);
    expect(got.plannedBytes).toBe(101);
  });

  it("overwriting without comparison reads nothing and plans every file", async () => {
    const files = items.filter((i) => i.name !== "folder");
    const got = await plan(files, at, { overwrite: true, ...UPLOAD });
    expect(got.todo).toEqual(files);
    expect(got.skipped).toEqual([]);
    expect(got.conflicts).toEqual([]);
    expect(got.plannedBytes).toBe(111);
    expect(got.compared).toEqual([]);
  });

  it("an empty list plans nothing", async () => {
    expect(await plan([], at, { overwrite: false, ...UPLOAD })).toEqual({
      todo: [],
      wouldWrite: [],
      skipped: [],
      conflicts: [],
      conflictDetails: [],
      plannedBytes: 0,
      compared: [],
    });
  });
});

describe("transferResult", () => {
  const detail = { destination: "c", from: "src/c", source: { size: 1, modified: new Date(0) } };
  const planned = {
    todo: [{ name: "a" }, { name: "b" }],
    wouldWrite: ["a", "b"],
    skipped: ["s"],
    conflicts: ["c"],
    conflictDetails: [detail],
    plannedBytes: 7,
  };

  it("a dry run reports the plan and writes nothing", () => {
    expect(transferResult(planned)).toEqual({
      transferred: 0,
      bytes: 0,
      items: [],
      skipped: ["s"],
      conflicts: ["c"],
      conflictDetails: [detail],
      wouldWrite: ["a", "b"],
      planned: 2,
      plannedBytes: 7,
      dryRun: true,
    });
  });

  it("a real run reports what it wrote beside the plan", () => {
    expect(transferResult(planned, { items: ["b", "a"], bytes: 7 })).toEqual({
      transferred: 2,
      bytes: 7,
      items: ["b", "a"],
      skipped: ["s"],
      conflicts: ["c"],
      conflictDetails: [detail],
      wouldWrite: ["a", "b"],
      planned: 2,
      plannedBytes: 7,
      dryRun: false,
    });
  });
});

describe("conflictError and listing", () => {
  it("names every conflict and says nothing was written", () => {
    const err = conflictError(["a", "b"], "local files");
    expect(err).toBeInstanceOf(StorageError);
    expect(err.kind).toBe("already_exists");
    expect(err.message).toBe(
      '2 local files already exist with other content: "a", "b"; nothing was written. Pass overwrite: true to replace them',
    );
    expect(err.details).toEqual({ conflicts: ["a", "b"], conflictDetails: [] });
  });

  it("agrees in number with one conflict", () => {
    expect(conflictError(["a"], "local files").message).toBe(
      '1 local file already exists with other content: "a"; nothing was written. Pass overwrite: true to replace it',
    );
  });

  it("quotes the first items and counts the rest", () => {
    expect(listing(["x"])).toBe('"x"');
    expect(listing(["a", "b", "c", "d"], 2)).toBe('"a", "b" and 2 more');
    expect(listing(Array.from({ length: 21 }, (_, i) => `k${i}`))).toMatch(/"k19" and 1 more$/);
  });
});
