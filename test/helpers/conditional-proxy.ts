/**
 * TEST STAND-IN for one server feature: conditional create (`If-None-Match: *`).
 *
 * Cloudflare R2 and AWS S3 answer 412 PreconditionFailed to a PutObject or
 * CompleteMultipartUpload carrying `If-None-Match: *` when the key already exists, atomically.
 * The local test server (fauxqs 1.9.2) ignores the header and silently overwrites. This loopback
 * proxy sits in front of it and implements exactly that check; it is a test double, not a model
 * of R2, and nothing else is emulated:
 *  - every other request (and every request without `if-none-match: *`) is passed through
 *    unchanged: method, path, query, headers, streamed body, status, response headers and
 *    streamed response body;
 *  - conditional writes are serialised per raw request path (bucket + still-URL-encoded key), then
 *    the key is checked with an unsigned HEAD upstream (fauxqs checks no signatures) and either
 *    answered 412 here (request body discarded, never forwarded) or forwarded, the per-key lock
 *    being released only once the upstream response has fully arrived. Two spellings of one key
 *    (e.g. `%7E` vs `~`) get different locks; clients that encode consistently (the SDK does) are unaffected.
 *  - copies (requests carrying `x-amz-copy-source`): fauxqs copies whole objects but ignores
 *    `x-amz-copy-source-if-match` and does not implement UploadPartCopy (it would store the empty
 *    request body as the part). The proxy answers 412 to a CopyObject whose source ETag differs
 *    from `x-amz-copy-source-if-match` (checked with an unsigned HEAD upstream), and carries out an
 *    UploadPartCopy itself: it reads the source range upstream (checking the same header), uploads
 *    it as that part, and answers the CopyPartResult S3 documents. A CopyObject with
 *    `If-None-Match: *` takes the conditional-create path above;
 *  - conditional deletes (DeleteObject with `If-Match`, as AWS S3 has answered since 2025): fauxqs
 *    ignores the header and deletes whatever is there. The proxy checks the key with an unsigned
 *    HEAD upstream under the same per-key lock and answers 412 when the ETag differs, 404
 *    NoSuchKey when the key is missing (AWS's answers), and forwards the DELETE otherwise;
 *  - if the upstream connection fails, the client's socket is destroyed too, so the client sees the
 *    same kind of network failure it would see talking to the server directly (no synthetic 502).
 *    Known gap: fauxqs answers 413 to a body over 11 MiB and closes before reading it; through the
 *    proxy that reaches the client as a reset connection, not as the 413.
 */

import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { endToEndHeaders } from "./http-headers.js";

export interface ConditionalProxy {
  endpoint: string;
  /** copies: CopyObject and UploadPartCopy requests seen (server-side copies). */
  /** conditionalDeletes: DeleteObject requests carrying If-Match; keptDeletes: those answered 412 or 404. */
  stats: {
    preconditionFailed: number;
    forwarded: number;
    copies: number;
    partCopies: number;
    conditionalDeletes: number;
    keptDeletes: number;
  };
  close(): Promise<void>;
}

/** PutObject / CopyObject (PUT without part query) or CompleteMultipartUpload (POST ?uploadId=). */
function isConditionalCreate(req: http.IncomingMessage): boolean {
  if (req.headers["if-none-match"]?.trim() !== "*") return false;
  const url = new URL(req.url ?? "/", "http://proxy.invalid");
  const isObjectPath = /^\/[^/]+\/.+/.test(url.pathname);
  if (!isObjectPath) return false;
  if (req.method === "PUT") return !url.searchParams.has("uploadId") && !url.searchParams.has("partNumber");
  if (req.method === "POST") return url.searchParams.has("uploadId");
  return false;
}

/** Cuts the client connection (res.socket is null once a response has been fully handed over). */
function dropConnection(res: http.ServerResponse): void {
  (res.socket ?? res.req.socket)?.destroy();
}

function preconditionFailedXml(): string {
  const requestId = randomBytes(8).toString("hex").toUpperCase();
  return (
    `<?xml version="1.0" encoding="UTF-8"?><Error><Code>PreconditionFailed</Code>` +
    `<Message>At least one of the pre-conditions you specified did not hold</Message>` +
    `<Condition>If-None-Match</Condition><RequestId>${requestId}</RequestId></Error>`
  );
}

export async function startConditionalProxy(upstreamEndpoint: string): Promise<ConditionalProxy> {
  const upstream = new URL(upstreamEndpoint);
  if (upstream.protocol !== "http:") throw new Error(`upstream must be http:, got ${upstreamEndpoint}`);
  const agent = new http.Agent({ keepAlive: true });
  const stats = { preconditionFailed: 0, forwarded: 0, copies: 0, partCopies: 0, conditionalDeletes: 0, keptDeletes: 0 };
  // Tail of the queue per lock key: each writer waits for the previous one's promise.
  const locks = new Map<string, Promise<void>>();

  async function withKeyLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = locks.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    locks.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      if (locks.get(key) === tail) locks.delete(key); // nobody queued behind us
    }
  }

  /** Unsigned HEAD of the object upstream: true if it exists (200), false otherwise. */
  function existsUpstream(rawPath: string): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const head = http.request({ host: upstream.hostname, port: upstream.port, path: rawPath, method: "HEAD", agent }, (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode === 200));
        res.on("error", reject);
      });
      head.on("error", reject);
      head.end();
    });
  }

  /** Streams req to the upstream and the answer back; resolves when both directions are done. */
  async function forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    stats.forwarded++;
    const upReq = http.request({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: endToEndHeaders(req.headers),
      agent,
    });
    const responded = new Promise<void>((resolve, reject) => {
      upReq.on("response", (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEndHeaders(upRes.headers));
        pipeline(upRes, res).then(resolve, reject);
      });
      upReq.on("error", reject);
    });
    // A body-pipe failure after the whole answer went through (a server may answer and stop
    // reading) is not a failure of the exchange: the client has its answer.
    const sent = pipeline(req, upReq).catch((err: unknown) => {
      if (!res.writableFinished) throw err;
    });
    try {
      await Promise.all([sent, responded]);
    } catch {
      // Upstream died or client went away: mirror it as a dropped connection on both sides.
      upReq.destroy();
      dropConnection(res);
    }
  }

  /** One upstream request (unsigned: fauxqs checks no signatures), answered whole. */
  function upstreamRequest(
    method: string,
    rawPath: string,
    headers: http.OutgoingHttpHeaders = {},
    body?: Buffer,
  ): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const up = http.request({ host: upstream.hostname, port: upstream.port, path: rawPath, method, headers, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on("error", reject);
      });
      up.on("error", reject);
      up.end(body);
    });
  }

  /** The raw path of a copy source header ("bucket/key", URL-encoded, with or without a leading "/"). */
  function sourcePath(header: string): string {
    return header.startsWith("/") ? header : `/${header}`;
  }

  async function answer412(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    stats.preconditionFailed++;
    req.resume();
    await new Promise<void>((resolve) => {
      req.on("end", resolve);
      req.on("close", resolve);
    });
    const body = preconditionFailedXml();
    res.writeHead(412, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
    res.end(body);
  }

  /** UploadPartCopy, which fauxqs lacks: the source range read upstream and uploaded as the part. */
  async function uploadPartCopy(req: http.IncomingMessage, res: http.ServerResponse, copySource: string): Promise<void> {
    stats.partCopies++;
    const range = req.headers["x-amz-copy-source-range"];
    const source = await upstreamRequest("GET", sourcePath(copySource), typeof range === "string" ? { range } : {});
    const ifMatch = req.headers["x-amz-copy-source-if-match"];
    if (source.status >= 300) {
      res.writeHead(source.status, { "content-type": "application/xml" });
      res.end(source.body);
      return;
    }
    if (typeof ifMatch === "string" && source.headers.etag !== ifMatch) return answer412(req, res);
    req.resume();
    const part = await upstreamRequest("PUT", req.url ?? "/", { "content-length": source.body.length }, source.body);
    if (part.status !== 200) {
      res.writeHead(part.status, { "content-type": "application/xml" });
      res.end(part.body);
      return;
    }
    const xml =
      `<?xml version="1.0" encoding="UTF-8"?><CopyPartResult><LastModified>${new Date().toISOString()}</LastModified>` +
      `<ETag>${String(part.headers.etag ?? "").replaceAll('"', "&quot;")}</ETag></CopyPartResult>`;
    res.writeHead(200, { "content-type": "application/xml", "content-length": Buffer.byteLength(xml) });
    res.end(xml);
  }

  /** DeleteObject with If-Match: only the version of that ETag is deleted. */
  async function conditionalDelete(req: http.IncomingMessage, res: http.ServerResponse, ifMatch: string): Promise<void> {
    stats.conditionalDeletes++;
    const rawPath = (req.url ?? "/").split("?")[0] ?? "/";
    await withKeyLock(rawPath, async () => {
      const head = await upstreamRequest("HEAD", rawPath);
      if (head.status === 404) {
        stats.keptDeletes++;
        req.resume();
        const body = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>`;
        res.writeHead(404, { "content-type": "application/xml", "content-length": Buffer.byteLength(body) });
        res.end(body);
        return;
      }
      if (head.status === 200 && ifMatch.trim() !== "*" && head.headers.etag !== ifMatch.trim()) {
        stats.keptDeletes++;
        return answer412(req, res);
      }
      return forward(req, res);
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const ifMatch = req.headers["if-match"];
    if (req.method === "DELETE" && typeof ifMatch === "string" && !(req.url ?? "").includes("uploadId=")) {
      return conditionalDelete(req, res, ifMatch);
    }
    const copySource = req.headers["x-amz-copy-source"];
    if (req.method === "PUT" && typeof copySource === "string") {
      const url = new URL(req.url ?? "/", "http://proxy.invalid");
      if (url.searchParams.has("partNumber")) return uploadPartCopy(req, res, copySource);
      stats.copies++;
      const ifMatch = req.headers["x-amz-copy-source-if-match"];
      if (typeof ifMatch === "string") {
        const head = await upstreamRequest("HEAD", sourcePath(copySource));
        if (head.status === 200 && head.headers.etag !== ifMatch) return answer412(req, res);
      }
    }
    if (!isConditionalCreate(req)) return forward(req, res);
    const rawPath = (req.url ?? "/").split("?")[0] ?? "/";
    await withKeyLock(rawPath, async () => {
      let exists: boolean;
      try {
        exists = await existsUpstream(rawPath);
      } catch {
        dropConnection(res); // upstream unreachable: behave like a dropped connection
        return;
      }
      if (!exists) return forward(req, res);
      stats.preconditionFailed++;
      // Read and discard the body before answering, so a keep-alive client is not cut off mid-send.
      req.resume();
      await new Promise<void>((resolve) => {
        req.on("end", resolve);
        req.on("close", resolve);
      });
      const body = preconditionFailedXml();
      res.writeHead(412, {
        "content-type": "application/xml",
        "content-length": Buffer.byteLength(body),
      });
      res.end(body);
    });
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch(() => dropConnection(res));
  });
  // Node's default 5 s idle timeout would make SDK clients hit resets that fauxqs (72 s) never
  // causes; match the upstream so the proxy adds no failures of its own.
  server.keepAliveTimeout = 72_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return closing;
    },
  };
}
