/**
 * R2Client.copyObjects on both backends: within a bucket, between two clients (server-side on one
 * endpoint and key; streamed between a local store and S3), moves, conflicts, dry runs and the
 * read-only and allow-prefix options on either side.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalStore } from "../../src/core/local/store.js";
import type { DeleteOptions } from "../../src/core/store.js";
import type { TransferProgress } from "../../src/core/transfer/index.js";
import { R2Client } from "../../src/library/r2-client.js";
import { rejectionOf } from "../helpers/assert.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

const FILES = { "a.csv": "1,2\n", "sub/b.txt": "bravo", "sub/deep/c.json": '{"c":3}' };

async function texts(client: R2Client, prefix = ""): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const o of (await client.list(prefix)).objects) out[o.key] = (await client.getObjectBytes(o.key)).toString("utf8");
  return out;
}

const under = (prefix: string) => Object.fromEntries(Object.entries(FILES).map(([k, v]) => [prefix + k, v]));

describe.each(["local", "s3"] as const)("R2Client.copyObjects over %s", (backend) => {
  let tmp: TempDir;
  let server: S3TestServer | undefined;
  let made = 0;
  /** A client on a fresh bucket (S3: same endpoint and key, so copies between them are server-side). */
  let makeClient: (options?: { readOnly?: boolean; allowPrefixes?: string[]; shareWith?: R2Client }) => Promise<R2Client>;
  const clients: R2Client[] = [];

  beforeAll(async () => {
    tmp = await makeTempDir();
    if (backend === "s3") server = await startS3Server();
    makeClient = async (options = {}) => {
      let client: R2Client;
      const policy = { readOnly: options.readOnly, allowPrefixes: options.allowPrefixes };
      if (options.shareWith) {
        client = new R2Client({ store: options.shareWith.store.inner, ...policy });
      } else if (server) {
        const bucket = `copy-${++made}`;
        await server.createBucket(bucket);
        client = new R2Client({
          bucketName: bucket,
          endpointUrl: server.endpoint,
          accessKeyId: server.credentials.accessKeyId,
          secretAccessKey: server.credentials.secretAccessKey,
          env: {},
          ...policy,
        });
      } else {
        client = new R2Client({ store: await LocalStore.open(path.join(tmp.path, `store-${++made}`)), ...policy });
      }
      clients.push(client);
      return client;
    };
  });
  afterAll(async () => {
    for (const c of clients) await c.close();
    await server?.close();
    await tmp?.cleanup();
  });

  const seeded = async () => {
    const client = await makeClient();
    for (const [key, text] of Object.entries(under("exp42/"))) await client.uploadBytes(text, key);
    return client;
  };

  it("copies a key and a prefix within the bucket, with progress; a dry run writes nothing", async () => {
    const client = await seeded();
    const one = await client.copyObjects("exp42/a.csv", "exp43/a.csv");
    expect(one).toMatchObject({ transferred: 1, bytes: 4, items: ["exp43/a.csv"], serverSide: true, moved: [] });
    const dry = await client.copyObjects("exp42", "exp44", { recursive: true, dryRun: true });
    expect(dry).toMatchObject({ dryRun: true, planned: 3, transferred: 0 });
    expect(await texts(client, "exp44/")).toEqual({});
    const events: TransferProgress[] = [];
    const all = await client.copyObjects("exp42", "exp44", { recursive: true, maxWorkers: 2, onProgress: (p) => events.push({ ...p }) });
    expect(all.transferred).toBe(3);
    expect(events.at(-1)).toEqual({ bytesDone: 16, bytesTotal: 16, filesDone: 3, filesTotal: 3 });
    expect(await texts(client, "exp44/")).toEqual(under("exp44/"));
  });

  it("refuses conflicts (EEXIST, nothing written) and overlapping prefixes (EINVAL)", async () => {
    const client = await seeded();
    await client.uploadBytes("other", "dst/sub/b.txt");
    const conflict = await rejectionOf(client.copyObjects("exp42/", "dst/", { recursive: true }));
    expect(conflict).toMatchObject({ code: "EEXIST", kind: "already_exists", details: { conflicts: ["dst/sub/b.txt"] } });
    expect(await texts(client, "dst/")).toEqual({ "dst/sub/b.txt": "other" });
    const overlap = await rejectionOf(client.copyObjects("exp42/", "exp42/inner/", { recursive: true }));
    expect(overlap).toMatchObject({ code: "EINVAL", kind: "invalid_argument" });
  });

  it("copies and moves between two clients' buckets; the move deletes the sources", async () => {
    const from = await seeded();
    const to = await makeClient();
    const copied = await to.copyObjects("exp42/", "in/", { recursive: true, sourceClient: from });
    expect(copied).toMatchObject({ transferred: 3, serverSide: backend === "s3" });
    expect(await texts(to)).toEqual(under("in/"));
    const moved = await to.copyObjects("exp42/", "moved/", { recursive: true, move: true, sourceClient: from });
    expect(moved.moved.sort()).toEqual(Object.keys(under("exp42/")).sort());
    expect(await texts(from)).toEqual({});
    expect(await texts(to, "moved/")).toEqual(under("moved/"));
  });

  it("a move keeps a source rewritten after its copy was made (another writer, staged just before its delete) and reports it", async () => {
    const from = await seeded();
    const inner = from.store.inner;
    const rewritten = "rewritten meanwhile";
    // The other writer strikes at the last moment: after the copy of exp42/sub/b.txt, before its delete.
    const racing = new Proxy(inner, {
      get(target, prop) {
        if (prop === "delete") {
          return async (key: string, options?: DeleteOptions) => {
            if (key === "exp42/sub/b.txt") await target.put(key, { kind: "bytes", data: Buffer.from(rewritten) }, { mode: "overwrite" });
            return target.delete(key, options);
          };
        }
        const value: unknown = Reflect.get(target, prop, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const client = new R2Client({ store: racing });
    const moved = await client.copyObjects("exp42/", "moved/", { recursive: true, move: true, maxWorkers: 1 });
    expect(moved).toMatchObject({ transferred: 3, sourceChanged: ["exp42/sub/b.txt"] });
    expect(moved.moved.sort()).toEqual(["exp42/a.csv", "exp42/sub/deep/c.json"]);
    expect(await texts(from, "exp42/")).toEqual({ "exp42/sub/b.txt": rewritten });
    expect(await texts(from, "moved/")).toEqual(under("moved/"));
  });

  it.runIf(backend === "s3")("streams between a local store and S3", async () => {
    const s3 = await seeded();
    const local = new R2Client({ store: await LocalStore.open(path.join(tmp.path, "beside")) });
    clients.push(local);
    const down = await local.copyObjects("exp42/", "from-s3/", { recursive: true, sourceClient: s3 });
    expect(down).toMatchObject({ transferred: 3, serverSide: false });
    const up = await s3.copyObjects("from-s3/", "round-trip/", { recursive: true, sourceClient: local, move: true });
    expect(up).toMatchObject({ transferred: 3, serverSide: false, moved: expect.any(Array) });
    expect(await texts(s3, "round-trip/")).toEqual(under("round-trip/"));
    expect(await texts(local)).toEqual({});
  });

  it("holds readOnly and allowPrefixes on both sides, before anything is written", async () => {
    const from = await seeded();
    const frozen = await makeClient({ readOnly: true });
    expect(await rejectionOf(frozen.copyObjects("exp42/", "x/", { recursive: true, sourceClient: from }))).toMatchObject({
      kind: "access_denied",
    });
    const readOnlySource = await makeClient({ shareWith: from, readOnly: true });
    const target = await makeClient();
    const move = await rejectionOf(target.copyObjects("exp42/", "x/", { recursive: true, move: true, sourceClient: readOnlySource }));
    expect(move.kind).toBe("access_denied");
    expect(await texts(target)).toEqual({});
    const confinedSource = await makeClient({ shareWith: from, allowPrefixes: ["exp42/sub/"] });
    const outside = await rejectionOf(target.copyObjects("exp42/a.csv", "a.csv", { sourceClient: confinedSource }));
    expect(outside.kind).toBe("outside_allowed_prefix");
    const confinedTarget = await makeClient({ allowPrefixes: ["ok/"] });
    const denied = await rejectionOf(confinedTarget.copyObjects("exp42/", "nope/", { recursive: true, sourceClient: from }));
    expect(denied.kind).toBe("outside_allowed_prefix");
    expect((await confinedTarget.copyObjects("exp42/", "ok/", { recursive: true, sourceClient: from })).transferred).toBe(3);
    expect(await texts(from)).toEqual(under("exp42/"));
  });
});
