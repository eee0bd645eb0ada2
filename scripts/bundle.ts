/**
 * npm run bundle: writes r2-mcp.mcpb, an MCP Bundle (github.com/modelcontextprotocol/mcpb) that a
 * host such as Claude Desktop installs in one click.
 *
 * The bundle is staged offline from what this checkout already has: the built dist/, package.json,
 * README and LICENSE, and the production dependencies copied out of node_modules exactly as
 * package-lock.json places them (never a registry). The manifest is then checked and packed by the
 * mcpb CLI itself.
 *
 *   tsx scripts/bundle.ts [--out FILE] [--stage DIR]
 */
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { allTools } from "../src/mcp/tools/index.js";

const REPO = fileURLToPath(new URL("../", import.meta.url));

interface PackageJson {
  name: string;
  version: string;
  description: string;
  license: string;
  author?: string | { name: string };
  dependencies: Record<string, string>;
  engines?: { node?: string };
}

interface LockEntry {
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  link?: boolean;
}

/** Every node_modules path package-lock.json installs for production (dev-only entries left out). */
export function productionPaths(lock: { packages: Record<string, LockEntry> }): string[] {
  return Object.entries(lock.packages)
    .filter(([where, entry]) => where.startsWith("node_modules/") && !entry.dev && !entry.devOptional && !entry.link)
    .map(([where]) => where);
}

/** An MCPB substitution, written literally in the manifest and filled in by the host: `${user_config.KEY}`. */
const setting = (key: string) => `\${user_config.${key}}`;
const BUNDLE_DIR = `\${__dirname}`;

/** The first sentence of a tool description: the manifest's tools list is a summary. */
function firstSentence(text: string): string {
  const end = text.search(/\.(\s|$)/);
  return end === -1 ? text : text.slice(0, end + 1);
}

/** manifest.json: how the host starts the server and what it asks the person for. */
export function manifestFor(pkg: PackageJson): Record<string, unknown> {
  return {
    manifest_version: "0.3",
    name: pkg.name,
    display_name: "R2 / S3 storage (no silent overwrite)",
    version: pkg.version,
    description: pkg.description,
    long_description:
      "List, read, upload, download, copy and delete objects in Cloudflare R2 or any S3-compatible store, or in a local folder. " +
      "Every write refuses to replace an existing object or file unless asked to with overwrite: true. " +
      "Local files are read and written only inside the folders you choose below.",
    author: { name: typeof pkg.author === "string" ? pkg.author : (pkg.author?.name ?? "r2-mcp contributors") },
    license: pkg.license,
    keywords: ["r2", "s3", "cloudflare", "object-storage", "datasets"],
    server: {
      type: "node",
      entry_point: "dist/cli.js",
      mcp_config: {
        command: "node",
        // Roots are positional so that a multiple-directory setting expands to one argument each.
        args: [`${BUNDLE_DIR}/dist/cli.js`, setting("roots")],
        env: {
          R2_ACCOUNT_ID: setting("account_id"),
          R2_ACCESS_KEY_ID: setting("access_key_id"),
          R2_SECRET_ACCESS_KEY: setting("secret_access_key"),
          R2_BUCKET: setting("buckets"),
          R2_ENDPOINT_URL: setting("endpoint_url"),
          R2_MCP_LOCAL_DIR: setting("local_dir"),
          R2_MCP_READ_ONLY: setting("read_only"),
        },
      },
    },
    tools: allTools.map((tool) => ({ name: tool.name, description: firstSentence(tool.description) })),
    compatibility: { platforms: ["darwin", "linux", "win32"], runtimes: { node: pkg.engines?.node ?? ">=20" } },
    user_config: {
      account_id: {
        type: "string",
        title: "R2 account id",
        description:
          "Your Cloudflare account id (the endpoint becomes https://<id>.r2.cloudflarestorage.com). Leave empty for another S3 endpoint.",
        required: false,
      },
      access_key_id: {
        type: "string",
        title: "Access key id",
        description: "R2 or S3 access key id (an R2 API token's key id).",
        sensitive: true,
        required: false,
      },
      secret_access_key: {
        type: "string",
        title: "Secret access key",
        description: "R2 or S3 secret access key. Stored by the host, never shown or logged.",
        sensitive: true,
        required: false,
      },
      buckets: {
        type: "string",
        title: "Buckets",
        description: "Bucket name, or several separated by commas; the first is the default.",
        required: false,
      },
      endpoint_url: {
        type: "string",
        title: "Endpoint URL",
        description: "Only for a store other than R2 (MinIO, AWS S3...). Leave empty when the account id is set.",
        required: false,
      },
      local_dir: {
        type: "directory",
        title: "Local store folder",
        description: 'Optional: a folder used as an embedded object store (no account needed); beside buckets it is named "local".',
        required: false,
      },
      roots: {
        type: "directory",
        title: "Folders it may read and write",
        description: "Local files are uploaded from and downloaded to these folders only.",
        multiple: true,
        required: false,
      },
      read_only: {
        type: "boolean",
        title: "Read-only",
        description: "Never change the bucket: no upload, copy or delete tool is offered.",
        default: false,
        required: false,
      },
    },
  };
}

function copyDist(stage: string): void {
  // Only the JavaScript: declarations and source maps are for library users, not for the server.
  cpSync(path.join(REPO, "dist"), path.join(stage, "dist"), {
    recursive: true,
    filter: (source) => !/\.(d\.ts|map)$/.test(source),
  });
}

function copyDependencies(stage: string, lock: { packages: Record<string, LockEntry> }): number {
  let copied = 0;
  for (const where of productionPaths(lock)) {
    const from = path.join(REPO, where);
    // An optional dependency for another platform is in the lock but not installed here.
    if (!existsSync(from)) {
      if (lock.packages[where]?.optional) continue;
      throw new Error(`${where} is in package-lock.json but not installed; run npm ci first`);
    }
    const nested = path.join(from, "node_modules");
    cpSync(from, path.join(stage, where), {
      recursive: true,
      dereference: false,
      // Nested node_modules are entries of their own in the lock, copied (or left out) on their own.
      filter: (source) => source !== nested && !source.startsWith(`${nested}${path.sep}`),
    });
    copied++;
  }
  return copied;
}

function main(): void {
  const { values } = parseArgs({ options: { out: { type: "string" }, stage: { type: "string" } } });
  const out = path.resolve(values.out ?? path.join(REPO, `${readPackage().name}.mcpb`));
  if (!existsSync(path.join(REPO, "dist", "cli.js"))) throw new Error("dist/cli.js is missing; run npm run build first");

  const pkg = readPackage();
  const lock = JSON.parse(readFileSync(path.join(REPO, "package-lock.json"), "utf8")) as { packages: Record<string, LockEntry> };
  const stage = values.stage ? path.resolve(values.stage) : mkdtempSync(path.join(os.tmpdir(), "r2-mcp-bundle-"));
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  try {
    copyDist(stage);
    const dependencies = copyDependencies(stage, lock);
    const { name, version, description, license, dependencies: deps, engines } = pkg;
    // dist/version.js reads ../package.json; "type": "module" makes dist/*.js ES modules.
    writeFileSync(
      path.join(stage, "package.json"),
      `${JSON.stringify({ name, version, description, license, type: "module", engines, dependencies: deps }, null, 2)}\n`,
    );
    for (const file of ["README.md", "LICENSE"]) cpSync(path.join(REPO, file), path.join(stage, file));
    writeFileSync(path.join(stage, "manifest.json"), `${JSON.stringify(manifestFor(pkg), null, 2)}\n`);

    const mcpb = path.join(REPO, "node_modules", ".bin", "mcpb");
    execFileSync(mcpb, ["validate", path.join(stage, "manifest.json")], { stdio: ["ignore", "ignore", "inherit"] });
    rmSync(out, { force: true });
    execFileSync(mcpb, ["pack", stage, out], { stdio: ["ignore", "ignore", "inherit"] });
    process.stdout.write(`wrote ${path.relative(process.cwd(), out) || out} (${dependencies} production packages)\n`);
  } finally {
    if (!values.stage) rmSync(stage, { recursive: true, force: true });
  }
}

function readPackage(): PackageJson {
  return JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as PackageJson;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
