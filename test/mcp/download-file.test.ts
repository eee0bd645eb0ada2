import { createHash, randomBytes } from "node:crypto";
import { mkdir, readdir, readFile, symlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { downloadFile } from "../../src/mcp/tools/download-file.js";
import { putInParts } from "../helpers/bucket.js";
import { MIB } from "../helpers/bytes.js";
import { BACKENDS, callError, callOk, filesUnder, useInProcess } from "../helpers/in-process.js";

const md5 = (data: string | Buffer) => createHash("md5").update(data).digest("hex");
const DATA = "x,y\n1,2\n3,4\n";

describe.each(BACKENDS)("download_file, %s backend", (backend) => {
  const env = useInProcess(backend);
  const start = async (options: Parameters<typeof env.start>[0] = {}) => {
    const server = await env.start(options);
    await server.seed("runs/m.csv", DATA);
    return server;
  };

  it("saves an object, creating parent folders, and says where", async () => {
    const server = await start();
    const target = path.join(server.root, "out", "deep", "m.csv");
    const { structured, text } = await callOk(server.client, downloadFile, { key: "runs/m.csv", local_path: target });
    expect(structured).toEqual({ local_path: target, size: 12, etag: md5(DATA) });
    expect(text).toBe(`saved "runs/m.csv" to ${JSON.stringify(target)} (12 B)`);
    // Only the file: no temporary file left beside it.
    expect(await filesUnder(server.root)).toEqual({ "out/deep/m.csv": DATA });
  });

  it("reports the resolved path when the target's folder is reached through a symlink", async () => {
    const server = await start();
    await mkdir(path.join(server.root, "real"));
    await symlink(path.join(server.root, "real"), path.join(server.root, "alias"));
    const { structured } = await callOk(server.client, downloadFile, {
      key: "runs/m.csv",
      local_path: path.join(server.root, "alias", "m.csv"),
    });
    expect(structured.local_path).toBe(path.join(server.root, "real", "m.csv"));
    expect(await readFile(path.join(server.root, "real", "m.csv"), "utf8")).toBe(DATA);
  });

  it("never replaces a file silently: already_exists leaves it; overwrite: true replaces it", async () => {
    const server = await start();
    const target = path.join(server.root, "m.csv");
    await writeFile(target, "mine");
    const { code, text } = await callError(server.client, downloadFile, { key: "runs/m.csv", local_path: target });
    expect(code).toBe("already_exists");
    expect(text).toBe(`already_exists: local_path ${JSON.stringify(target)} exists; pass overwrite: true to replace it`);
    expect(await readFile(target, "utf8")).toBe("mine");

    await callOk(server.client, downloadFile, { key: "runs/m.csv", local_path: target, overwrite: true });
    expect(await filesUnder(server.root)).toEqual({ "m.csv": DATA });
  });

  it("replaces a symlink at the target with overwrite, never writing through it", async () => {
    const server = await start();
    const victim = path.join(server.root, "victim.txt");
    await writeFile(victim, "keep me");
    await symlink(victim, path.join(server.root, "link.csv"));
    const refused = await callError(server.client, downloadFile, { key: "runs/m.csv", local_path: path.join(server.root, "link.csv") });
    expect(refused.code).toBe("already_exists");
    await callOk(server.client, downloadFile, { key: "runs/m.csv", local_path: path.join(server.root, "link.csv"), overwrite: true });
    expect(await filesUnder(server.root)).toEqual({ "link.csv": DATA, "victim.txt": "keep me" });
  });

  it("answers not_found for a missing key and creates nothing, not even the parent folders", async () => {
    const server = await start();
    const { code, text } = await callError(server.client, downloadFile, {
      key: "runs/nope.csv",
      local_path: path.join(server.root, "new", "x.csv"),
    });
    expect(code).toBe("not_found");
    expect(text).toBe('not_found: "runs/nope.csv" does not exist');
    expect(await readdir(server.root)).toEqual([]);
  });

  it("refuses a directory as local_path", async () => {
    const server = await start();
    const { code, text } = await callError(server.client, downloadFile, { key: "runs/m.csv", local_path: server.root });
    expect(code).toBe("invalid_argument");
    expect(text).toContain("is a directory; give a file path");
  });

  it("refuses a target outside the roots, directly or through a symlinked folder (outside_roots)", async () => {
    const server = await start();
    await symlink(server.outside, path.join(server.root, "escape"));
    for (const local_path of [
      path.join(server.outside, "m.csv"),
      path.join(server.root, "escape", "m.csv"),
      `${server.root}/../outside/m.csv`,
    ]) {
      const { code, text } = await callError(server.client, downloadFile, { key: "runs/m.csv", local_path });
      expect(code).toBe("outside_roots");
      expect(text).toContain(JSON.stringify(local_path));
    }
    expect(await readdir(server.outside)).toEqual([]);
  });

  // Only the local store has a directory whose files are its objects.
  if (backend === "local")
    it("never writes into the local store's directory, even when a root contains it", async () => {
      const server = await env.start({ roots: ({ base }) => [base] });
      await server.seed("a.txt", "object");
      const { code } = await callError(server.client, downloadFile, {
        key: "a.txt",
        local_path: path.join(server.storeDir!, "planted.txt"),
      });
      expect(code).toBe("outside_roots");
      expect(await server.objects()).toEqual({ "a.txt": "object" });
    });

  // Only S3 holds multipart objects (the local store's ETags are MD5s of the bytes).
  if (backend === "s3")
    it("says so in the result, structured and in the text, when an object could not be verified; verified ones say nothing", async () => {
      const server = await start();
      // 6 MiB parts: a size no tool uses, and fauxqs does not tell part sizes, so the ETag cannot be recomputed.
      const data = randomBytes(6 * MIB + 100);
      const raw = server.s3!.rawClient();
      const etag = await putInParts(raw, server.store.name, "runs/odd.bin", data, 6 * MIB).finally(() => raw.destroy());
      expect(etag).toMatch(/-2$/);
      const target = path.join(server.root, "odd.bin");
      const { structured, text } = await callOk(server.client, downloadFile, { key: "runs/odd.bin", local_path: target });
      expect(structured).toEqual({
        local_path: target,
        size: data.length,
        etag,
        unverified: expect.stringMatching(/multipart object \(2 parts\).*part size/),
      });
      expect(text).toBe(`saved "runs/odd.bin" to ${JSON.stringify(target)} (6.0 MiB); not verified: ${structured.unverified}`);
      expect(md5(data)).toBe(
        createHash("md5")
          .update(await readFile(target))
          .digest("hex"),
      );

      const verified = await callOk(server.client, downloadFile, { key: "runs/m.csv", local_path: path.join(server.root, "m.csv") });
      expect(verified.structured).not.toHaveProperty("unverified");
      expect(verified.text).not.toContain("verified");
    });

  it("reads only under the allowed prefixes, and works on a read-only server", async () => {
    const server = await start({ allowPrefixes: ["runs/"], readOnly: true });
    await server.seed("private/x.csv", "no");
    const { code } = await callError(server.client, downloadFile, { key: "private/x.csv", local_path: path.join(server.root, "x.csv") });
    expect(code).toBe("outside_allowed_prefix");
    await callOk(server.client, downloadFile, { key: "runs/m.csv", local_path: path.join(server.root, "m.csv") });
    expect(await filesUnder(server.root)).toEqual({ "m.csv": DATA });
  });
});
