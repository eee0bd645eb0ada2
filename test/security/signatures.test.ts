/**
 * Requests are signed as S3 and R2 check them, on both request paths (the direct one of
 * src/core/s3/direct.ts and the SDK's), for keys whose characters are encoded differently by
 * different clients. fauxqs checks no signatures, so these go through signature-check.ts, a
 * loopback proxy that recomputes every signature from what arrived (its own SigV4 code).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { S3Store } from "../../src/core/s3/store.js";
import { rejectionOf } from "../helpers/assert.js";
import { readAll } from "../helpers/bytes.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { type SignatureCheck, startSignatureCheck } from "../helpers/signature-check.js";

const ODD_KEYS = [
  "plain/a.txt",
  "space and+plus/x y+z.txt",
  "percent/100% sure %20 %2F.txt",
  "marks/!'()*~-_.txt",
  "reserved/a=b&c;d,e:f@g$h#i?j[k]l{m}n.txt",
  "unicode/été/日本語/😀.txt",
  "slashes//double/./dot/../dotdot",
  "trailing/",
  "tilde~and`backtick^caret|pipe\\backslash",
  `long/${"x".repeat(900)}`,
];

describe.each(["direct", "sdk"] as const)("signatures as S3 checks them (%s requests)", (requests) => {
  let server: S3TestServer;
  let check: SignatureCheck;
  let store: S3Store;
  const prefix = `sig-${requests}/`;

  beforeAll(async () => {
    server = await startS3Server();
    check = await startSignatureCheck(server.endpoint, server.credentials);
    store = new S3Store({
      bucket: server.bucket,
      endpoint: check.endpoint,
      region: server.region,
      credentials: server.credentials,
      maxAttempts: 1,
      requests,
    });
  });
  afterAll(async () => {
    await store?.close();
    await check?.close();
    await server?.close();
  });

  it.each(ODD_KEYS)("PUT, HEAD, GET, ranged GET, list and DELETE of %j are accepted", async (key) => {
    const checkedBefore = check.stats.checked;
    const full = prefix + key;
    const data = Buffer.from(`bytes of ${key}`);
    await store.put(full, { kind: "bytes", data }, { mode: "create", metadata: { note: "odd key" } });
    const info = await store.head(full);
    expect(info).toMatchObject({ key: full, size: data.length, metadata: { note: "odd key" } });
    expect(await readAll((await store.get(full)).body)).toEqual(data);
    expect(await readAll((await store.get(full, { range: { offset: 3, length: 4 } })).body)).toEqual(data.subarray(3, 7));
    const page = await store.list({ prefix: full });
    expect(page.objects.map((o) => o.key)).toContain(full);
    expect(await store.delete(full)).toMatchObject({ existed: true });
    expect(await store.head(full)).toBeUndefined();
    expect(check.stats.checked - checkedBefore).toBeGreaterThanOrEqual(8);
    expect({ refused: check.stats.refused, last: check.lastRefusal }).toEqual({ refused: 0, last: undefined });
  });

  it("a presigned GET URL for an odd key is accepted as signed", async () => {
    const key = `${prefix}presigned/a b+c!'().txt`;
    await store.put(key, { kind: "bytes", data: Buffer.from("presigned") }, { mode: "create" });
    const url = await store.presign(key, "GET", 60);
    const before = check.stats.presigned;
    const res = await fetch(url);
    expect(res.status).toBe(200);
    expect(await res.text()).toBe("presigned");
    expect(check.stats.presigned).toBe(before + 1);
    expect(check.stats.refused).toBe(0);
  });

  it("the check is real: a wrong secret is refused on every operation (access_denied), nothing is written", async () => {
    const wrong = new S3Store({
      bucket: server.bucket,
      endpoint: check.endpoint,
      region: server.region,
      credentials: { accessKeyId: server.credentials.accessKeyId, secretAccessKey: "not-the-secret" },
      maxAttempts: 1,
      requests,
    });
    const refusedBefore = check.stats.refused;
    try {
      const key = `${prefix}refused.txt`;
      expect((await rejectionOf(wrong.put(key, { kind: "bytes", data: Buffer.from("x") }, { mode: "overwrite" }))).kind).toBe(
        "access_denied",
      );
      expect((await rejectionOf(wrong.head(key))).kind).toBe("access_denied");
      expect((await rejectionOf(wrong.get(key))).kind).toBe("access_denied");
      expect(check.stats.refused - refusedBefore).toBe(3);
      expect(await store.head(key)).toBeUndefined();
    } finally {
      await wrong.close();
      // Later tests in this file expect no refusals of their own.
      check.stats.refused = refusedBefore;
      check.lastRefusal = undefined;
    }
  });
});
