/**
 * One r2-mcp process per client, every protocol revision it serves (2026-07-28 and the three 2025
 * ones): tools/list is the same, in the same order, across calls and sessions and eras, every tool
 * has a title and an icon, instructions arrive, and every tool answers with structured content
 * that fits its output schema. Nothing is sent before the client's first message.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allTools } from "../../src/mcp/tools/index.js";
import { callOk } from "../helpers/calls.js";
import { killChildren, spawnCli } from "../helpers/run-cli.js";
import { ERAS, type Era, localCli, type RunningServer, startClient } from "../helpers/start-client.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

const byName = new Map(allTools.map((t) => [t.name, t]));

describe("every protocol revision from one binary", () => {
  let tmp: TempDir;
  const sessions = new Map<Era, RunningServer>();

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-eras-");
    await mkdir(path.join(tmp.path, "root"));
    for (const era of ERAS) {
      sessions.set(
        era,
        await startClient({ ...localCli(path.join(tmp.path, "store"), ["--root", path.join(tmp.path, "root")]), cwd: tmp.path, era }),
      );
    }
  });

  afterAll(async () => {
    await Promise.all([...sessions.values()].map((s) => s.close()));
    await killChildren();
    await tmp?.cleanup();
  });

  it("lists the same tools in the same order across calls, sessions and eras, each with a title and an icon", async () => {
    const listings: string[] = [];
    for (const [era, s] of sessions) {
      const first = await s.client.listTools(undefined, { cacheMode: "refresh" });
      const second = await s.client.listTools(undefined, { cacheMode: "refresh" });
      expect(JSON.stringify(second), era).toBe(JSON.stringify(first));
      for (const tool of first.tools) {
        expect(tool.title, `${era} ${tool.name}`).toBe(byName.get(tool.name)?.title);
        expect(tool.icons?.[0]?.src, `${era} ${tool.name}`).toMatch(/^data:image\/svg\+xml;base64,/);
      }
      listings.push(JSON.stringify(first.tools.map((t) => t.name)));
    }
    expect(new Set(listings).size).toBe(1);
    expect(JSON.parse(listings[0]!)).toEqual(allTools.map((t) => t.name).filter((n) => n !== "presign_url"));
  });

  it.each(ERAS)("%s: instructions, and every tool answering with structured content", async (era) => {
    const s = sessions.get(era)!;
    expect(s.client.getInstructions()).toContain("overwrite");
    const dir = path.join(tmp.path, "root", era);
    await mkdir(path.join(dir, "up"), { recursive: true });
    await writeFile(path.join(dir, "up", "f.txt"), "file");
    const p = (name: string) => path.join(dir, name);
    const calls: [string, Record<string, unknown>][] = [
      ["list_buckets", {}],
      ["upload_bytes", { key: `${era}/a.txt`, data: "hello" }],
      ["upload_file", { local_path: p("up/f.txt"), key: `${era}/f.txt` }],
      ["upload_directory", { local_dir: p("up"), prefix: `${era}/dir` }],
      ["list_objects", { prefix: `${era}/` }],
      ["head_object", { key: `${era}/a.txt` }],
      ["summarize_prefix", { prefix: `${era}/` }],
      ["get_object_bytes", { key: `${era}/a.txt` }],
      ["download_file", { key: `${era}/a.txt`, local_path: p("a.txt") }],
      ["download_directory", { prefix: `${era}/dir`, local_dir: p("down") }],
      ["compare_directory", { local_dir: p("up"), prefix: `${era}/dir` }],
      ["copy_objects", { source: `${era}/a.txt`, destination: `${era}/a-copy.txt` }],
      ["delete_object", { key: `${era}/a.txt` }],
      ["delete_objects", { prefix: `${era}/dir` }],
      // A background job (its id filled in below), followed and then stopped.
      ["upload_file", { local_path: p("up/f.txt"), key: `${era}/bg.txt`, background: true }],
      ["transfer_status", { job_id: "" }],
      ["cancel_transfer", { job_id: "" }],
    ];
    const listed = (await s.client.listTools()).tools.map((t) => t.name);
    expect([...new Set(calls.map(([name]) => name))].sort()).toEqual([...listed].sort());
    let jobId = "";
    for (const [name, args] of calls) {
      const tool = byName.get(name)!;
      if (args.background) {
        // The start of a job answers with the job, not the tool's result (the client checks it
        // against the advertised schema, where a long tool's result fields are optional).
        const started = await s.call(name, args);
        expect(started.isError, started.text).toBeFalsy();
        jobId = (started.structuredContent as { job_id: string }).job_id;
      } else await callOk(s.client, tool, "job_id" in args ? { job_id: jobId } : args);
    }
    expect(jobId).toMatch(/^job-/);
  });

  it("says nothing on stdout before the client's first message", async () => {
    const child = spawnCli(["--local", path.join(tmp.path, "store"), "--root", tmp.path, "--log-level", "info"], { cwd: tmp.path });
    let stdout = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
    // The server says on stderr that it is serving: by then it would have written anything it meant to.
    await new Promise<void>((resolve) => {
      let stderr = "";
      child.stderr.on("data", (c: Buffer) => {
        stderr += c.toString("utf8");
        if (stderr.includes("serving")) resolve();
      });
    });
    const answered = new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
    expect(stdout).toBe("");
    child.stdin.write(
      `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-03-26", capabilities: {}, clientInfo: { name: "raw", version: "0" } } })}\n`,
    );
    await answered;
    const first = JSON.parse(stdout.slice(0, stdout.indexOf("\n"))) as { id?: number; result?: { protocolVersion?: string } };
    expect(first).toMatchObject({ id: 1, result: { protocolVersion: "2025-03-26" } });
    child.stdin.end();
  });
});
