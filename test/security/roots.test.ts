/**
 * Local roots as the MCP client sets them (roots/list, refreshed on notifications/roots/list_changed)
 * versus --root. Decision (SPEC.md "local roots"): client roots replace the DEFAULT root (the working
 * directory); roots the user gave with --root / R2_MCP_ROOTS stay in force, so a client can never widen
 * what the person who started the server allowed.
 *
 * Roots are a 2025 feature (deprecated in 2026-07-28, where --root is the way): these clients speak
 * 2025-11-25, and a 2026-07-28 client offering roots changes nothing.
 */
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoSecrets } from "../helpers/assert.js";
import { snapshotAll } from "../helpers/bucket.js";
import { expectError } from "../helpers/calls.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { BACKENDS, localCli, type RunningServer, s3Cli, startClient } from "../helpers/start-client.js";
import { makeTempDir, type TempDir, writeTree } from "../helpers/tmp.js";

/** Everything these servers said (messages, stderr), for the secrets check. */
const transcript: string[] = [];
/** Servers log at debug into the transcript, and the client validates every result (tools/list first). */
const watched = { transcript, logLevel: "debug", listTools: true, era: "2025-11-25" } as const;

describe.each(BACKENDS)("client roots, %s backend", (backend) => {
  let tmp: TempDir;
  let s3: S3TestServer | undefined;
  let raw: S3Client | undefined;
  let cwd: string;
  let rootA: string;
  let rootB: string;
  /** No --root: the client's roots replace the working directory. */
  let offered: RunningServer;
  /** --root rootA: the client's roots (rootB) do not replace it. */
  let explicit: RunningServer;
  const cli = (extra: string[]) => {
    const args = ["--log-level", "debug", ...extra];
    return backend === "s3" ? s3Cli(s3!, args) : localCli(path.join(tmp.path, "store"), args);
  };

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-roots-");
    cwd = path.join(tmp.path, "cwd");
    rootA = path.join(tmp.path, "rootA");
    rootB = path.join(tmp.path, "rootB");
    await writeTree(tmp.path, { "cwd/c.txt": "in the working directory", "rootA/a.txt": "in A", "rootB/b.txt": "in B" });
    await writeTree(rootA, { "to-b": { link: "../rootB" } });
    if (backend === "s3") {
      s3 = await startS3Server();
      raw = s3.rawClient();
    } else {
      await mkdir(path.join(tmp.path, "store"));
    }
    [offered, explicit] = await Promise.all([
      startClient({ ...cli([]), cwd, roots: [rootA], ...watched }),
      startClient({ ...cli(["--root", rootA]), cwd, roots: [rootB], ...watched }),
    ]);
  });

  afterAll(async () => {
    await offered?.close();
    await explicit?.close();
    raw?.destroy();
    await s3?.close();
    await tmp?.cleanup();
  });

  const snapshot = () => snapshotAll(tmp.path, raw && s3 ? { client: raw, server: s3 } : undefined);

  /** A refused call: the code, the path and the roots in the text, still serving, nothing changed. */
  async function refused(session: RunningServer, tool: string, args: Record<string, unknown>, shown: string, roots: string[]) {
    const before = await snapshot();
    const result = await session.call(tool, args);
    expectError(result, "outside_roots");
    expect(result.text).toContain(shown);
    for (const root of roots) expect(result.text).toContain(root);
    expect((await session.client.listTools()).tools.length).toBeGreaterThan(0);
    expect(await snapshot()).toEqual(before);
  }

  it("uses the client's roots instead of the working directory", async () => {
    const inCwd = path.join(cwd, "c.txt");
    await refused(offered, "upload_file", { local_path: inCwd, key: "r/c.txt" }, inCwd, [rootA]);
    await refused(offered, "download_file", { key: "r/none", local_path: path.join(cwd, "new.txt") }, path.join(cwd, "new.txt"), [rootA]);
    const ok = await offered.call("upload_file", { local_path: path.join(rootA, "a.txt"), key: "r/a.txt" });
    expect(ok.isError, ok.text).toBeFalsy();
  });

  it("does not follow a symlink from one client root into a directory that is not a root", async () => {
    const viaLink = path.join(rootA, "to-b", "b.txt");
    await refused(offered, "upload_file", { local_path: viaLink, key: "r/b.txt" }, viaLink, [rootA]);
  });

  it("refreshes the roots on notifications/roots/list_changed", async () => {
    await offered.setRoots([rootB]);
    const inA = path.join(rootA, "a.txt");
    await refused(offered, "upload_file", { local_path: inA, key: "r/a2.txt" }, inA, [rootB]);
    const ok = await offered.call("upload_file", { local_path: path.join(rootB, "b.txt"), key: "r/b.txt" });
    expect(ok.isError, ok.text).toBeFalsy();
    // Both roots at once, then the first again: every change is picked up.
    await offered.setRoots([rootA, rootB]);
    const both = await offered.call("upload_file", { local_path: inA, key: "r/a3.txt" });
    expect(both.isError, both.text).toBeFalsy();
    await offered.setRoots([rootA]);
    const inB = path.join(rootB, "b.txt");
    await refused(offered, "upload_file", { local_path: inB, key: "r/b2.txt" }, inB, [rootA]);
  });

  it("ignores the roots a 2026-07-28 client offers: the working directory stays the root", async () => {
    const modern = await startClient({ ...cli([]), cwd, roots: [rootA], ...watched, era: "2026-07-28" });
    try {
      const inA = path.join(rootA, "a.txt");
      await refused(modern, "upload_file", { local_path: inA, key: "r/modern-a.txt" }, inA, [cwd]);
      const ok = await modern.call("upload_file", { local_path: path.join(cwd, "c.txt"), key: "r/modern-c.txt" });
      expect(ok.isError, ok.text).toBeFalsy();
    } finally {
      await modern.close();
    }
  });

  it("keeps roots given with --root when the client offers others", async () => {
    const inB = path.join(rootB, "b.txt");
    await refused(explicit, "upload_file", { local_path: inB, key: "r/x.txt" }, inB, [rootA]);
    const ok = await explicit.call("upload_file", { local_path: path.join(rootA, "a.txt"), key: "r/explicit.txt" });
    expect(ok.isError, ok.text).toBeFalsy();
  });

  it("no credential in anything these servers said", () => {
    expectNoSecrets(transcript);
  });
});

describe("a client that offers roots but lists none", () => {
  let tmp: TempDir;
  let session: RunningServer;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-noroots-");
    await writeTree(tmp.path, { "cwd/c.txt": "in the working directory" });
    await mkdir(path.join(tmp.path, "store"));
    session = await startClient({ ...localCli(path.join(tmp.path, "store")), cwd: path.join(tmp.path, "cwd"), roots: [], ...watched });
  });

  afterAll(async () => {
    await session?.close();
    await tmp?.cleanup();
  });

  it("gets no local access at all, not the working directory", async () => {
    const before = await snapshotAll(tmp.path);
    const result = await session.call("upload_file", { local_path: path.join(tmp.path, "cwd", "c.txt"), key: "c.txt" });
    expectError(result, "outside_roots");
    expect(result.text).toContain("(none)");
    expect(await snapshotAll(tmp.path)).toEqual(before);
    // Reading the bucket needs no local path and still works.
    const listed = await session.call("list_objects", {});
    expect(listed.isError, listed.text).toBeFalsy();
  });
});

/**
 * A client whose roots/list fails or answers something other than file:// roots (issue 17): the
 * server fails closed, as for an empty list, never falling back to the working directory. On 0.1
 * each of these uploaded the file from the working directory.
 */
describe.each(BACKENDS)("a client whose roots cannot be read, %s backend", (backend) => {
  const answers: [string, () => Promise<unknown>][] = [
    [
      "roots/list answers an error",
      async () => {
        throw new Error("the host could not list its roots");
      },
    ],
    ["a root that is not a file:// URI", async () => ({ roots: [{ uri: "https://example.com/data", name: "web" }] })],
    ["a root without a uri", async () => ({ roots: [{ name: "no uri" }] })],
  ];
  let tmp: TempDir;
  let s3: S3TestServer | undefined;
  let raw: S3Client | undefined;
  let cwd: string;
  const sessions: RunningServer[] = [];

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-badroots-");
    cwd = path.join(tmp.path, "cwd");
    await writeTree(tmp.path, { "cwd/c.txt": "in the working directory" });
    if (backend === "s3") {
      s3 = await startS3Server();
      raw = s3.rawClient();
    } else {
      await mkdir(path.join(tmp.path, "store"));
    }
    const cli = backend === "s3" ? s3Cli(s3!, []) : localCli(path.join(tmp.path, "store"));
    sessions.push(
      ...(await Promise.all(answers.map(([, rootsAnswer]) => startClient({ ...cli, cwd, roots: [cwd], rootsAnswer, ...watched })))),
    );
  });

  afterAll(async () => {
    await Promise.all(sessions.map((s) => s.close()));
    raw?.destroy();
    await s3?.close();
    await tmp?.cleanup();
  });

  it.each(answers.map(([name], i) => [name, i] as const))("%s: no local access, not the working directory", async (_name, i) => {
    const session = sessions[i]!;
    const before = await snapshotAll(tmp.path, raw && s3 ? { client: raw, server: s3 } : undefined);
    for (const [tool, args] of [
      ["upload_file", { local_path: path.join(cwd, "c.txt"), key: "c.txt" }],
      ["upload_directory", { local_dir: cwd, prefix: "cwd/" }],
      ["download_file", { key: "c.txt", local_path: path.join(cwd, "new.txt") }],
    ] as const) {
      const result = await session.call(tool, args);
      expectError(result, "outside_roots");
      expect(result.text).toContain("(none)");
    }
    expect(await snapshotAll(tmp.path, raw && s3 ? { client: raw, server: s3 } : undefined)).toEqual(before);
    // The refusal is logged, and reading the bucket needs no local path and still works.
    expect(session.logMessages.some((m) => JSON.stringify(m.data).includes("could not read the client's roots"))).toBe(true);
    const listed = await session.call("list_objects", {});
    expect(listed.isError, listed.text).toBeFalsy();
  });
});
