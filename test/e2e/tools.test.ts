/**
 * Every tool of SPEC.md over the real stdio transport: the built CLI as a child process, the MCP
 * SDK's Client on this side. One suite, run against the embedded local store and against a real
 * S3-compatible server (fauxqs on 127.0.0.1). One CLI child per backend; each test works under its
 * own key prefix and its own local folder.
 *
 * listTools() is called before any tool, so the SDK client validates every structuredContent
 * (successes and errors) against the tool's output schema.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import { LATEST_PROTOCOL_VERSION, type Tool } from "@modelcontextprotocol/sdk/types.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type S3TestServer, startS3Server, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { makeTempDir, snapshotTree, type TempDir } from "../helpers/tmp.js";
import {
  baseEnv,
  call,
  callError,
  callOk,
  isLateProgressError,
  killChildren,
  localCli,
  PACKAGE_JSON,
  type RunningServer,
  runCli,
  SPEC_ERROR_CODES,
  SPEC_TOOLS,
  s3Cli,
  spawnCli,
  startCli,
  textOf,
} from "./helpers.js";

const ALL_TOOLS: string[] = [...SPEC_TOOLS];
/** SPEC.md "Beyond the tools": may be registered next to the nine; nothing else may. */
const OPTIONAL_TOOLS = ["presign_url"];
const WRITING_TOOLS = ["upload_bytes", "upload_file", "upload_directory", "download_file", "download_directory"];
const READ_ONLY_TOOLS = ["list_buckets", "list_objects", "head_object", "summarize_prefix", "get_object_bytes", "presign_url"];
/** Tools that take no argument at all. */
const NO_ARGUMENT_TOOLS = ["list_buckets"];

/** A 1×1 transparent PNG. */
const PNG_1X1 = Buffer.from("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==", "base64");

const md5 = (data: string | Buffer) => createHash("md5").update(data).digest("hex");
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

async function writeTree(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [relative, content] of Object.entries(files)) {
    const file = path.join(dir, relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }
}

/** Every file under dir (recursive), relative and "/"-separated. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

interface ObjectSummary {
  key: string;
  size: number;
  last_modified: string;
  etag: string;
}
interface ListResult {
  objects: ObjectSummary[];
  prefixes: string[];
  next_cursor?: string;
}
interface PutResult {
  key: string;
  size: number;
  etag: string;
  replaced: boolean;
}
interface GetResult {
  key: string;
  data: string;
  encoding: "utf8" | "base64";
  size: number;
  range: { offset: number; length: number };
  content_type?: string;
}
interface DirectoryResult {
  bytes: number;
  skipped: string[];
  conflicts: string[];
  planned: number;
  dry_run: boolean;
  error?: { code: string; message: string };
}
type UploadDirResult = DirectoryResult & { uploaded: number; keys: string[] };
type DownloadDirResult = DirectoryResult & { downloaded: number; files: string[] };

describe.each(["local", "s3"] as const)("tools over stdio, %s backend", (backend) => {
  let tmp: TempDir;
  let s3: S3TestServer | undefined;
  let server: RunningServer;
  let tools: Tool[];
  /** The server's only root (and its working directory). */
  let root: string;
  /** A directory outside the root. */
  let outside: string;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-e2e-");
    root = path.join(tmp.path, "root");
    outside = path.join(tmp.path, "outside");
    await mkdir(root);
    await mkdir(outside);
    const extra = ["--root", root, "--log-level", "info"];
    let cli: ReturnType<typeof s3Cli>;
    if (backend === "s3") {
      s3 = await startS3Server();
      cli = s3Cli(s3, extra);
    } else {
      cli = localCli(path.join(tmp.path, "store"), extra);
    }
    server = await startCli({ ...cli, cwd: root });
    tools = (await server.client.listTools()).tools;
  });

  afterAll(async () => {
    await server?.close();
    await s3?.close();
    await tmp?.cleanup();
  });

  /** A fresh local folder inside the root for one test. */
  async function localDir(name: string, files: Record<string, string | Buffer> = {}): Promise<string> {
    const dir = path.join(root, name);
    await mkdir(dir, { recursive: true });
    await writeTree(dir, files);
    return dir;
  }

  async function getText(key: string): Promise<string> {
    const got = await callOk<GetResult>(server.client, "get_object_bytes", { key, encoding: "base64", max_bytes: 4 * 1024 * 1024 });
    return Buffer.from(got.data, "base64").toString("utf8");
  }

  async function listAllKeys(prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let cursor: string | undefined;
    do {
      const page: ListResult = await callOk<ListResult>(server.client, "list_objects", {
        prefix,
        limit: 1000,
        ...(cursor ? { cursor } : {}),
      });
      keys.push(...page.objects.map((o) => o.key));
      cursor = page.next_cursor;
    } while (cursor);
    return keys;
  }

  describe("tools/list", () => {
    it("lists exactly the tools of SPEC.md (and nothing but presign_url besides)", () => {
      const names = tools.map((t) => t.name);
      expect(names.filter((n) => !OPTIONAL_TOOLS.includes(n)).sort()).toEqual([...ALL_TOOLS].sort());
      expect(new Set(names).size).toBe(names.length);
    });

    it("describes every tool, every input property, and gives an output schema and annotations", () => {
      for (const tool of tools) {
        expect(tool.description, tool.name).toMatch(/\S{3}/);
        expect(tool.inputSchema.type, tool.name).toBe("object");
        const properties = (tool.inputSchema.properties ?? {}) as Record<string, { description?: unknown }>;
        if (!NO_ARGUMENT_TOOLS.includes(tool.name)) expect(Object.keys(properties).length, tool.name).toBeGreaterThan(0);
        for (const [name, schema] of Object.entries(properties)) {
          expect(typeof schema.description, `${tool.name}.${name} has a description`).toBe("string");
          expect((schema.description as string).length, `${tool.name}.${name}`).toBeGreaterThan(5);
        }
        expect(tool.outputSchema?.type, tool.name).toBe("object");
        const a = tool.annotations;
        expect(a, tool.name).toBeDefined();
        for (const hint of ["readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint"] as const) {
          expect(typeof a?.[hint], `${tool.name}.${hint}`).toBe("boolean");
        }
        expect(a?.openWorldHint, tool.name).toBe(backend === "s3");
      }
    });

    it("marks reading tools read-only and the others not", () => {
      for (const tool of tools) {
        expect(tool.annotations?.readOnlyHint, tool.name).toBe(READ_ONLY_TOOLS.includes(tool.name));
        if (READ_ONLY_TOOLS.includes(tool.name)) expect(tool.annotations?.destructiveHint, tool.name).toBe(false);
      }
      expect(tools.find((t) => t.name === "delete_object")?.annotations?.destructiveHint).toBe(true);
    });

    it("gives every writing tool an optional overwrite flag defaulting to false", () => {
      for (const name of WRITING_TOOLS) {
        const tool = tools.find((t) => t.name === name)!;
        const overwrite = (tool.inputSchema.properties as Record<string, { type?: string; default?: unknown }>).overwrite;
        expect(overwrite, name).toMatchObject({ type: "boolean", default: false });
        expect(tool.inputSchema.required ?? [], name).not.toContain("overwrite");
      }
    });

    it("documents the defaults and ranges of SPEC.md in the input schemas", () => {
      const props = (name: string) => tools.find((t) => t.name === name)!.inputSchema.properties as Record<string, Record<string, unknown>>;
      expect(props("list_objects")).toMatchObject({
        prefix: { default: "" },
        recursive: { default: true },
        limit: { default: 200, minimum: 1, maximum: 1000 },
      });
      expect(props("get_object_bytes")).toMatchObject({
        encoding: { default: "auto", enum: ["auto", "utf8", "base64"] },
        max_bytes: { default: 64 * 1024, maximum: 4 * 1024 * 1024 },
      });
      expect(props("upload_bytes")).toMatchObject({ encoding: { default: "utf8", enum: ["utf8", "base64"] } });
      for (const name of ["upload_directory", "download_directory"]) {
        expect(props(name), name).toMatchObject({ max_workers: { default: 8, minimum: 1, maximum: 64 }, dry_run: { default: false } });
      }
      expect(props("delete_object")).toMatchObject({ missing_ok: { default: true } });
    });
  });

  describe("list_objects", () => {
    it("pages 205 objects: 200 by default, then the rest, no key lost or repeated", async () => {
      const names = Array.from({ length: 205 }, (_, i) => `f${String(i).padStart(3, "0")}.txt`);
      const dir = await localDir("many", Object.fromEntries(names.map((n) => [n, n])));
      const up = await callOk<UploadDirResult>(server.client, "upload_directory", { local_dir: dir, prefix: "many/", max_workers: 16 });
      expect(up.uploaded).toBe(205);
      const expected = names.map((n) => `many/${n}`);

      const first = await callOk<ListResult>(server.client, "list_objects", { prefix: "many/" });
      expect(first.objects).toHaveLength(200);
      expect(first.prefixes).toEqual([]);
      expect(first.next_cursor).toEqual(expect.any(String));
      const second = await callOk<ListResult>(server.client, "list_objects", { prefix: "many/", cursor: first.next_cursor });
      expect(second.objects).toHaveLength(5);
      expect(second.next_cursor).toBeUndefined();
      expect([...first.objects, ...second.objects].map((o) => o.key)).toEqual(expected);

      // Smaller pages that do not divide 205: still every key exactly once, in order.
      const keys: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page: ListResult = await callOk<ListResult>(server.client, "list_objects", {
          prefix: "many/",
          limit: 37,
          ...(cursor ? { cursor } : {}),
        });
        expect(page.objects.length).toBeLessThanOrEqual(37);
        keys.push(...page.objects.map((o) => o.key));
        cursor = page.next_cursor;
        pages++;
      } while (cursor && pages < 20);
      expect(cursor).toBeUndefined();
      expect(keys).toEqual(expected);

      const all = await callOk<ListResult>(server.client, "list_objects", { prefix: "many/", limit: 1000 });
      expect(all.objects).toHaveLength(205);
      expect(all.next_cursor).toBeUndefined();
      const one = await callOk<ListResult>(server.client, "list_objects", { prefix: "many/", limit: 1 });
      expect(one.objects.map((o) => o.key)).toEqual([expected[0]]);
    });

    it("lists recursively by default, one level with prefixes when recursive=false", async () => {
      const files = { "a.txt": "a", "b.txt": "bb", "d1/x.txt": "x", "d2/y.txt": "y", "d3/z/w.txt": "w" };
      const dir = await localDir("levels", files);
      await callOk(server.client, "upload_directory", { local_dir: dir, prefix: "levels" });

      const deep = await callOk<ListResult>(server.client, "list_objects", { prefix: "levels/" });
      expect(deep.objects.map((o) => o.key)).toEqual(
        Object.keys(files)
          .map((k) => `levels/${k}`)
          .sort(),
      );
      expect(deep.prefixes).toEqual([]);
      const b = deep.objects.find((o) => o.key === "levels/b.txt")!;
      expect(b.size).toBe(2);
      expect(b.etag).toBe(md5("bb"));
      expect(b.last_modified).toMatch(ISO_8601);

      const shallow = await callOk<ListResult>(server.client, "list_objects", { prefix: "levels/", recursive: false });
      expect(shallow.objects.map((o) => o.key)).toEqual(["levels/a.txt", "levels/b.txt"]);
      expect(shallow.prefixes).toEqual(["levels/d1/", "levels/d2/", "levels/d3/"]);

      // One level, paged two entries at a time: every object and prefix exactly once.
      const objects: string[] = [];
      const prefixes: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page: ListResult = await callOk<ListResult>(server.client, "list_objects", {
          prefix: "levels/",
          recursive: false,
          limit: 2,
          ...(cursor ? { cursor } : {}),
        });
        expect(page.objects.length + page.prefixes.length).toBeLessThanOrEqual(2);
        objects.push(...page.objects.map((o) => o.key));
        prefixes.push(...page.prefixes);
        cursor = page.next_cursor;
        pages++;
      } while (cursor && pages < 10);
      expect(cursor).toBeUndefined();
      expect(objects).toEqual(["levels/a.txt", "levels/b.txt"]);
      expect(prefixes).toEqual(["levels/d1/", "levels/d2/", "levels/d3/"]);

      const empty = await callOk<ListResult>(server.client, "list_objects", { prefix: "levels/none/" });
      expect(empty).toEqual({ objects: [], prefixes: [] });
    });

    it("refuses a limit out of range and a cursor it did not produce", async () => {
      for (const limit of [0, 1001, -1]) {
        const err = await callError(server.client, "list_objects", { limit });
        expect(err.text.startsWith("invalid_argument"), `limit ${limit}`).toBe(true);
        expect(err.text).toContain("limit");
      }
      for (const cursor of ["bogus", "eyJ2IjoxfQ", ""]) {
        const err = await callError(server.client, "list_objects", { cursor });
        expect(err.text.startsWith("invalid_argument"), `cursor ${JSON.stringify(cursor)}`).toBe(true);
      }
    });
  });

  describe("head_object", () => {
    it("reports size, etag, content type and an ISO 8601 time for an existing key", async () => {
      const body = "col\n1\n2\n";
      await callOk(server.client, "upload_bytes", { key: "head/table.csv", data: body, content_type: "text/csv" });
      const head = await callOk<Record<string, unknown>>(server.client, "head_object", { key: "head/table.csv" });
      expect(head).toMatchObject({ exists: true, key: "head/table.csv", size: Buffer.byteLength(body), etag: md5(body) });
      expect(head.content_type).toMatch(/^text\/csv/);
      expect(head.last_modified).toMatch(ISO_8601);
      expect(Number.isNaN(Date.parse(head.last_modified as string))).toBe(false);
    });

    it("answers exists:false for a missing key, without an error", async () => {
      const result = await call(server.client, "head_object", { key: "head/missing.txt" });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toEqual({ exists: false, key: "head/missing.txt" });
    });
  });

  describe("get_object_bytes", () => {
    beforeAll(async () => {
      await callOk(server.client, "upload_bytes", { key: "get/text.txt", data: "héllo wörld ✓\n" });
      await callOk(server.client, "upload_bytes", { key: "get/digits.txt", data: "0123456789" });
      await callOk(server.client, "upload_bytes", {
        key: "get/blob.bin",
        data: Buffer.from([0xff, 0xfe, 0x00, 0x01, 0x80]).toString("base64"),
        encoding: "base64",
      });
      await callOk(server.client, "upload_bytes", { key: "get/pixel.png", data: PNG_1X1.toString("base64"), encoding: "base64" });
    });

    it("returns UTF-8 text as utf8 under auto", async () => {
      const body = "héllo wörld ✓\n";
      const got = await callOk<GetResult>(server.client, "get_object_bytes", { key: "get/text.txt" });
      expect(got).toMatchObject({ key: "get/text.txt", data: body, encoding: "utf8", size: Buffer.byteLength(body) });
      expect(got.range).toEqual({ offset: 0, length: Buffer.byteLength(body) });
      expect(got.content_type).toMatch(/^text\/plain/);
      const asBase64 = await callOk<GetResult>(server.client, "get_object_bytes", { key: "get/text.txt", encoding: "base64" });
      expect(asBase64.encoding).toBe("base64");
      expect(Buffer.from(asBase64.data, "base64").toString("utf8")).toBe(body);
    });

    it("returns non-UTF-8 bytes as base64 under auto, and refuses encoding utf8 for them", async () => {
      const got = await callOk<GetResult>(server.client, "get_object_bytes", { key: "get/blob.bin" });
      expect(got.encoding).toBe("base64");
      expect([...Buffer.from(got.data, "base64")]).toEqual([0xff, 0xfe, 0x00, 0x01, 0x80]);
      expect(got.size).toBe(5);
      const err = await callError(server.client, "get_object_bytes", { key: "get/blob.bin", encoding: "utf8" });
      expect(err.text).toMatch(/^invalid_argument: /);
    });

    it("reads byte ranges with offset and length", async () => {
      const mid = await callOk<GetResult>(server.client, "get_object_bytes", { key: "get/digits.txt", offset: 2, length: 3 });
      expect(mid).toMatchObject({ data: "234", size: 10, range: { offset: 2, length: 3 } });
      const tail = await callOk<GetResult>(server.client, "get_object_bytes", { key: "get/digits.txt", offset: 7 });
      expect(tail).toMatchObject({ data: "789", range: { offset: 7, length: 3 } });
      const head = await callOk<GetResult>(server.client, "get_object_bytes", { key: "get/digits.txt", length: 4 });
      expect(head).toMatchObject({ data: "0123", range: { offset: 0, length: 4 } });
      for (const args of [{ offset: -1 }, { length: 0 }]) {
        const err = await callError(server.client, "get_object_bytes", { key: "get/digits.txt", ...args });
        expect(err.text, JSON.stringify(args)).toMatch(/^invalid_argument: /);
      }
    });

    it("refuses an object over max_bytes without a range, naming download_file; a range within it works", async () => {
      const small = await callError(server.client, "get_object_bytes", { key: "get/digits.txt", max_bytes: 4 });
      expect(small.text).toMatch(/^too_large: /);
      expect(small.text).toContain("download_file");

      // The default cap is 64 KiB.
      const big = "x".repeat(64 * 1024 + 1);
      await callOk(server.client, "upload_bytes", { key: "get/big.txt", data: big });
      const over = await callError(server.client, "get_object_bytes", { key: "get/big.txt" });
      expect(over.text).toMatch(/^too_large: /);
      expect(over.text).toContain("download_file");
      const range = await callOk<GetResult>(server.client, "get_object_bytes", { key: "get/big.txt", offset: 1000, length: 10 });
      expect(range).toMatchObject({ data: "x".repeat(10), size: big.length });
      const raised = await callOk<GetResult>(server.client, "get_object_bytes", { key: "get/big.txt", max_bytes: 128 * 1024 });
      expect(raised.data).toBe(big);
    });

    it("refuses max_bytes of 0 or above 4 MiB", async () => {
      for (const max_bytes of [0, 4 * 1024 * 1024 + 1]) {
        const err = await callError(server.client, "get_object_bytes", { key: "get/digits.txt", max_bytes });
        expect(err.text, `max_bytes ${max_bytes}`).toMatch(/^invalid_argument: /);
      }
      const atCap = await callOk<GetResult>(server.client, "get_object_bytes", { key: "get/digits.txt", max_bytes: 4 * 1024 * 1024 });
      expect(atCap.data).toBe("0123456789");
    });

    it("answers not_found for a missing key", async () => {
      const err = await callError(server.client, "get_object_bytes", { key: "get/missing.txt" });
      expect(err.text).toMatch(/^not_found: /);
      expect(err.text).toContain("get/missing.txt");
    });

    it("also returns a small PNG as MCP image content", async () => {
      const result = await call(server.client, "get_object_bytes", { key: "get/pixel.png" });
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ encoding: "base64", data: PNG_1X1.toString("base64"), content_type: "image/png" });
      expect(result.content[0]?.type).toBe("text");
      expect(result.content).toContainEqual({ type: "image", mimeType: "image/png", data: PNG_1X1.toString("base64") });
      // Text is not an image.
      const text = await call(server.client, "get_object_bytes", { key: "get/text.txt" });
      expect(text.content.map((c) => c.type)).toEqual(["text"]);
    });
  });

  describe("upload_bytes", () => {
    it("writes utf8 and base64 data", async () => {
      const text = await callOk<PutResult>(server.client, "upload_bytes", { key: "ub/text.txt", data: "plain text ✓" });
      expect(text).toEqual({ key: "ub/text.txt", size: Buffer.byteLength("plain text ✓"), etag: md5("plain text ✓"), replaced: false });
      expect(await getText("ub/text.txt")).toBe("plain text ✓");

      const bytes = Buffer.from([0, 1, 2, 250, 251, 252]);
      const bin = await callOk<PutResult>(server.client, "upload_bytes", {
        key: "ub/data.bin",
        data: bytes.toString("base64"),
        encoding: "base64",
      });
      expect(bin).toEqual({ key: "ub/data.bin", size: 6, etag: md5(bytes), replaced: false });
      const back = await callOk<GetResult>(server.client, "get_object_bytes", { key: "ub/data.bin" });
      expect(Buffer.from(back.data, "base64").equals(bytes)).toBe(true);
    });

    it("refuses an existing key without overwrite and leaves it unchanged; replaces it with overwrite", async () => {
      await callOk(server.client, "upload_bytes", { key: "ub/keep.txt", data: "original" });
      const err = await callError(server.client, "upload_bytes", { key: "ub/keep.txt", data: "intruder" });
      expect(err.text).toMatch(/^already_exists: /);
      expect(err.text).toContain("ub/keep.txt");
      expect(err.text).toContain("overwrite: true");
      expect(await getText("ub/keep.txt")).toBe("original");

      const replaced = await callOk<PutResult>(server.client, "upload_bytes", { key: "ub/keep.txt", data: "second", overwrite: true });
      expect(replaced).toMatchObject({ key: "ub/keep.txt", size: 6, replaced: true });
      expect(await getText("ub/keep.txt")).toBe("second");

      const fresh = await callOk<PutResult>(server.client, "upload_bytes", { key: "ub/fresh.txt", data: "new", overwrite: true });
      expect(fresh.replaced).toBe(false);
    });

    it("refuses bad base64", async () => {
      for (const data of ["not base64!!", "abc", "QUJD=A=="]) {
        const err = await callError(server.client, "upload_bytes", { key: "ub/bad.bin", data, encoding: "base64" });
        expect(err.text, data).toMatch(/^invalid_argument: /);
      }
      expect((await callOk(server.client, "head_object", { key: "ub/bad.bin" })).exists).toBe(false);
    });

    it("refuses more than 5 MiB of decoded data, pointing to upload_file", async () => {
      const err = await callError(server.client, "upload_bytes", { key: "ub/huge.txt", data: "a".repeat(5 * 1024 * 1024 + 1) });
      expect(err.text).toMatch(/^too_large: /);
      expect(err.text).toContain("upload_file");
      expect((await callOk(server.client, "head_object", { key: "ub/huge.txt" })).exists).toBe(false);
    });

    // The limit is checked by the tool before the store is involved: one backend is enough.
    it.runIf(backend === "local")("accepts exactly 5 MiB", async () => {
      const exact = await callOk<PutResult>(server.client, "upload_bytes", { key: "ub/five.txt", data: "b".repeat(5 * 1024 * 1024) });
      expect(exact.size).toBe(5 * 1024 * 1024);
    });

    it("refuses invalid keys", async () => {
      for (const key of ["", "a\0b", "k".repeat(1025)]) {
        const err = await callError(server.client, "upload_bytes", { key, data: "x" });
        expect(err.text, JSON.stringify(key.slice(0, 10))).toMatch(/^invalid_argument: /);
      }
    });
  });

  describe("upload_file", () => {
    it("uploads a file (absolute or relative to the working directory) and refuses to replace without overwrite", async () => {
      const dir = await localDir("uf", { "report.txt": "report v1", "other.txt": "report v2" });
      const put = await callOk<PutResult>(server.client, "upload_file", { local_path: path.join(dir, "report.txt"), key: "uf/report.txt" });
      expect(put).toEqual({ key: "uf/report.txt", size: 9, etag: md5("report v1"), replaced: false });
      expect(await getText("uf/report.txt")).toBe("report v1");

      const err = await callError(server.client, "upload_file", { local_path: path.join(dir, "other.txt"), key: "uf/report.txt" });
      expect(err.text).toMatch(/^already_exists: /);
      expect(err.text).toContain("overwrite: true");
      expect(await getText("uf/report.txt")).toBe("report v1");

      const relative = await callOk<PutResult>(server.client, "upload_file", {
        local_path: "uf/other.txt",
        key: "uf/report.txt",
        overwrite: true,
      });
      expect(relative.replaced).toBe(true);
      expect(await getText("uf/report.txt")).toBe("report v2");
    });

    it("answers not_found for a missing local file and invalid_argument for a directory", async () => {
      const dir = await localDir("uf-errors", { "inside/f.txt": "f" });
      const missing = await callError(server.client, "upload_file", { local_path: path.join(dir, "nope.txt"), key: "uf/nope.txt" });
      expect(missing.text).toMatch(/^not_found: /);
      const folder = await callError(server.client, "upload_file", { local_path: path.join(dir, "inside"), key: "uf/inside" });
      expect(folder.text).toMatch(/^invalid_argument: /);
      expect((await callOk(server.client, "list_objects", { prefix: "uf/" })).objects).toEqual(
        expect.not.arrayContaining([expect.objectContaining({ key: "uf/nope.txt" }), expect.objectContaining({ key: "uf/inside" })]),
      );
    });

    it("refuses a path outside the server's roots", async () => {
      const err = await callError(server.client, "upload_file", { local_path: "/etc/passwd", key: "uf/passwd" });
      expect(err.text).toMatch(/^outside_roots: /);
      await writeFile(path.join(outside, "secret.txt"), "not yours");
      const escaped = await callError(server.client, "upload_file", { local_path: "../outside/secret.txt", key: "uf/secret.txt" });
      expect(escaped.text).toMatch(/^outside_roots: /);
      expect((await callOk(server.client, "head_object", { key: "uf/passwd" })).exists).toBe(false);
      expect((await callOk(server.client, "head_object", { key: "uf/secret.txt" })).exists).toBe(false);
    });
  });

  describe("upload_directory", () => {
    const tree = {
      "top.txt": "top",
      "sub/with space.txt": "spaced out",
      "sub/deeper/ünïcødé 文件.bin": Buffer.from([1, 2, 3, 4, 5]),
    };
    const treeKeys = Object.keys(tree)
      .map((k) => `ud/${k}`)
      .sort();

    it("uploads a nested tree with unicode and space names, keys joined with /", async () => {
      const dir = await localDir("ud-src", tree);
      const up = await callOk<UploadDirResult>(server.client, "upload_directory", { local_dir: dir, prefix: "ud" });
      expect(up).toMatchObject({ uploaded: 3, bytes: 3 + 10 + 5, skipped: [], conflicts: [], planned: 3, dry_run: false });
      expect([...up.keys].sort()).toEqual(treeKeys);
      expect(await listAllKeys("ud/")).toEqual(treeKeys);
      expect(await getText("ud/sub/with space.txt")).toBe("spaced out");
      const bin = await callOk<GetResult>(server.client, "get_object_bytes", { key: "ud/sub/deeper/ünïcødé 文件.bin", encoding: "base64" });
      expect([...Buffer.from(bin.data, "base64")]).toEqual([1, 2, 3, 4, 5]);
    });

    it("skips destinations that already hold identical bytes", async () => {
      const again = await callOk<UploadDirResult>(server.client, "upload_directory", {
        local_dir: path.join(root, "ud-src"),
        prefix: "ud/",
      });
      expect(again).toMatchObject({ uploaded: 0, bytes: 0, keys: [], conflicts: [] });
      expect([...again.skipped].sort()).toEqual(treeKeys);
    });

    it("fails the whole call on a conflict, listing it, and writes nothing", async () => {
      const dir = await localDir("ud-conflict", { "top.txt": "a different top", "brand-new.txt": "new" });
      const err = await callError(server.client, "upload_directory", { local_dir: dir, prefix: "ud" });
      expect(err.text).toMatch(/^already_exists: /);
      expect(err.text).toContain("ud/top.txt");
      expect(err.structuredContent).toMatchObject({ uploaded: 0, conflicts: ["ud/top.txt"], error: { code: "already_exists" } });
      expect(await getText("ud/top.txt")).toBe("top");
      expect((await callOk(server.client, "head_object", { key: "ud/brand-new.txt" })).exists).toBe(false);

      const dry = await callOk<UploadDirResult>(server.client, "upload_directory", { local_dir: dir, prefix: "ud", dry_run: true });
      expect(dry).toMatchObject({ uploaded: 0, planned: 1, conflicts: ["ud/top.txt"], dry_run: true });
      expect((await callOk(server.client, "head_object", { key: "ud/brand-new.txt" })).exists).toBe(false);

      const forced = await callOk<UploadDirResult>(server.client, "upload_directory", { local_dir: dir, prefix: "ud", overwrite: true });
      expect(forced.uploaded).toBe(2);
      expect(await getText("ud/top.txt")).toBe("a different top");
      expect(await getText("ud/brand-new.txt")).toBe("new");
    });

    it("dry_run reports what would be uploaded and writes nothing", async () => {
      const dir = await localDir("ud-dry", { "one.txt": "1", "two/three.txt": "333" });
      const dry = await callOk<UploadDirResult>(server.client, "upload_directory", { local_dir: dir, prefix: "ud-dry/", dry_run: true });
      expect(dry).toMatchObject({ uploaded: 0, bytes: 0, keys: [], planned: 2, skipped: [], conflicts: [], dry_run: true });
      expect(await listAllKeys("ud-dry/")).toEqual([]);
    });

    it("refuses max_workers out of 1..64 and a local_dir that is a file", async () => {
      const dir = await localDir("ud-args", { "f.txt": "f" });
      for (const max_workers of [0, 65]) {
        const err = await callError(server.client, "upload_directory", { local_dir: dir, prefix: "ud-args", max_workers });
        expect(err.text, `max_workers ${max_workers}`).toMatch(/^invalid_argument: /);
        expect(err.text).toContain("max_workers");
      }
      const file = await callError(server.client, "upload_directory", { local_dir: path.join(dir, "f.txt"), prefix: "ud-args" });
      expect(file.text).toMatch(/^not_a_directory: /);
      const missing = await callError(server.client, "upload_directory", { local_dir: path.join(dir, "nope"), prefix: "ud-args" });
      expect(missing.text).toMatch(/^not_found: /);
      const out = await callError(server.client, "upload_directory", { local_dir: outside, prefix: "ud-args" });
      expect(out.text).toMatch(/^outside_roots: /);
      expect(await listAllKeys("ud-args/")).toEqual([]);
    });

    it("sends progress notifications ending with progress equal to total, all before the result", async () => {
      const dir = await localDir("ud-progress", {
        "a.bin": Buffer.alloc(300_000, 1),
        "b.bin": Buffer.alloc(200_000, 2),
        "c/d.bin": Buffer.alloc(100_000, 3),
      });
      const updates: Record<string, unknown>[] = [];
      const from = server.received.length;
      // onprogress makes the SDK client put a progressToken in the request's _meta.
      const result = await server.client.callTool(
        { name: "upload_directory", arguments: { local_dir: dir, prefix: "ud-progress" } },
        undefined,
        { onprogress: (p) => updates.push({ ...p }) },
      );
      expect(result.isError).toBeFalsy();
      expect(result.structuredContent).toMatchObject({ uploaded: 3, planned: 3 });

      // What the server wrote, in wire order (see RunningServer.received for why not onprogress alone).
      const wire = server.received.slice(from);
      const progress = wire.flatMap((m) => (m.kind === "progress" ? [m.params] : []));
      expect(progress.length).toBeGreaterThanOrEqual(1);
      const last = progress.at(-1)!;
      expect(last.total).toBe(600_000);
      expect(last.progress).toBe(last.total);
      for (let i = 1; i < progress.length; i++) expect(progress[i]!.progress).toBeGreaterThan(progress[i - 1]!.progress);
      expect(new Set(progress.map((p) => p.progressToken)).size).toBe(1);
      const lastProgressAt = wire.findLastIndex((m) => m.kind === "progress");
      const responseAt = wire.findIndex((m) => m.kind === "response");
      expect(lastProgressAt).toBeLessThan(responseAt);
      // The caller's onprogress saw those notifications, in order (possibly not the last ones).
      expect(updates).toEqual(progress.slice(0, updates.length).map(({ progressToken: _token, ...rest }) => rest));
    });

    it("sends no progress when the request has no progressToken", async () => {
      const dir = await localDir("ud-no-progress", { "a.bin": Buffer.alloc(10_000, 1) });
      const from = server.received.length;
      await callOk(server.client, "upload_directory", { local_dir: dir, prefix: "ud-no-progress" });
      expect(server.received.slice(from).filter((m) => m.kind === "progress")).toEqual([]);
    });
  });

  describe("download_file", () => {
    beforeAll(async () => {
      await callOk(server.client, "upload_bytes", { key: "df/data.csv", data: "a,b\n1,2\n" });
      await callOk(server.client, "upload_bytes", { key: "df/other.csv", data: "other" });
    });

    it("saves an object, creating parent folders", async () => {
      const target = path.join(root, "df", "nested", "data.csv");
      const got = await callOk<Record<string, unknown>>(server.client, "download_file", { key: "df/data.csv", local_path: target });
      expect(got).toEqual({ local_path: target, size: 8, etag: md5("a,b\n1,2\n") });
      expect(await readFile(target, "utf8")).toBe("a,b\n1,2\n");
      const relative = await callOk<Record<string, unknown>>(server.client, "download_file", {
        key: "df/data.csv",
        local_path: "df/relative.csv",
      });
      expect(relative.local_path).toBe(path.join(root, "df", "relative.csv"));
      expect(await readFile(path.join(root, "df", "relative.csv"), "utf8")).toBe("a,b\n1,2\n");
    });

    it("refuses an existing file without overwrite and leaves it unchanged; replaces it with overwrite", async () => {
      const target = path.join(root, "df", "existing.csv");
      await writeFile(target, "precious local edits");
      const err = await callError(server.client, "download_file", { key: "df/other.csv", local_path: target });
      expect(err.text).toMatch(/^already_exists: /);
      expect(err.text).toContain("overwrite: true");
      expect(await readFile(target, "utf8")).toBe("precious local edits");

      const replaced = await callOk<Record<string, unknown>>(server.client, "download_file", {
        key: "df/other.csv",
        local_path: target,
        overwrite: true,
      });
      expect(replaced.size).toBe(5);
      expect(await readFile(target, "utf8")).toBe("other");
    });

    it("answers not_found for a missing key and writes nothing", async () => {
      const target = path.join(root, "df", "missing.csv");
      const err = await callError(server.client, "download_file", { key: "df/missing.csv", local_path: target });
      expect(err.text).toMatch(/^not_found: /);
      expect(existsSync(target)).toBe(false);
    });

    it("refuses a target outside the server's roots", async () => {
      const target = path.join(outside, "stolen.csv");
      const err = await callError(server.client, "download_file", { key: "df/data.csv", local_path: target });
      expect(err.text).toMatch(/^outside_roots: /);
      expect(existsSync(target)).toBe(false);
    });

    it("leaves no temporary part files behind", async () => {
      const leftovers = (await filesUnder(path.join(root, "df"))).filter((f) => f.endsWith(".r2-mcp-part"));
      expect(leftovers).toEqual([]);
      expect(await filesUnder(path.join(root, "df"))).toEqual(["existing.csv", "nested/data.csv", "relative.csv"]);
    });
  });

  describe("download_directory", () => {
    const tree = {
      "readme.md": "# data\n",
      "runs/1/metrics.csv": "step,loss\n1,0.5\n",
      "runs/2/ünï côde.txt": "ü",
      "runs/2/weights.bin": Buffer.from([9, 8, 7, 0, 255]),
    };
    let source: string;

    beforeAll(async () => {
      source = await localDir("dd-src", tree);
      await callOk(server.client, "upload_directory", { local_dir: source, prefix: "dd" });
    });

    it("creates the directory and recreates the structure below the prefix", async () => {
      const target = path.join(root, "dd-out", "fresh");
      const got = await callOk<DownloadDirResult>(server.client, "download_directory", { prefix: "dd", local_dir: target });
      expect(got).toMatchObject({ downloaded: 4, conflicts: [], skipped: [], dry_run: false });
      expect(got.bytes).toBe(7 + 16 + 2 + 5);
      expect([...got.files].sort()).toEqual(
        Object.keys(tree)
          .map((k) => path.join(target, k))
          .sort(),
      );
      expect(await snapshotTree(target)).toEqual(await snapshotTree(source));
    });

    it("skips identical files, refuses a conflict (listing it, writing nothing), and replaces with overwrite", async () => {
      const target = path.join(root, "dd-out", "fresh");
      const again = await callOk<DownloadDirResult>(server.client, "download_directory", { prefix: "dd/", local_dir: target });
      expect(again).toMatchObject({ downloaded: 0, files: [] });
      expect(again.skipped).toHaveLength(4);

      const edited = path.join(target, "runs", "1", "metrics.csv");
      await writeFile(edited, "local edits");
      await rm(path.join(target, "readme.md"));
      const before = await snapshotTree(target);
      const err = await callError(server.client, "download_directory", { prefix: "dd", local_dir: target });
      expect(err.text).toMatch(/^already_exists: /);
      expect(err.structuredContent).toMatchObject({ downloaded: 0, conflicts: [edited], error: { code: "already_exists" } });
      expect(await snapshotTree(target)).toEqual(before);

      const dry = await callOk<DownloadDirResult>(server.client, "download_directory", { prefix: "dd", local_dir: target, dry_run: true });
      expect(dry).toMatchObject({ downloaded: 0, planned: 1, conflicts: [edited], dry_run: true });
      expect(await snapshotTree(target)).toEqual(before);

      const forced = await callOk<DownloadDirResult>(server.client, "download_directory", {
        prefix: "dd",
        local_dir: target,
        overwrite: true,
      });
      expect(forced.downloaded).toBe(2);
      expect(await snapshotTree(target)).toEqual(await snapshotTree(source));
    });

    it("dry_run creates nothing", async () => {
      const target = path.join(root, "dd-out", "dry");
      const dry = await callOk<DownloadDirResult>(server.client, "download_directory", { prefix: "dd", local_dir: target, dry_run: true });
      expect(dry).toMatchObject({ downloaded: 0, bytes: 0, files: [], planned: 4, dry_run: true });
      expect(existsSync(target)).toBe(false);
    });

    it("refuses max_workers out of range, a file as local_dir, and a directory outside the roots", async () => {
      for (const max_workers of [0, 65]) {
        const err = await callError(server.client, "download_directory", {
          prefix: "dd",
          local_dir: path.join(root, "dd-out", "w"),
          max_workers,
        });
        expect(err.text).toMatch(/^invalid_argument: /);
      }
      const file = path.join(root, "dd-out", "a-file");
      await writeFile(file, "x");
      const notDir = await callError(server.client, "download_directory", { prefix: "dd", local_dir: file });
      expect(notDir.text).toMatch(/^not_a_directory: /);
      const out = await callError(server.client, "download_directory", { prefix: "dd", local_dir: path.join(outside, "dd") });
      expect(out.text).toMatch(/^outside_roots: /);
      expect(existsSync(path.join(outside, "dd"))).toBe(false);
      expect(existsSync(path.join(root, "dd-out", "w"))).toBe(false);
    });

    it("leaves no temporary part files behind", async () => {
      const leftovers = (await filesUnder(path.join(root, "dd-out"))).filter((f) => f.endsWith(".r2-mcp-part"));
      expect(leftovers).toEqual([]);
    });
  });

  describe("delete_object", () => {
    it("deletes, reports whether the key existed, and honours missing_ok", async () => {
      await callOk(server.client, "upload_bytes", { key: "del/x.txt", data: "x" });
      expect(await callOk(server.client, "delete_object", { key: "del/x.txt" })).toEqual({ key: "del/x.txt", existed: true });
      expect((await callOk(server.client, "head_object", { key: "del/x.txt" })).exists).toBe(false);
      expect(await callOk(server.client, "delete_object", { key: "del/x.txt" })).toEqual({ key: "del/x.txt", existed: false });
      const err = await callError(server.client, "delete_object", { key: "del/x.txt", missing_ok: false });
      expect(err.text).toMatch(/^not_found: /);
      expect(err.text).toContain("del/x.txt");
    });
  });

  describe("protocol", () => {
    it("answers an unknown tool and a wrongly typed argument with the SDK's error, and keeps serving", async () => {
      const unknown = await call(server.client, "no_such_tool", {});
      // McpServer turns both into an isError result carrying the JSON-RPC InvalidParams text.
      expect(unknown.isError).toBe(true);
      expect(textOf(unknown)).toMatch(/-32602.*no_such_tool not found/);

      const wrongType = await call(server.client, "list_objects", { limit: "ten" });
      expect(wrongType.isError).toBe(true);
      expect(textOf(wrongType)).toMatch(/-32602.*Input validation error/);
      const missingArg = await call(server.client, "head_object", {});
      expect(missingArg.isError).toBe(true);
      const extraArg = await call(server.client, "head_object", { key: "k", surprise: true });
      expect(extraArg.isError).toBe(true);
      expect(SPEC_ERROR_CODES.some((code) => textOf(wrongType).startsWith(code))).toBe(false);

      expect((await server.client.listTools()).tools.map((t) => t.name)).toEqual(tools.map((t) => t.name));
      expect((await callOk(server.client, "head_object", { key: "still/serving" })).exists).toBe(false);
    });

    it("names itself after package.json and tells the assistant the no-overwrite rule", () => {
      expect(server.client.getServerVersion()).toMatchObject({ name: PACKAGE_JSON.name, version: PACKAGE_JSON.version });
      const instructions = server.client.getInstructions() ?? "";
      expect(instructions).toContain("overwrite");
      expect(instructions).toContain("download_file");
      expect(server.client.getServerCapabilities()?.logging).toBeDefined();
    });

    it("keeps stdout for JSON-RPC: logs went to stderr, the client saw no stray output", () => {
      expect(server.transportErrors.filter((e) => !isLateProgressError(e))).toEqual([]);
      expect(server.stderr()).toMatch(/^r2-mcp info: serving /m);
      expect(server.stderr()).toMatch(/^r2-mcp info: uploaded bytes /m);
      expect(server.stderr()).not.toContain("jsonrpc");
    });

    it.runIf(backend === "s3")("never prints the credentials", () => {
      expect(server.stderr()).not.toContain(TEST_SECRET_ACCESS_KEY);
      expect(server.stderr()).not.toContain(TEST_ACCESS_KEY_ID);
    });
  });
});

describe("the r2-mcp process", () => {
  let tmp: TempDir;
  let s3: S3TestServer;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-e2e-cli-");
    s3 = await startS3Server();
  });

  afterAll(async () => {
    await killChildren();
    await s3?.close();
    await tmp?.cleanup();
  });

  it("prints --help and --version to stdout and exits 0 without starting a server", async () => {
    const [help, version] = await Promise.all([
      runCli(["--help"], { cwd: tmp.path, closeStdin: false }),
      runCli(["--version"], { cwd: tmp.path, closeStdin: false }),
    ]);
    expect(help).toMatchObject({ code: 0, stderr: "" });
    expect(help.stdout).toMatch(/^Usage:/m);
    expect(help.stdout).toContain("--local DIR");
    expect(help.stdout).toContain("--read-only");
    expect(help.stdout).not.toContain("jsonrpc");
    expect(version).toMatchObject({ code: 0, stderr: "" });
    expect(version.stdout.trim()).toBe(`${PACKAGE_JSON.name} ${PACKAGE_JSON.version}`);
  });

  it("stops at start-up with one stderr line naming the missing setting, never the secret", async () => {
    const credentials = { R2_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY };
    const cases: { args: string[]; env: Record<string, string>; names: string[] }[] = [
      { args: ["--endpoint", s3.endpoint], env: baseEnv(credentials), names: ["R2_BUCKET", "R2_BUCKET_NAME", "--bucket"] },
      {
        args: ["--bucket", s3.bucket, "--endpoint", s3.endpoint],
        env: baseEnv({ R2_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID }),
        names: ["R2_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"],
      },
      { args: ["--bucket", "Not_A_Bucket", "--endpoint", s3.endpoint], env: baseEnv(credentials), names: ["--bucket", "R2_BUCKET"] },
    ];
    const runs = await Promise.all(cases.map((c) => runCli(c.args, { cwd: tmp.path, env: c.env })));
    cases.forEach((c, i) => {
      const run = runs[i]!;
      const label = c.names[0]!;
      expect(run.code, label).not.toBe(0);
      expect(run.code, label).not.toBeNull();
      expect(run.stdout, label).toBe("");
      const lines = run.stderr.split("\n").filter((l) => l !== "");
      expect(lines, label).toHaveLength(1);
      for (const name of c.names) expect(lines[0], label).toContain(name);
      expect(run.stderr, label).not.toContain(TEST_SECRET_ACCESS_KEY);
    });
  });

  it("registers no tool that changes the bucket with --read-only (or R2_MCP_READ_ONLY=1)", async () => {
    const store = path.join(tmp.path, "ro-store");
    for (const [args, env] of [
      [["--local", store, "--read-only"], baseEnv()],
      [["--local", store], baseEnv({ R2_MCP_READ_ONLY: "1" })],
    ] as const) {
      const server = await startCli({ args: [...args], env, cwd: tmp.path });
      try {
        const names = (await server.client.listTools()).tools.map((t) => t.name).filter((n) => !OPTIONAL_TOOLS.includes(n));
        expect(names.sort()).toEqual([
          "download_directory",
          "download_file",
          "get_object_bytes",
          "head_object",
          "list_buckets",
          "list_objects",
          "summarize_prefix",
        ]);
        const refused = await call(server.client, "upload_bytes", { key: "a.txt", data: "x" });
        expect(refused.isError).toBe(true);
        expect(textOf(refused)).toContain("not found");
        expect((await callOk(server.client, "list_objects", {})).objects).toEqual([]);
      } finally {
        await server.close();
      }
    }
  });

  it("writes only JSON-RPC to stdout, logs to stderr, and survives malformed input", async () => {
    const root = path.join(tmp.path, "raw");
    await mkdir(root);
    const child = spawnCli(["--local", path.join(root, "store"), "--root", root, "--log-level", "debug"], { cwd: root });
    const lines: string[] = [];
    const waiting = new Map<number, (message: Record<string, unknown>) => void>();
    let pending = "";
    let stderr = "";
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
    child.stdout.on("data", (chunk: Buffer) => {
      pending += chunk.toString("utf8");
      for (let nl = pending.indexOf("\n"); nl >= 0; nl = pending.indexOf("\n")) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        lines.push(line);
        try {
          const message = JSON.parse(line) as Record<string, unknown>;
          if (typeof message.id === "number" && !("method" in message)) waiting.get(message.id)?.(message);
        } catch {
          // Recorded in lines; the assertions below report it.
        }
      }
    });
    const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
    const send = (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`);
    const request = (id: number, method: string, params: Record<string, unknown> = {}) =>
      new Promise<Record<string, unknown>>((resolve) => {
        waiting.set(id, resolve);
        send({ jsonrpc: "2.0", id, method, params });
      });

    const init = await request(1, "initialize", {
      protocolVersion: LATEST_PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: "raw-e2e", version: "0" },
    });
    expect(init.result).toMatchObject({ serverInfo: { name: PACKAGE_JSON.name, version: PACKAGE_JSON.version } });
    send({ jsonrpc: "2.0", method: "notifications/initialized" });
    child.stdin.write("{ this is not json\n");
    send({ jsonrpc: "2.0", hello: "not a JSON-RPC message" });
    const list = await request(2, "tools/list");
    const listed = (list.result as { tools: { name: string }[] }).tools.map((t) => t.name);
    expect(listed).toEqual(expect.arrayContaining(ALL_TOOLS));
    const created = await request(3, "tools/call", { name: "upload_bytes", arguments: { key: "a.txt", data: "x" } });
    expect(created.result).toMatchObject({ structuredContent: { key: "a.txt", replaced: false } });
    const refused = await request(4, "tools/call", { name: "upload_bytes", arguments: { key: "a.txt", data: "y" } });
    expect(refused.result).toMatchObject({ isError: true });
    const unknownMethod = await request(5, "no/such/method");
    expect(unknownMethod.error).toMatchObject({ code: -32601 });
    child.stdin.end();
    expect(await exited).toBe(0);

    expect(pending).toBe("");
    expect(lines.length).toBeGreaterThanOrEqual(5);
    for (const line of lines) {
      let message: unknown;
      expect(() => (message = JSON.parse(line)), line).not.toThrow();
      expect(message, line).toMatchObject({ jsonrpc: "2.0" });
    }
    expect(stderr).toMatch(/^r2-mcp info: serving local store /m);
    expect(stderr).toMatch(/^r2-mcp info: uploaded bytes /m);
    expect(
      stderr
        .split("\n")
        .filter((l) => l !== "")
        .every((l) => l.startsWith("r2-mcp ")),
    ).toBe(true);
  });
});
