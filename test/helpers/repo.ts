/** Where the repository and the built CLI are; the CLI tiers run dist/, never src/. */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const CLI_PATH = path.join(REPO_ROOT, "dist", "cli.js");
export const PACKAGE_JSON = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { name: string; version: string };

export function assertBuilt(): void {
  if (!existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: the e2e tests run the built CLI. Run npm run build first (npm test does it for you).`);
  }
}
