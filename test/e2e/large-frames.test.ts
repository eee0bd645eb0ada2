/**
 * Messages over the 10 MiB stdio cap (SPEC "Tools"; issue 17, finding 4): a request is answered
 * with `too_large` and the server keeps serving; a download running beside an 8 MiB base64 upload
 * (a 10.7 MiB message) finishes intact. Over the real CLI, in both protocol eras, and on the raw
 * wire for frames no SDK client would send.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headObject } from "../../src/mcp/tools/head-object.js";
import { MIB } from "../helpers/bytes.js";
import { callOk, expectProtocolError } from "../helpers/calls.js";
import { killChildren, spawnCli } from "../helpers/run-cli.js";
import { localCli, type RunningServer, startClient, TEST_ERAS } from "../helpers/start-client.js";
import { makeTempDir, type TempDir, writeTree } from "../helpers/tmp.js";

const sha256 = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");

describe.each(TEST_ERAS)("messages over 10 MiB, protocol %s", (era) => {
  let tmp: TempDir;
  let server: RunningServer;
  const big = Buffer.alloc(24 * MIB);

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-frames-");
    for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE(i, i);
    await writeTree(tmp.path, { "root/big.bin": big });
    server = await startClient({ ...localCli(path.join(tmp.path, "store"), ["--root", path.join(tmp.path, "root")]), cwd: tmp.path, era });
    const up = await server.call("upload_file", { local_path: path.join(tmp.path, "root/big.bin"), key: "big.bin" });
    expect(up.isError, up.text).toBeFalsy();
  });

  afterAll(async () => {
    await server?.close();
    await tmp?.cleanup();
  });

  it("answers an upload_bytes of 11 MiB with too_large, writes nothing, and keeps serving", async () => {
    const message = await expectProtocolError(server.call("upload_bytes", { key: "huge.txt", data: "x".repeat(11 * MIB) }), -32600);
    expect(message).toMatch(/^too_large: a 11 MiB message \(\d+ bytes\), over the 10 MiB a stdio message may be; nothing was done/);
    expect(message).toContain("upload_file");
    expect((await callOk(server.client, headObject, { key: "huge.txt" })).exists).toBe(false);
    expect((await server.client.listTools()).tools.length).toBeGreaterThan(0);
  });

  it("finishes a download running beside an 8 MiB base64 upload, which is refused", async () => {
    const target = path.join(tmp.path, "root", `copy-${era}.bin`);
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const download = server.client.callTool(
      { name: "download_file", arguments: { key: "big.bin", local_path: target } },
      { onprogress: () => started() },
    );
    await running;
    const upload = server.call("upload_bytes", { key: "eight.bin", data: Buffer.alloc(8 * MIB, 1).toString("base64"), encoding: "base64" });
    expect(await expectProtocolError(upload, -32600)).toMatch(/^too_large: /);
    const done = await download;
    expect(done.isError, JSON.stringify(done.content)).toBeFalsy();
    expect(sha256(await readFile(target))).toBe(sha256(big));
    expect(server.stderr()).not.toMatch(/ReadBuffer exceeded/);
  });
});

describe("messages over 10 MiB on the raw wire", () => {
  let tmp: TempDir;
  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-frames-raw-");
  });
  afterAll(async () => {
    await killChildren();
    await tmp?.cleanup();
  });

  it("drops an oversized notification or response silently, answers an oversized request by its id, and serves on", async () => {
    const child = spawnCli(["--local", path.join(tmp.path, "store"), "--root", tmp.path], { cwd: tmp.path });
    const answers = new Map<string | number, (m: Record<string, unknown>) => void>();
    const received: Record<string, unknown>[] = [];
    let pending = "";
    child.stdout.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
        const message = JSON.parse(pending.slice(0, nl)) as Record<string, unknown>;
        pending = pending.slice(nl + 1);
        received.push(message);
        answers.get(message.id as string | number)?.(message);
      }
    });
    const answer = (id: string | number) => new Promise<Record<string, unknown>>((resolve) => answers.set(id, resolve));
    const write = (text: string) => child.stdin.write(`${text}\n`);
    const filler = "y".repeat(10 * MIB + 1);

    const init = answer(1);
    write(
      JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "initialize",
        params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "raw", version: "0" } },
      }),
    );
    await init;
    write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" }));
    // A notification and a response over the cap: nothing to answer.
    write(JSON.stringify({ jsonrpc: "2.0", method: "notifications/progress", params: { progressToken: 1, progress: 1, message: filler } }));
    write(JSON.stringify({ jsonrpc: "2.0", id: 99, result: { filler } }));
    // A request whose id comes after 10 MiB of arguments.
    const refused = answer("late-id");
    write(
      `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"upload_bytes","arguments":{"key":"k","data":"${filler}"}},"id":"late-id"}`,
    );
    expect(await refused).toMatchObject({ id: "late-id", error: { code: -32600, data: { code: "too_large" } } });
    const listed = answer(2);
    write(JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }));
    expect(((await listed).result as { tools: unknown[] }).tools.length).toBeGreaterThan(0);
    // Answers only (the server may also log the skipped frames as notifications/message).
    expect(received.filter((m) => "id" in m && !("method" in m)).map((m) => m.id)).toEqual([1, "late-id", 2]);
    child.stdin.end();
  });
});
