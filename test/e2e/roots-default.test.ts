/**
 * Roots an assistant can see, and no root by accident (issue 16, item 6), over the real CLI on
 * stdio: started in / or in the home directory without --root, nothing local may be read or
 * written and the error says why; the instructions and list_buckets name the roots in force; a
 * leading ~/ is the home directory, still inside the roots.
 */
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { downloadFile } from "../../src/mcp/tools/download-file.js";
import { listBuckets } from "../../src/mcp/tools/list-buckets.js";
import { uploadFile } from "../../src/mcp/tools/upload-file.js";
import { callError, callOk } from "../helpers/calls.js";
import { baseEnv, localCli, type RunningServer, startClient } from "../helpers/start-client.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

describe("default roots over stdio", () => {
  let tmp: TempDir;
  let home: string;
  let store: string;
  const servers: RunningServer[] = [];
  const start = async (cwd: string, extra: string[] = []) => {
    const server = await startClient({ ...localCli(store, extra), env: baseEnv({ HOME: home }), cwd, listTools: true });
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-roots-");
    home = path.join(tmp.path, "home");
    store = path.join(tmp.path, "store");
    await mkdir(path.join(home, "project"), { recursive: true });
    await writeFile(path.join(home, ".netrc"), "machine example.com password hunter2");
    await writeFile(path.join(home, "project", "notes.txt"), "notes");
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
    await tmp.cleanup();
  });

  it.each([
    ["the home directory", () => home],
    ["/", () => "/"],
  ])("started in %s without --root, reads and writes nothing local, and says so everywhere", async (_where, cwd) => {
    const server = await start(cwd());
    const secret = path.join(home, ".netrc");
    const err = await callError(server.client, "upload_file", { local_path: secret, key: "leak/netrc" });
    expect(err.text).toMatch(/^outside_roots: local_path ".*\.netrc": no local directory is allowed \(.*--root DIR/);
    const hostname = await callError(server.client, "upload_file", { local_path: "/etc/hostname", key: "leak/hostname" });
    expect(hostname.text).toMatch(/^outside_roots: /);
    const download = path.join(home, "x.txt");
    expect((await callError(server.client, "download_file", { key: "leak/netrc", local_path: download })).text).toMatch(
      /^outside_roots|^not_found/,
    );
    expect(existsSync(download)).toBe(false);
    expect(server.client.getInstructions()).toContain("Local files: none may be read or written");
    const listed = await callOk(server.client, listBuckets, {});
    expect(listed.roots).toEqual([]);
    expect((await server.call("list_objects", { prefix: "leak/" })).text).toMatch(/^0 objects/);
  });

  it("started in a project folder, that folder is the root, named in the instructions and list_buckets", async () => {
    const project = path.join(home, "project");
    const server = await start(project);
    expect(server.client.getInstructions()).toContain(`Local files must be inside ${JSON.stringify(project)}`);
    expect((await callOk(server.client, listBuckets, {})).roots).toEqual([project]);
    await callOk(server.client, uploadFile, { local_path: "notes.txt", key: "p/notes.txt" });
    expect((await callError(server.client, "upload_file", { local_path: path.join(home, ".netrc"), key: "p/netrc" })).text).toMatch(
      /^outside_roots: .*the allowed roots are/,
    );
  });

  it("a leading ~/ is the home directory, still subject to the roots", async () => {
    const server = await start(tmp.path, ["--root", path.join(home, "project")]);
    const up = await callOk(server.client, uploadFile, { local_path: "~/project/notes.txt", key: "tilde/notes.txt" });
    expect(up.size).toBe(5);
    await callOk(server.client, downloadFile, { key: "tilde/notes.txt", local_path: "~/project/copy.txt" });
    expect(await readFile(path.join(home, "project", "copy.txt"), "utf8")).toBe("notes");
    const outside = await callError(server.client, "upload_file", { local_path: "~/.netrc", key: "tilde/netrc" });
    expect(outside.text).toMatch(/^outside_roots: local_path "~\/\.netrc" resolves to ".*home\/\.netrc"/);
  });
});
