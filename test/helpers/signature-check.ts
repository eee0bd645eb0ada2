/**
 * TEST STAND-IN for one server feature: SigV4 signature checks. fauxqs accepts any signature, so a
 * signing bug (a key encoded one way on the wire and another way in the signature, a header sent
 * but not signed as sent) would pass every other test. This loopback proxy recomputes each
 * request's signature from what actually arrived, the way S3 and R2 do, with its own
 * implementation of AWS Signature Version 4 (node:crypto only, independent of the SDK's signer):
 *  - the path is decoded and encoded again strictly (everything but A-Z a-z 0-9 - _ . ~ and `/`),
 *    so a client that signs a character it did not encode, or encodes twice, is refused;
 *  - the query is decoded, encoded strictly and sorted; every signed header is taken as received;
 *  - a hex x-amz-content-sha256 is checked against the body that arrived;
 *  - presigned URLs (X-Amz-Signature in the query) are checked too.
 * A mismatch is answered 403 SignatureDoesNotMatch (400 XAmzContentSHA256Mismatch for a body),
 * as S3 answers; anything else is passed to the upstream unchanged.
 */
import { createHash, createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { endToEndHeaders } from "./http-headers.js";

export interface SignatureCheck {
  endpoint: string;
  stats: { checked: number; refused: number; presigned: number };
  /** What the last refusal was about (the canonical request the proxy computed), for test failures. */
  lastRefusal: string | undefined;
  close(): Promise<void>;
}

function strictEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function canonicalPath(rawPath: string): string {
  return rawPath
    .split("/")
    .map((segment) => strictEncode(decode(segment)))
    .join("/");
}

function canonicalQuery(rawQuery: string, skip: string | undefined): string {
  if (rawQuery === "") return "";
  const pairs = rawQuery
    .split("&")
    .filter((p) => p !== "")
    .map((p) => {
      const eq = p.indexOf("=");
      const name = eq < 0 ? p : p.slice(0, eq);
      const value = eq < 0 ? "" : p.slice(eq + 1);
      return [strictEncode(decode(name.replace(/\+/g, "%20"))), strictEncode(decode(value.replace(/\+/g, "%20")))] as const;
    })
    .filter(([name]) => name !== skip);
  pairs.sort(([a, av], [b, bv]) => (a < b ? -1 : a > b ? 1 : av < bv ? -1 : av > bv ? 1 : 0));
  return pairs.map(([n, v]) => `${n}=${v}`).join("&");
}

const hmac = (key: string | Buffer, data: string) => createHmac("sha256", key).update(data).digest();
const sha256Hex = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");

interface Parsed {
  accessKeyId: string;
  scope: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
  payloadHash: string;
}

/** What a credential scope names, with the rest of what was signed. */
function parsed(scope: string[], signedHeaders: string, signature: string, amzDate: string, payloadHash: string): Parsed {
  const [accessKeyId = "", date = "", region = "", service = ""] = scope;
  return {
    accessKeyId,
    date,
    region,
    service,
    scope: `${date}/${region}/${service}/aws4_request`,
    signedHeaders: signedHeaders.split(";"),
    signature,
    amzDate,
    payloadHash,
  };
}

function parseHeaderAuth(req: http.IncomingMessage): Parsed | string {
  const auth = req.headers.authorization ?? "";
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return `unparsable Authorization header`;
  return parsed(
    m.slice(1, 5),
    m[5] ?? "",
    m[6] ?? "",
    String(req.headers["x-amz-date"] ?? ""),
    String(req.headers["x-amz-content-sha256"] ?? ""),
  );
}

function parseQueryAuth(query: URLSearchParams): Parsed | string {
  const m = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/.exec(query.get("X-Amz-Credential") ?? "");
  if (!m || query.get("X-Amz-Algorithm") !== "AWS4-HMAC-SHA256") return "unparsable presigned query";
  return parsed(
    m.slice(1, 5),
    query.get("X-Amz-SignedHeaders") ?? "",
    query.get("X-Amz-Signature") ?? "",
    query.get("X-Amz-Date") ?? "",
    "UNSIGNED-PAYLOAD",
  );
}

/** The canonical request S3 would compute for what arrived, and the signature it expects. */
function expected(req: http.IncomingMessage, parsed: Parsed, secret: string, presigned: boolean): { canonical: string; signature: string } {
  const raw = req.url ?? "/";
  const q = raw.indexOf("?");
  const rawPath = q < 0 ? raw : raw.slice(0, q);
  const rawQuery = q < 0 ? "" : raw.slice(q + 1);
  const headers = parsed.signedHeaders.map((name) => {
    const value = req.headers[name];
    const text = Array.isArray(value) ? value.join(",") : (value ?? "");
    return `${name}:${text.trim().replace(/\s+/g, " ")}\n`;
  });
  const canonical = [
    req.method ?? "GET",
    canonicalPath(rawPath),
    canonicalQuery(rawQuery, presigned ? "X-Amz-Signature" : undefined),
    headers.join(""),
    parsed.signedHeaders.join(";"),
    parsed.payloadHash,
  ].join("\n");
  const stringToSign = ["AWS4-HMAC-SHA256", parsed.amzDate, parsed.scope, sha256Hex(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, parsed.date), parsed.region), parsed.service), "aws4_request");
  return { canonical, signature: createHmac("sha256", key).update(stringToSign).digest("hex") };
}

function refuse(res: http.ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`;
  res.writeHead(status, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

export async function startSignatureCheck(
  upstreamEndpoint: string,
  credentials: { accessKeyId: string; secretAccessKey: string },
): Promise<SignatureCheck> {
  const upstream = new URL(upstreamEndpoint);
  const agent = new http.Agent({ keepAlive: true });
  const stats = { checked: 0, refused: 0, presigned: 0 };
  const check: SignatureCheck = {
    endpoint: "",
    stats,
    lastRefusal: undefined,
    close: async () => undefined,
  };

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const query = new URL(req.url ?? "/", "http://check.invalid").searchParams;
    const presigned = query.has("X-Amz-Signature");
    const parsed = presigned ? parseQueryAuth(query) : parseHeaderAuth(req);
    stats.checked++;
    if (presigned) stats.presigned++;
    const fail = (status: number, code: string, why: string) => {
      stats.refused++;
      check.lastRefusal = why;
      refuse(res, status, code, "The request signature we calculated does not match the signature you provided.");
    };
    if (typeof parsed === "string") return fail(403, "AccessDenied", parsed);
    if (parsed.accessKeyId !== credentials.accessKeyId) return fail(403, "InvalidAccessKeyId", `unknown key id ${parsed.accessKeyId}`);
    if (!parsed.signedHeaders.includes("host")) return fail(403, "SignatureDoesNotMatch", "host is not signed");
    if (!presigned && !parsed.signedHeaders.includes("x-amz-date")) return fail(403, "SignatureDoesNotMatch", "x-amz-date is not signed");
    const { canonical, signature } = expected(req, parsed, credentials.secretAccessKey, presigned);
    if (signature !== parsed.signature) return fail(403, "SignatureDoesNotMatch", canonical);
    if (/^[0-9a-f]{64}$/.test(parsed.payloadHash) && sha256Hex(body) !== parsed.payloadHash) {
      return fail(400, "XAmzContentSHA256Mismatch", `body hash ${sha256Hex(body)} != ${parsed.payloadHash}`);
    }
    await new Promise<void>((resolve, reject) => {
      const up = http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: endToEndHeaders(req.headers), agent },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, endToEndHeaders(upRes.headers));
          upRes.pipe(res);
          upRes.once("end", resolve);
          upRes.once("error", reject);
        },
      );
      up.once("error", reject);
      up.end(body);
    });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => (res.socket ?? req.socket)?.destroy());
  });
  server.keepAliveTimeout = 72_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  check.endpoint = `http://127.0.0.1:${port}`;
  let closing: Promise<void> | undefined;
  check.close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      agent.destroy();
    });
    return closing;
  };
  return check;
}
