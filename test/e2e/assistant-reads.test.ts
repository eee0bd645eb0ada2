/**
 * What an assistant reads (SPEC.md "What an assistant reads, 0.2"; issue 16), over the real stdio
 * transport on both backends: result text that names every entry for hosts that show only text,
 * dry runs that name what they would write, conflicts with both sides, grammar, and byte ranges
 * that split a UTF-8 character.
 */
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadDirectory } from "../../src/mcp/tools/download-directory.js";
import { getObjectBytes } from "../../src/mcp/tools/get-object-bytes.js";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { uploadBytes } from "../../src/mcp/tools/upload-bytes.js";
import { uploadDirectory } from "../../src/mcp/tools/upload-directory.js";
import { callError, callOk } from "../helpers/calls.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { BACKENDS, type RunningServer, s3Cli, startClient, textOf } from "../helpers/start-client.js";
import { filesUnder, makeTempDir, type TempDir } from "../helpers/tmp.js";
import { useToolsServer } from "../helpers/tools-server.js";

describe.each(BACKENDS)("what an assistant reads over stdio, %s backend", (backend) => {
  const fx = useToolsServer(backend);

  it("list_objects: the text names every entry of a full page, one line each, and the cursor to go on", async () => {
    const names = Array.from({ length: 130 }, (_, i) => `run_${String(i).padStart(3, "0")}.csv`);
    const dir = await fx.localDir("page", Object.fromEntries(names.map((n) => [n, "x"])));
    await callOk(fx.client, uploadDirectory, { local_dir: dir, prefix: "page" });
    const keys = names.map((n) => `page/${n}`);
    const result = await fx.client.callTool({ name: "list_objects", arguments: { prefix: "page/", limit: 120 } });
    const text = textOf(result as Parameters<typeof textOf>[0]);
    const lines = text.split("\n");
    expect(lines[0]).toBe('120 objects under "page/"; more follow');
    for (const key of keys.slice(0, 120))
      expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^${key.replace(".", "\\.")}  1 B  \\d{4}-`)));
    const next = (result.structuredContent as { next_cursor: string }).next_cursor;
    expect(lines.at(-1)).toBe(`next_cursor: ${next}`);
    const rest = await callOk(fx.client, listObjects, { prefix: "page/", limit: 120, cursor: next });
    expect(rest.objects.map((o) => o.key)).toEqual(keys.slice(120));
  });

  it("directory dry runs name the keys and files they would write, in text and structured content", async () => {
    const dir = await fx.localDir("dry-up", { "a.csv": "a", "sub/b.csv": "bb" });
    const up = await fx.client.callTool({ name: "upload_directory", arguments: { local_dir: dir, prefix: "dry", dry_run: true } });
    const upKeys = (up.structuredContent as { keys: string[] }).keys;
    expect([...upKeys].sort()).toEqual(["dry/a.csv", "dry/sub/b.csv"]);
    const upText = textOf(up as Parameters<typeof textOf>[0]);
    expect(upText).toContain("would upload 2 files");
    for (const key of upKeys) expect(upText).toContain(`\n  ${key}`);

    await callOk(fx.client, uploadDirectory, { local_dir: dir, prefix: "dry" });
    const out = path.join(fx.root, "dry-down");
    const down = await callOk(fx.client, downloadDirectory, { prefix: "dry", local_dir: out, dry_run: true });
    expect([...down.files].sort()).toEqual([path.join(out, "a.csv"), path.join(out, "sub", "b.csv")]);
    expect(await filesUnder(fx.root)).not.toContainEqual(expect.stringMatching(/^dry-down/));
  });

  it("conflicts carry both sides (local size and mtime; remote size, last_modified, etag) and the text says so", async () => {
    await callOk(fx.client, uploadBytes, { key: "conf/data.csv", data: "remote version, longer" });
    const out = await fx.localDir("conf-down", { "data.csv": "local" });
    const localFile = path.join(out, "data.csv");
    const err = await callError(fx.client, "download_directory", { prefix: "conf", local_dir: out });
    expect(err.text).toMatch(/^already_exists: 1 local file already exists with other content: /);
    expect(err.text).toContain("Both sides: ");
    const details = (err.structuredContent as { conflict_details: unknown[] }).conflict_details;
    expect(details).toEqual([
      {
        key: "conf/data.csv",
        local_path: localFile,
        local: { size: 5, mtime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) },
        remote: { size: 22, last_modified: expect.stringMatching(/^\d{4}-\d\d-\d\dT/), etag: expect.stringMatching(/^[0-9a-f]{32}$/) },
      },
    ]);
    expect(await readFile(localFile, "utf8")).toBe("local");

    const up = await fx.client.callTool({ name: "upload_directory", arguments: { local_dir: out, prefix: "conf", dry_run: true } });
    expect(up.structuredContent).toMatchObject({
      conflicts: ["conf/data.csv"],
      conflict_details: [{ key: "conf/data.csv", local_path: localFile, local: { size: 5 }, remote: { size: 22 } }],
    });
    expect(textOf(up as Parameters<typeof textOf>[0])).toMatch(
      /conflict "conf\/data.csv" ↔ ".*": local 5 B, modified .*; remote 22 B, modified .*, etag [0-9a-f]{32}/,
    );
  });

  it("speaks in grammatical numbers, in results and in the tool descriptions", async () => {
    const overwriteOf = (name: string) =>
      (fx.tools.find((t) => t.name === name)?.inputSchema.properties as Record<string, { description: string }> | undefined)?.overwrite
        ?.description;
    expect(overwriteOf("upload_directory")).toBe("Replace existing objects (else already_exists).");
    expect(overwriteOf("upload_bytes")).toBe("Replace existing object (else already_exists).");
    const dir = await fx.localDir("grammar", { "one.txt": "1" });
    const done = await fx.client.callTool({ name: "upload_directory", arguments: { local_dir: dir, prefix: "grammar" } });
    expect(textOf(done as Parameters<typeof textOf>[0])).toMatch(/^uploaded 1 file, 1 B\n/);
    await writeFile(path.join(dir, "one.txt"), "2");
    const err = await callError(fx.client, "upload_directory", { local_dir: dir, prefix: "grammar" });
    expect(err.text).toMatch(
      /^already_exists: 1 destination key already exists with other content: .* Pass overwrite: true to replace it\./,
    );
  });

  it("a byte range that splits a UTF-8 character returns the valid text and says where it was cut", async () => {
    const text = "héllo wörld"; // é and ö are two bytes each
    await callOk(fx.client, uploadBytes, { key: "utf8/split.txt", data: text });
    // Bytes 2..8 start inside é (its second byte) and end inside ö (its first byte).
    const result = await fx.client.callTool({ name: "get_object_bytes", arguments: { key: "utf8/split.txt", offset: 2, length: 7 } });
    const got = result.structuredContent as { data: string; encoding: string; range: { offset: number; length: number } };
    expect(got).toMatchObject({ data: "llo w", encoding: "utf8", range: { offset: 3, length: 5 } });
    const summary = textOf(result as Parameters<typeof textOf>[0]);
    expect(summary).toContain("splits a UTF-8 character: 1 byte skipped at the start, 1 byte dropped at the end");
    expect(summary.endsWith("\n\nllo w")).toBe(true);

    const whole = await callOk(fx.client, getObjectBytes, { key: "utf8/split.txt", offset: 1, length: 3 });
    expect(whole).toMatchObject({ data: "él", encoding: "utf8", range: { offset: 1, length: 3 } });
  });
});

describe("redaction leaves object keys and data whole (s3 backend)", () => {
  let s3: S3TestServer | undefined;
  let tmp: TempDir | undefined;
  let server: RunningServer | undefined;
  /** Long enough to be a real secret, and used as a folder name in a key on purpose. */
  const LONG_SECRET = "lab-secret-9f3k2m7q";

  beforeAll(async () => {
    s3 = await startS3Server();
    tmp = await makeTempDir("r2mcp-redact-");
    // Credentials as short as fauxqs accepts: "test" is no secret and must not garble keys.
    const cli = s3Cli(s3, ["--root", tmp.path]);
    server = await startClient({
      ...cli,
      env: { ...cli.env, R2_ACCESS_KEY_ID: "test", R2_SECRET_ACCESS_KEY: LONG_SECRET },
      cwd: tmp.path,
      listTools: true,
    });
  });
  afterAll(async () => {
    await server?.close();
    await s3?.close();
    await tmp?.cleanup();
  });

  it("lists keys holding a short credential or the secret itself as they are, in text and structured content", async () => {
    const client = (server as RunningServer).client;
    const keys = ["datasets/mnist/test/img_0000.bin", `runs/${LONG_SECRET}/notes.txt`];
    for (const key of keys) await callOk(client, uploadBytes, { key, data: "test data" });
    const listed = await (server as RunningServer).call("list_objects", {});
    for (const key of keys) expect(listed.text).toContain(`${key}  9 B`);
    expect(listed.text).not.toContain("[redacted]");
    const read = await (server as RunningServer).call("get_object_bytes", { key: keys[0] });
    expect(read.text.endsWith("\n\ntest data")).toBe(true);
    const missing = await callError(client, "download_file", { key: `runs/${LONG_SECRET}/missing.txt`, local_path: "m.txt" });
    expect(missing.text).toBe(`not_found: "runs/${LONG_SECRET}/missing.txt" does not exist`);
  });
});
