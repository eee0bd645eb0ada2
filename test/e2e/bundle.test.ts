/**
 * The one-click bundle, as a host gets it: `scripts/bundle.ts` (npm run bundle) packs r2-mcp.mcpb,
 * which the mcpb CLI validates and unpacks; the unpacked folder runs on its own, with no checkout
 * beside it and no network: --version, then a tools/list over stdio. server.json (for the MCP
 * registry) names the package and version package.json has.
 */
import { execFile } from "node:child_process";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allTools } from "../../src/mcp/tools/index.js";
import { assertBuilt, PACKAGE_JSON, REPO_ROOT } from "../helpers/repo.js";
import { baseEnv, startClient } from "../helpers/start-client.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

const run = promisify(execFile);
/** An MCPB substitution as the manifest holds it: `${user_config.KEY}`. */
const setting = (key: string) => `\${user_config.${key}}`;
const bin = (name: string) => path.join(REPO_ROOT, "node_modules", ".bin", name);

interface UserConfigEntry {
  type: string;
  sensitive?: boolean;
  multiple?: boolean;
}

interface Manifest {
  name: string;
  version: string;
  server: { type: string; entry_point: string; mcp_config: { command: string; args: string[]; env: Record<string, string> } };
  user_config: Record<string, UserConfigEntry>;
  tools: { name: string }[];
}

describe("npm run bundle", () => {
  let tmp: TempDir;
  let unpacked: string;
  let manifest: Manifest;

  beforeAll(async () => {
    assertBuilt();
    tmp = await makeTempDir();
    const bundle = path.join(tmp.path, "r2-mcp.mcpb");
    await run(bin("tsx"), [path.join(REPO_ROOT, "scripts", "bundle.ts"), "--out", bundle], { cwd: REPO_ROOT });
    unpacked = path.join(tmp.path, "unpacked");
    await run(bin("mcpb"), ["unpack", bundle, unpacked]);
    manifest = JSON.parse(await readFile(path.join(unpacked, "manifest.json"), "utf8")) as Manifest;
  }, 180_000);

  afterAll(async () => {
    await tmp?.cleanup();
  });

  it("holds a manifest the mcpb CLI accepts, naming this package and version", async () => {
    await run(bin("mcpb"), ["validate", path.join(unpacked, "manifest.json")]);
    expect(manifest.name).toBe(PACKAGE_JSON.name);
    expect(manifest.version).toBe(PACKAGE_JSON.version);
    expect(manifest.server.type).toBe("node");
    expect(manifest.server.mcp_config.args[0]).toBe(`${"$"}{__dirname}/${manifest.server.entry_point}`);
    expect(manifest.tools.map((t) => t.name)).toEqual(allTools.map((t) => t.name));
  });

  it("asks for credentials as sensitive settings, roots as several folders and read-only as a switch", () => {
    const config = manifest.user_config;
    expect(config.access_key_id).toMatchObject({ type: "string", sensitive: true });
    expect(config.secret_access_key).toMatchObject({ type: "string", sensitive: true });
    expect(config.account_id?.type).toBe("string");
    expect(config.account_id?.sensitive).toBeFalsy();
    expect(config.buckets?.type).toBe("string");
    expect(config.roots).toMatchObject({ type: "directory", multiple: true });
    expect(config.read_only?.type).toBe("boolean");
    const env = manifest.server.mcp_config.env;
    expect(env.R2_SECRET_ACCESS_KEY).toBe(setting("secret_access_key"));
    expect(env.R2_ACCESS_KEY_ID).toBe(setting("access_key_id"));
    expect(env.R2_MCP_READ_ONLY).toBe(setting("read_only"));
    expect(manifest.server.mcp_config.args).toContain(setting("roots"));
  });

  it("carries its production dependencies and none of the development ones", async () => {
    const lock = JSON.parse(await readFile(path.join(REPO_ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, { dev?: boolean }>;
    };
    await expect(readFile(path.join(unpacked, "node_modules", "zod", "package.json"), "utf8")).resolves.toContain('"zod"');
    for (const dev of ["node_modules/vitest", "node_modules/typescript", "node_modules/fauxqs"]) {
      expect(lock.packages[dev]?.dev).toBe(true);
      await expect(readFile(path.join(unpacked, dev, "package.json"))).rejects.toMatchObject({ code: "ENOENT" });
    }
  });

  it("runs unpacked on its own: --version from another directory", async () => {
    const entry = path.join(unpacked, manifest.server.entry_point);
    const { stdout } = await run(process.execPath, [entry, "--version"], { cwd: tmp.path, env: baseEnv() });
    expect(stdout.trim()).toBe(`${PACKAGE_JSON.name} ${PACKAGE_JSON.version}`);
  });

  it("runs unpacked on its own: tools/list over stdio, with roots given as the host passes them", async () => {
    const store = path.join(tmp.path, "store");
    const data = path.join(tmp.path, "data");
    await mkdir(data);
    // How a host starts it: unfilled settings left as placeholders or empty, folders as positionals.
    const env = baseEnv({ R2_ACCOUNT_ID: setting("account_id"), R2_BUCKET: "", R2_MCP_READ_ONLY: "false" });
    const server = await startClient({
      cliPath: path.join(unpacked, manifest.server.entry_point),
      args: ["--local", store, data],
      cwd: tmp.path,
      env,
    });
    try {
      const { tools } = await server.client.listTools();
      // With only a local store presign_url is not registered (it could only answer unsupported).
      expect(tools.map((t) => t.name)).toEqual(allTools.map((t) => t.name).filter((name) => name !== "presign_url"));
      // The positional folder is a root; the working directory (the default root otherwise) is not.
      await writeFile(path.join(data, "inside.txt"), "in");
      await writeFile(path.join(tmp.path, "outside.txt"), "out");
      const inside = await server.call("upload_file", { local_path: path.join(data, "inside.txt"), key: "inside.txt" });
      expect(inside.isError, inside.text).toBeFalsy();
      const outside = await server.call("upload_file", { local_path: path.join(tmp.path, "outside.txt"), key: "outside.txt" });
      expect(outside.isError).toBe(true);
      expect(outside.text).toMatch(/^outside_roots/);
    } finally {
      await server.close();
    }
  });
});

describe("server.json", () => {
  it("names the package and version package.json has", async () => {
    const server = JSON.parse(await readFile(path.join(REPO_ROOT, "server.json"), "utf8")) as {
      name: string;
      version: string;
      packages: {
        registryType: string;
        identifier: string;
        version: string;
        environmentVariables: { name: string; isSecret?: boolean }[];
      }[];
    };
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, "package.json"), "utf8")) as { mcpName: string };
    expect(server.name).toBe(pkg.mcpName);
    expect(server.version).toBe(PACKAGE_JSON.version);
    expect(server.packages).toHaveLength(1);
    expect(server.packages[0]).toMatchObject({ registryType: "npm", identifier: PACKAGE_JSON.name, version: PACKAGE_JSON.version });
    const secrets = server.packages[0]!.environmentVariables.filter((v) => v.isSecret).map((v) => v.name);
    expect(secrets.sort()).toEqual(["R2_ACCESS_KEY_ID", "R2_SECRET_ACCESS_KEY"]);
  });
});
