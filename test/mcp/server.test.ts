import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { allTools } from "../../src/mcp/tools/index.js";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { uploadFile } from "../../src/mcp/tools/upload-file.js";
import { BACKENDS, call, callError, callOk, useInProcess } from "../helpers/in-process.js";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";

const PACKAGE = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { name: string; version: string };

/** What each tool may do, as an assistant's host should be told: [readOnly, destructive, idempotent]. */
const HINTS: Record<string, [boolean, boolean, boolean]> = {
  list_buckets: [true, false, true],
  list_objects: [true, false, true],
  head_object: [true, false, true],
  summarize_prefix: [true, false, true],
  get_object_bytes: [true, false, true],
  upload_bytes: [false, true, true],
  upload_file: [false, true, true],
  upload_directory: [false, true, true],
  download_file: [false, true, true],
  download_directory: [false, true, true],
  compare_directory: [true, false, true],
  // Destructive only with overwrite or move; a copy with neither only adds objects.
  copy_objects: [false, true, true],
  delete_object: [false, true, true],
  delete_objects: [false, true, true],
  // A new link each time: the same call twice does not give the same result.
  presign_url: [true, false, false],
  transfer_status: [true, false, true],
  // Stops a job; the same call again changes nothing more.
  cancel_transfer: [false, false, true],
};
const READ_ONLY_TOOLS = [
  "list_buckets",
  "list_objects",
  "head_object",
  "summarize_prefix",
  "get_object_bytes",
  "download_file",
  "download_directory",
  "compare_directory",
  "presign_url",
  "transfer_status",
  "cancel_transfer",
];
/** presign_url is registered only when some bucket can presign (not with only a local store). */
const served = (names: string[], backend: string) => names.filter((n) => backend === "s3" || n !== "presign_url");

describe.each(BACKENDS)("the server in process, %s backend", (backend) => {
  const env = useInProcess(backend);

  describe("tools/list", () => {
    it("lists every tool in order with annotations from its effect; openWorldHint only for a remote store", async () => {
      const { client } = await env.start();
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toEqual(served(Object.keys(HINTS), backend));
      for (const tool of tools) {
        const [readOnlyHint, destructiveHint, idempotentHint] = HINTS[tool.name]!;
        const title = allTools.find((t) => t.name === tool.name)?.title;
        // The title is the tool's own, given once (not repeated in the annotations).
        expect(tool.annotations, tool.name).toEqual({
          readOnlyHint,
          destructiveHint,
          idempotentHint,
          openWorldHint: backend === "s3",
        });
        expect(tool.title).toBe(title);
        expect(tool.outputSchema?.type).toBe("object");
        expect(tool.inputSchema.additionalProperties).toBe(false);
      }
    });

    it("registers no tool that changes the bucket when read-only: calling one is the SDK's error and changes nothing", async () => {
      const server = await env.start({ readOnly: true });
      const { tools } = await server.client.listTools();
      expect(tools.map((t) => t.name)).toEqual(served(READ_ONLY_TOOLS, backend));
      // An unknown tool is a JSON-RPC error (-32602) from the SDK, not a tool result.
      await expect(call(server.client, "upload_bytes", { key: "a.txt", data: "x" })).rejects.toThrow(/Tool upload_bytes not found/);
      expect(await server.objects()).toEqual({});
    });

    it("answers arguments that fail the schema with invalid_argument naming them, and keeps serving", async () => {
      const { client } = await env.start();
      const unknown = await callError(client, listObjects, { prefix: "", colour: "blue" });
      expect(unknown.code).toBe("invalid_argument");
      expect(unknown.text).toContain('unknown argument "colour"');
      const wrongType = await callError(client, listObjects, { recursive: "yes" });
      expect(wrongType.text).toBe('invalid_argument: recursive must be a boolean, got the string "yes"');
      const missing = await callError(client, uploadFile, { key: "k" });
      expect(missing.text).toBe("invalid_argument: local_path is required (a string)");
      expect((await callOk(client, listObjects, {})).structured.objects).toEqual([]);
    });
  });

  describe("initialization", () => {
    it("names itself after package.json and tells the assistant the no-overwrite rule", async () => {
      const { client } = await env.start();
      expect(client.getServerVersion()).toMatchObject({ name: PACKAGE.name, version: PACKAGE.version });
      const instructions = client.getInstructions() ?? "";
      expect(instructions).toContain("Nothing is ever overwritten silently");
      expect(instructions).toContain("download_file");
      expect(instructions).not.toContain("read-only");
      expect(instructions).not.toContain("Only keys under");
    });

    it("says in its instructions when it is read-only and which prefixes are allowed", async () => {
      const { client } = await env.start({ readOnly: true, allowPrefixes: ["team/", "shared/"] });
      const instructions = client.getInstructions() ?? "";
      expect(instructions).toContain("This server is read-only: it offers no tool that changes a bucket.");
      expect(instructions).toContain('Only keys under these prefixes may be used: "team/", "shared/".');
    });
  });

  describe("resources", () => {
    it("offers the r2://{bucket}/{+key} template and lists objects with encoded URIs", async () => {
      const server = await env.start();
      await server.seed("runs/a b.txt", "hello");
      await server.seed("top.json", "{}");
      const { resourceTemplates } = await server.client.listResourceTemplates();
      expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(["r2://{bucket}/{+key}"]);
      const { resources } = await server.client.listResources();
      // Names, URIs, sizes and the type the extension gives; the template's title and description stay in the template.
      expect(resources).toEqual([
        { uri: `r2://${server.store.name}/runs/a%20b.txt`, name: "runs/a b.txt", size: 5, mimeType: "text/plain; charset=utf-8" },
        { uri: `r2://${server.store.name}/top.json`, name: "top.json", size: 2, mimeType: "application/json" },
      ]);
    });

    it("reads text as text and other bytes as a base64 blob", async () => {
      const server = await env.start();
      await server.seed("runs/a b.txt", "hello");
      await server.seed("bin/x", Buffer.from([0xff, 0x00]));
      const text = await server.client.readResource({ uri: `r2://${server.store.name}/runs/a%20b.txt` });
      expect(text.contents).toEqual([
        { uri: `r2://${server.store.name}/runs/a%20b.txt`, mimeType: "text/plain; charset=utf-8", text: "hello" },
      ]);
      const blob = await server.client.readResource({ uri: `r2://${server.store.name}/bin/x` });
      expect(blob.contents).toEqual([{ uri: `r2://${server.store.name}/bin/x`, mimeType: "application/octet-stream", blob: "/wA=" }]);
    });

    it("refuses reads over 64 KiB, of another bucket, of a missing key: the message starts with the code", async () => {
      const server = await env.start();
      await server.seed("big.txt", "x".repeat(64 * 1024 + 1));
      const read = (uri: string) => server.client.readResource({ uri });
      await expect(read(`r2://${server.store.name}/big.txt`)).rejects.toThrow(/too_large: "big.txt" is 65537 bytes.*get_object_bytes/);
      await expect(read("r2://someone-else/big.txt")).rejects.toThrow(/not_found: this server serves bucket/);
      await expect(read(`r2://${server.store.name}/missing.txt`)).rejects.toThrow(/not_found: /);
    });

    it("lists and reads only under the allowed prefixes", async () => {
      const server = await env.start({ allowPrefixes: ["team/"] });
      await server.seed("secret.txt", "no");
      await server.seed("team/a.txt", "yes");
      expect((await server.client.listResources()).resources.map((r) => r.name)).toEqual(["team/a.txt"]);
      await expect(server.client.readResource({ uri: `r2://${server.store.name}/secret.txt` })).rejects.toThrow(/outside_allowed_prefix: /);
    });
  });

  describe("local roots", () => {
    it("takes the client's roots instead of the default ones, and asks again when they change", async () => {
      const first = (await env.start()).root;
      const second = (await env.start()).root;
      await writeFile(path.join(first, "f.txt"), "from the first client root");
      await writeFile(path.join(second, "f.txt"), "from the second client root");
      const server = await env.start({ rootsExplicit: false, clientRoots: [first] });
      await writeFile(path.join(server.root, "f.txt"), "from the default root");
      const upload = (dir: string, key: string) => call(server.client, "upload_file", { local_path: path.join(dir, "f.txt"), key });
      expect((await upload(first, "a.txt")).isError).toBeFalsy();
      expect((await callError(server.client, uploadFile, { local_path: path.join(server.root, "f.txt"), key: "b.txt" })).code).toBe(
        "outside_roots",
      );

      await server.setClientRoots([second]);
      expect((await callError(server.client, uploadFile, { local_path: path.join(first, "f.txt"), key: "c.txt" })).code).toBe(
        "outside_roots",
      );
      expect((await upload(second, "d.txt")).isError).toBeFalsy();
      expect(await server.objects()).toEqual({ "a.txt": "from the first client root", "d.txt": "from the second client root" });
    });

    it("never lets client roots replace roots given with --root", async () => {
      const other = await env.start();
      await writeFile(path.join(other.root, "f.txt"), "elsewhere");
      const server = await env.start({ rootsExplicit: true, clientRoots: [other.root] });
      expect((await callError(server.client, uploadFile, { local_path: path.join(other.root, "f.txt"), key: "a.txt" })).code).toBe(
        "outside_roots",
      );
    });
  });

  describe("logging", () => {
    it("logs outcomes to stderr at the level asked for, never the credentials", async () => {
      const server = await env.start();
      await callError(server.client, listObjects, { limit: 0 });
      await call(server.client, "upload_bytes", { key: "a.txt", data: "x" });
      expect(server.logs).toContain(
        'r2-mcp debug: list_objects failed: invalid_argument {"tool":"list_objects","code":"invalid_argument"}',
      );
      expect(server.logs.some((line) => line.startsWith('r2-mcp info: uploaded bytes {"key":"a.txt","size":1'))).toBe(true);
      expect(server.logs.join("\n")).not.toMatch(new RegExp(`${TEST_ACCESS_KEY_ID}|${TEST_SECRET_ACCESS_KEY}`));

      const quiet = await env.start({ logLevel: "error" });
      await callError(quiet.client, listObjects, { limit: 0 });
      expect(quiet.logs).toEqual([]);
    });
  });
});
