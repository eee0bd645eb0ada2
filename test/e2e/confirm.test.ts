/**
 * Asking a person before data is destroyed (SPEC; `--confirm auto|always|never`), over the real CLI
 * in both protocol eras: a 2026-07-28 client gets an input-required result and retries the call
 * with the answer; a 2025 client gets a real elicitation/create (the SDK's legacy shim serving the
 * same question), seen here on the wire. Every answer but an explicit yes changes nothing, and the
 * bytes are checked afterwards; nothing is asked when nothing would be destroyed.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deleteObject } from "../../src/mcp/tools/delete-object.js";
import { uploadBytes } from "../../src/mcp/tools/upload-bytes.js";
import { callError, callOk } from "../helpers/calls.js";
import {
  type ElicitationAnswer,
  type Era,
  isLegacyEra,
  localCli,
  type RunningServer,
  startClient,
  TEST_ERAS,
} from "../helpers/start-client.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

const yes: ElicitationAnswer = () => ({ action: "accept", content: { confirm: true } });

describe.each(TEST_ERAS)("confirmation before data is destroyed, protocol %s", (era: Era) => {
  let tmp: TempDir;
  /** What the asking client answers next. */
  let answer: ElicitationAnswer = yes;
  const servers = {} as Record<"auto" | "autoNoAsk" | "always" | "never", RunningServer>;
  let store: string;
  let root: string;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-confirm-");
    store = path.join(tmp.path, "store");
    root = path.join(tmp.path, "root");
    const start = (mode: string, asks: boolean) =>
      startClient({
        ...localCli(store, ["--root", root, "--confirm", mode]),
        cwd: tmp.path,
        era,
        listTools: true,
        ...(asks ? { elicitation: (params) => answer(params) } : {}),
      });
    await writeFile(path.join(tmp.path, ".keep"), "");
    const { mkdir } = await import("node:fs/promises");
    await mkdir(root);
    [servers.auto, servers.autoNoAsk, servers.always, servers.never] = await Promise.all([
      start("auto", true),
      start("auto", false),
      start("always", false),
      start("never", true),
    ]);
  });

  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s?.close()));
    await tmp?.cleanup();
  });

  /** The object's bytes in the local store (undefined when absent), read beside the server. */
  const stored = (key: string) => readFile(path.join(store, key), "utf8").catch(() => undefined);

  async function seed(key: string, data = `original ${key}`) {
    await callOk(servers.never.client, uploadBytes, { key, data, overwrite: true });
    expect(await stored(key)).toBe(data);
    return data;
  }

  const elicitationsOnTheWire = (s: RunningServer) =>
    s.received.filter((m) => m.kind === "request" && m.method === "elicitation/create").length;

  it.each([
    ["declined", { action: "decline" }, /^cancelled: the person declined; nothing was changed\./],
    ["cancelled", { action: "cancel" }, /^cancelled: the person cancelled the question; nothing was changed\./],
    [
      "accepted with false",
      { action: "accept", content: { confirm: false } },
      /^cancelled: the person did not agree; nothing was changed\./,
    ],
  ] as const)("delete_object of an existing key, %s: cancelled, the object intact", async (_name, reply, text) => {
    const key = `del/${reply.action}-${"content" in reply ? "false" : "none"}.txt`;
    const data = await seed(key);
    const s = servers.auto;
    const asked = s.elicitations.length;
    const wire = elicitationsOnTheWire(s);
    answer = () => reply;
    const refused = await callError(s.client, "delete_object", { key });
    expect(refused.text).toMatch(text);
    expect(refused.text).toContain(key);
    expect(s.elicitations.length).toBe(asked + 1);
    const question = s.elicitations.at(-1)!;
    expect(question.message).toContain(`Delete 1 object`);
    expect(question.message).toContain(JSON.stringify(key));
    expect(question.message).toContain("This cannot be undone.");
    expect(question.requestedSchema).toMatchObject({ type: "object", properties: { confirm: { type: "boolean" } }, required: ["confirm"] });
    // 2025: a real elicitation/create from the server; 2026-07-28: an input-required result, no server request.
    expect(elicitationsOnTheWire(s)).toBe(wire + (isLegacyEra(era) ? 1 : 0));
    expect(await stored(key)).toBe(data);
  });

  it("delete_object of an existing key, accepted with true: deleted", async () => {
    const key = "del/yes.txt";
    await seed(key);
    answer = yes;
    const asked = servers.auto.elicitations.length;
    expect(await callOk(servers.auto.client, deleteObject, { key })).toMatchObject({ key, existed: true });
    expect(servers.auto.elicitations.length).toBe(asked + 1);
    expect(await stored(key)).toBeUndefined();
  });

  it("a client that cannot ask: auto deletes without a question, always refuses with unsupported naming --confirm", async () => {
    await seed("del/auto-no-ask.txt");
    expect(await callOk(servers.autoNoAsk.client, deleteObject, { key: "del/auto-no-ask.txt" })).toMatchObject({ existed: true });
    expect(await stored("del/auto-no-ask.txt")).toBeUndefined();

    const data = await seed("del/always.txt");
    const refused = await callError(servers.always.client, "delete_object", { key: "del/always.txt" });
    expect(refused.text).toMatch(/^unsupported: .*--confirm always.*cannot ask the person.*nothing was changed/);
    expect(refused.text).toContain("--confirm auto");
    expect(await stored("del/always.txt")).toBe(data);
  });

  it("never: no question, the delete goes ahead", async () => {
    await seed("del/never.txt");
    const asked = servers.never.elicitations.length;
    expect(await callOk(servers.never.client, deleteObject, { key: "del/never.txt" })).toMatchObject({ existed: true });
    expect(servers.never.elicitations.length).toBe(asked);
    expect(await stored("del/never.txt")).toBeUndefined();
  });

  it("an overwrite that replaces: declined keeps the old bytes, accepted replaces them", async () => {
    const data = await seed("put/a.txt");
    answer = () => ({ action: "decline" });
    const refused = await callError(servers.auto.client, "upload_bytes", { key: "put/a.txt", data: "new", overwrite: true });
    expect(refused.text).toMatch(/^cancelled: /);
    expect(servers.auto.elicitations.at(-1)?.message).toMatch(
      /^Replace 1 existing destination in bucket "local" \(\d+ B now there\): "put\/a.txt"/,
    );
    expect(await stored("put/a.txt")).toBe(data);

    answer = yes;
    expect(await callOk(servers.auto.client, uploadBytes, { key: "put/a.txt", data: "new", overwrite: true })).toMatchObject({
      replaced: true,
    });
    expect(await stored("put/a.txt")).toBe("new");
  });

  it("download_file over an existing local file: declined leaves the file as it was", async () => {
    await seed("dl/x.txt", "from the bucket");
    const target = path.join(root, `x-${era}.txt`);
    await writeFile(target, "local work");
    answer = () => ({ action: "decline" });
    const refused = await callError(servers.auto.client, "download_file", { key: "dl/x.txt", local_path: target, overwrite: true });
    expect(refused.text).toMatch(/^cancelled: /);
    expect(refused.text).toContain(target);
    expect(await readFile(target, "utf8")).toBe("local work");
  });

  it("delete_objects of a folder: the question names the objects; declined deletes none, accepted deletes all", async () => {
    const keys = ["many/a.txt", "many/b.txt", "many/c/d.txt"];
    for (const key of keys) await seed(key);
    const s = servers.auto;
    answer = () => ({ action: "decline" });
    const refused = await callError(s.client, "delete_objects", { prefix: "many" });
    expect(refused.text).toMatch(/^cancelled: the person declined; nothing was changed\./);
    const question = s.elicitations.at(-1)!;
    expect(question.message).toMatch(/^Delete 3 objects in bucket "local" \(\d+ B now there\): /);
    for (const key of keys) {
      expect(question.message).toContain(JSON.stringify(key));
      expect(await stored(key)).toBe(`original ${key}`);
    }

    const asked = s.elicitations.length;
    const dry = await s.call("delete_objects", { prefix: "many", dry_run: true });
    expect(dry.isError, dry.text).toBeFalsy();
    expect(s.elicitations.length).toBe(asked);

    answer = yes;
    const done = await s.call("delete_objects", { prefix: "many" });
    expect(done.isError, done.text).toBeFalsy();
    expect(done.structuredContent).toMatchObject({ deleted: 3 });
    for (const key of keys) expect(await stored(key)).toBeUndefined();
  });

  it("copy_objects with move: declined copies and deletes nothing; accepted moves; a plain copy asks nothing", async () => {
    const s = servers.auto;
    const data = await seed("mv/src/a.txt");
    const asked = s.elicitations.length;
    const copied = await s.call("copy_objects", { source: "mv/src", destination: "mv/copy", recursive: true });
    expect(copied.isError, copied.text).toBeFalsy();
    expect(s.elicitations.length).toBe(asked);

    answer = () => ({ action: "decline" });
    const refused = await callError(s.client, "copy_objects", { source: "mv/src", destination: "mv/dst", recursive: true, move: true });
    expect(refused.text).toMatch(/^cancelled: the person declined; nothing was changed\./);
    expect(s.elicitations.at(-1)?.message).toMatch(
      /^Move 1 object \(the sources are deleted after their copy\) in bucket "local".*"mv\/src\/a.txt"/,
    );
    expect(await stored("mv/src/a.txt")).toBe(data);
    expect(await stored("mv/dst/a.txt")).toBeUndefined();

    answer = yes;
    const moved = await s.call("copy_objects", { source: "mv/src", destination: "mv/dst", recursive: true, move: true });
    expect(moved.isError, moved.text).toBeFalsy();
    expect(await stored("mv/src/a.txt")).toBeUndefined();
    expect(await stored("mv/dst/a.txt")).toBe(data);
  });

  it("a background overwrite is asked about in the call, before any job exists", async () => {
    const data = await seed("bg/a.txt");
    const source = path.join(root, `bg-${era}.txt`);
    await writeFile(source, "replacement");
    const s = servers.auto;
    answer = () => ({ action: "decline" });
    const refused = await callError(s.client, "upload_file", { local_path: source, key: "bg/a.txt", overwrite: true, background: true });
    expect(refused.text).toMatch(/^cancelled: /);
    expect(await stored("bg/a.txt")).toBe(data);
    const jobs = await s.call("transfer_status", {});
    expect(jobs.structuredContent).toMatchObject({ jobs: [] });

    answer = yes;
    const started = await s.call("upload_file", { local_path: source, key: "bg/a.txt", overwrite: true, background: true });
    expect(started.isError, started.text).toBeFalsy();
    const id = (started.structuredContent as { job_id: string }).job_id;
    for (let i = 0; i < 200; i++) {
      const status = await s.call("transfer_status", { job_id: id });
      if ((status.structuredContent as { state: string }).state === "completed") break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(await stored("bg/a.txt")).toBe("replacement");
  });

  it("asks nothing when nothing would be destroyed: a new key, a missing key, a dry run", async () => {
    answer = () => ({ action: "decline" });
    const s = servers.auto;
    const asked = s.elicitations.length;
    expect(await callOk(s.client, uploadBytes, { key: "new/fresh.txt", data: "x", overwrite: true })).toMatchObject({ replaced: false });
    expect(await callOk(s.client, deleteObject, { key: "new/never-there.txt" })).toMatchObject({ existed: false });
    await seed("dry/a.txt");
    await writeFile(path.join(root, "a.txt"), "replacement");
    const dry = await s.call("upload_directory", { local_dir: root, prefix: "dry", overwrite: true, dry_run: true });
    expect(dry.isError, dry.text).toBeFalsy();
    expect(s.elicitations.length).toBe(asked);
    expect(await stored("new/fresh.txt")).toBe("x");
    expect(await stored("dry/a.txt")).toBe("original dry/a.txt");
  });
});
