import { createHash } from "node:crypto";
import { mkdir, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { uploadFile } from "../../src/mcp/tools/upload-file.js";
import { BACKENDS, callError, callOk, useInProcess } from "../helpers/in-process.js";

const md5 = (data: string) => createHash("md5").update(data).digest("hex");

describe.each(BACKENDS)("upload_file, %s backend", (backend) => {
  const env = useInProcess(backend);
  /** A server with `root/data.csv` and `outside/secret.txt`. */
  const start = async (options: Parameters<typeof env.start>[0] = {}) => {
    const server = await env.start(options);
    await writeFile(path.join(server.root, "data.csv"), "a,b\n1,2\n");
    await writeFile(path.join(server.outside, "secret.txt"), "secret");
    return server;
  };

  it("uploads a file inside the roots, and says what it created from where", async () => {
    const server = await start();
    const local = path.join(server.root, "data.csv");
    const { structured, text } = await callOk(server.client, uploadFile, { local_path: local, key: "runs/data.csv" });
    expect(structured).toEqual({ key: "runs/data.csv", size: 8, etag: md5("a,b\n1,2\n"), replaced: false });
    expect(text).toBe(`created "runs/data.csv" from ${JSON.stringify(local)} (8 B)`);
    expect(await server.objects()).toEqual({ "runs/data.csv": "a,b\n1,2\n" });
    expect((await server.store.inner.head("runs/data.csv"))?.contentType).toBe("text/csv; charset=utf-8");
  });

  it("stores the content type given instead of the guessed one", async () => {
    const server = await start();
    await callOk(server.client, uploadFile, {
      local_path: path.join(server.root, "data.csv"),
      key: "x",
      content_type: "application/x-lab",
    });
    expect((await server.store.inner.head("x"))?.contentType).toBe("application/x-lab");
  });

  it("never replaces silently: already_exists leaves the object; overwrite: true replaces it and reports replaced", async () => {
    const server = await start();
    await server.seed("runs/data.csv", "old");
    const args = { local_path: path.join(server.root, "data.csv"), key: "runs/data.csv" };
    const { code, text } = await callError(server.client, uploadFile, args);
    expect(code).toBe("already_exists");
    expect(text).toBe('already_exists: "runs/data.csv" exists; pass overwrite: true to replace it');
    expect(await server.objects()).toEqual({ "runs/data.csv": "old" });

    const replaced = await callOk(server.client, uploadFile, { ...args, overwrite: true });
    expect(replaced.structured).toMatchObject({ size: 8, replaced: true });
    expect(replaced.text).toMatch(/^replaced "runs\/data\.csv" from /);
    expect(await server.objects()).toEqual({ "runs/data.csv": "a,b\n1,2\n" });
  });

  it("answers not_found for a missing file and invalid_argument for a directory, writing nothing", async () => {
    const server = await start();
    const missing = await callError(server.client, uploadFile, { local_path: path.join(server.root, "nope.csv"), key: "k" });
    expect(missing.code).toBe("not_found");
    const dir = await callError(server.client, uploadFile, { local_path: server.root, key: "k" });
    expect(dir.code).toBe("invalid_argument");
    expect(dir.text).toContain("use upload_directory");
    expect(await server.objects()).toEqual({});
  });

  it("refuses a file outside the roots, directly or through a symlink inside them (outside_roots)", async () => {
    const server = await start();
    await symlink(path.join(server.outside, "secret.txt"), path.join(server.root, "link.txt"));
    for (const local_path of [
      path.join(server.outside, "secret.txt"),
      path.join(server.root, "link.txt"),
      `${server.root}/../outside/secret.txt`,
    ]) {
      const { code, text } = await callError(server.client, uploadFile, { local_path, key: "stolen.txt" });
      expect(code).toBe("outside_roots");
      expect(text).toContain(JSON.stringify(server.root));
    }
    expect(await server.objects()).toEqual({});
  });

  it("follows a symlink that stays inside the roots", async () => {
    const server = await start();
    await mkdir(path.join(server.root, "links"));
    await symlink(path.join(server.root, "data.csv"), path.join(server.root, "links", "data.csv"));
    await callOk(server.client, uploadFile, { local_path: path.join(server.root, "links", "data.csv"), key: "via-link.csv" });
    expect(await server.objects()).toEqual({ "via-link.csv": "a,b\n1,2\n" });
  });

  // Only the local store has a directory whose files are its objects.
  if (backend === "local")
    it("never reads the local store's own files, even when a root contains them", async () => {
      // The base directory holds root/, outside/ and store/.
      const inStore = await env.start({ roots: ({ base }) => [base] });
      await inStore.seed("secret.txt", "object bytes");
      const local_path = path.join(inStore.storeDir!, "secret.txt");
      const { code, text } = await callError(inStore.client, uploadFile, { local_path, key: "copy.txt" });
      expect(code).toBe("outside_roots");
      expect(text).toContain("inside the local store's directory");
      expect(await inStore.objects()).toEqual({ "secret.txt": "object bytes" });
    });

  it("writes only under the allowed prefixes", async () => {
    const server = await start({ allowPrefixes: ["team/"] });
    const local_path = path.join(server.root, "data.csv");
    expect((await callError(server.client, uploadFile, { local_path, key: "data.csv" })).code).toBe("outside_allowed_prefix");
    await callOk(server.client, uploadFile, { local_path, key: "team/data.csv" });
    expect(Object.keys(await server.objects())).toEqual(["team/data.csv"]);
  });

  it("refuses invalid keys before reading the file", async () => {
    const server = await start();
    const { code, text } = await callError(server.client, uploadFile, { local_path: path.join(server.root, "nope"), key: "" });
    expect(code).toBe("invalid_argument");
    expect(text).toBe("invalid_argument: key must be a non-empty string");
  });
});
