/**
 * Packaging, as a user gets it: `npm pack` gives a tarball holding only the built files, README
 * and schemas, which installs in an empty directory and runs as `npx r2-mcp`.
 *
 * No test may reach the registry, so the install is offline, from the npm cache that `npm ci`
 * filled: the empty project gets a lockfile made of this project's production entries, which
 * `npm ci --offline` can satisfy from that cache.
 */
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, PACKAGE_JSON, REPO_ROOT } from "../helpers/repo.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

const run = promisify(execFile);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  [field: string]: unknown;
}

describe("npm pack", () => {
  let tmp: TempDir;
  let tarball: string;

  beforeAll(async () => {
    assertBuilt();
    tmp = await makeTempDir();
    // --ignore-scripts: `npm test` has built dist/ already, and rebuilding it here would race
    // with other test files running the CLI.
    const { stdout } = await run(npm, ["pack", "--ignore-scripts", "--json", "--pack-destination", tmp.path], { cwd: REPO_ROOT });
    const [info] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(tmp.path, info!.filename);
    await writeFile(path.join(tmp.path, "files.json"), JSON.stringify(info!.files.map((f) => f.path)));
  }, 120_000);

  afterAll(async () => {
    await tmp?.cleanup();
  });

  it("ships only the built files, the schemas, the README, the LICENSE and package.json", async () => {
    const files = JSON.parse(await readFile(path.join(tmp.path, "files.json"), "utf8")) as string[];
    expect(files).toContain("dist/cli.js");
    expect(files).toContain("dist/index.js");
    expect(files).toContain("README.md");
    expect(files).toContain("LICENSE");
    expect(files).toContain("schemas/list_objects.input.json");
    const stray = files.filter((f) => !/^(dist\/|schemas\/|README\.md$|package\.json$|LICENSE)/.test(f));
    expect(stray).toEqual([]);
  });

  it("installs offline into an empty directory and runs as npx r2-mcp", async () => {
    const project = path.join(tmp.path, "empty");
    const lock = JSON.parse(await readFile(path.join(REPO_ROOT, "package-lock.json"), "utf8")) as {
      packages: Record<string, LockEntry>;
    };
    const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, "package.json"), "utf8")) as Record<string, unknown>;
    const spec = `file:${path.relative(project, tarball)}`;
    const root = { name: "pack-check", version: "1.0.0", dependencies: { [PACKAGE_JSON.name]: spec } };
    const packages: Record<string, unknown> = {
      "": root,
      [`node_modules/${PACKAGE_JSON.name}`]: {
        version: PACKAGE_JSON.version,
        resolved: spec,
        dependencies: pkg.dependencies,
        bin: pkg.bin,
        engines: pkg.engines,
      },
    };
    for (const [where, entry] of Object.entries(lock.packages)) {
      if (where !== "" && !entry.dev && !entry.devOptional) packages[where] = entry;
    }
    await run("mkdir", ["-p", project]);
    await writeFile(path.join(project, "package.json"), JSON.stringify(root, null, 2));
    await writeFile(
      path.join(project, "package-lock.json"),
      JSON.stringify({ name: "pack-check", version: "1.0.0", lockfileVersion: 3, requires: true, packages }, null, 2),
    );
    await run(npm, ["ci", "--offline", "--no-audit", "--no-fund", "--ignore-scripts"], { cwd: project });

    const version = await run(npm, ["exec", "--offline", "--", "r2-mcp", "--version"], { cwd: project });
    expect(version.stdout.trim()).toBe(`${PACKAGE_JSON.name} ${PACKAGE_JSON.version}`);
    const help = await run(npm, ["exec", "--offline", "--", "r2-mcp", "--help"], { cwd: project });
    expect(help.stdout).toContain("--local DIR");
  }, 180_000);
});
