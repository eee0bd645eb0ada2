/**
 * The built CLI carries each tool's JSON Schemas converted at build time (src/mcp/listed-schemas.ts,
 * scripts/build-cli.ts). What it lists must be exactly what the server built from src/ converts at
 * run time: with one bucket, and with several (where object tools' results also name the bucket),
 * whose listing is the one schemas/ holds.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Client, InMemoryTransport } from "@modelcontextprotocol/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SCHEMAS_DIR } from "../../scripts/gen-schemas.js";
import { GuardedStore, LocalStore } from "../../src/index.js";
import { createLog } from "../../src/mcp/log.js";
import { createServer } from "../../src/mcp/server.js";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import { localCli, type RunningServer, startClient, TEST_ERAS } from "../helpers/start-client.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

type Listed = { name: string; inputSchema: unknown; outputSchema?: unknown };

const schemasOf = (tools: Listed[]) => Object.fromEntries(tools.map((t) => [t.name, { input: t.inputSchema, output: t.outputSchema }]));

/** tools/list of the server built from src/ over one local store, converted by zod now. */
async function listedFromSource(dir: string): Promise<Listed[]> {
  const store = await LocalStore.open(dir);
  const { server } = createServer({
    buckets: [{ store: new GuardedStore(store), kind: "local" }],
    roots: [dir],
    rootsExplicit: true,
    logging: createLog("error"),
  });
  const client = new Client({ name: "listed-schemas", version: "1.0.0" });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  try {
    await server.connect(serverSide);
    await client.connect(clientSide);
    return (await client.listTools()).tools as Listed[];
  } finally {
    await client.close();
    await server.close();
    await store.close();
  }
}

describe.each(TEST_ERAS)("JSON Schemas of the built CLI, protocol %s", (era) => {
  let tmp: TempDir;
  const running: RunningServer[] = [];

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-listed-");
  });

  afterAll(async () => {
    for (const s of running) await s.close();
    await tmp?.cleanup();
  });

  it("one bucket: the same schemas as the server built from src/", async () => {
    const dir = path.join(tmp.path, "one");
    const s = await startClient({ ...localCli(dir, ["--root", tmp.path]), cwd: tmp.path, era });
    running.push(s);
    const served = (await s.client.listTools()).tools as Listed[];
    const expected = await listedFromSource(path.join(tmp.path, "source"));
    expect(served.map((t) => t.name)).toEqual(expected.map((t) => t.name));
    expect(schemasOf(served)).toEqual(schemasOf(expected));
  });

  it("several buckets: exactly the schemas in schemas/", async () => {
    // An S3 bucket (never contacted: tools/list needs no request) and the local store, as npm run schemas serves them.
    const cli = localCli(path.join(tmp.path, "several"), ["--bucket", "listed", "--endpoint", "http://127.0.0.1:9", "--root", tmp.path]);
    const s = await startClient({
      ...cli,
      env: { ...cli.env, R2_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY },
      cwd: tmp.path,
      era,
    });
    running.push(s);
    const served = (await s.client.listTools()).tools as Listed[];
    expect(served.map((t) => t.name)).toContain("presign_url");
    for (const tool of served) {
      const file = async (io: string) => JSON.parse(await readFile(path.join(SCHEMAS_DIR, `${tool.name}.${io}.json`), "utf8")) as unknown;
      expect(tool.inputSchema, tool.name).toEqual(await file("input"));
      expect(tool.outputSchema, tool.name).toEqual(await file("output"));
    }
  });
});
