/**
 * TEST STAND-IN for one server feature: HEAD with `partNumber` on a multipart object.
 *
 * AWS S3 answers `HEAD /bucket/key?partNumber=N` for an object made by a multipart upload with
 * that part's length as Content-Length and the number of parts in `x-amz-mp-parts-count`. fauxqs
 * 1.9.2 ignores the parameter and answers for the whole object. This loopback proxy sits in front
 * of it, watches multipart uploads go through (the length of each UploadPart, and which upload a
 * successful CompleteMultipartUpload turned into which object path), and answers such a HEAD
 * from what it saw. Nothing else is emulated: every other request is passed through unchanged, and
 * a HEAD with partNumber on an object it did not see completed goes upstream as it is (so it
 * behaves like fauxqs: no parts count).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { endToEndHeaders } from "./http-headers.js";

export interface PartNumberProxy {
  endpoint: string;
  /** HEADs with partNumber answered from recorded parts. */
  stats: { partHeads: number };
  close(): Promise<void>;
}

export async function startPartNumberProxy(upstreamEndpoint: string): Promise<PartNumberProxy> {
  const upstream = new URL(upstreamEndpoint);
  const agent = new http.Agent({ keepAlive: true });
  const stats = { partHeads: 0 };
  /** uploadId → part number → length. */
  const uploads = new Map<string, Map<number, number>>();
  /** Raw object path → lengths of its parts in order. */
  const objects = new Map<string, number[]>();

  function send(method: string, url: string, headers: http.OutgoingHttpHeaders, body?: http.IncomingMessage) {
    return new Promise<http.IncomingMessage>((resolve, reject) => {
      const up = http.request({ host: upstream.hostname, port: upstream.port, method, path: url, headers, agent }, resolve);
      up.on("error", reject);
      if (body) pipeline(body, up).catch(reject);
      else up.end();
    });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://proxy.invalid");
    const rawPath = (req.url ?? "/").split("?")[0] ?? "/";
    const uploadId = url.searchParams.get("uploadId");
    const partNumber = Number(url.searchParams.get("partNumber"));
    const parts = objects.get(rawPath);
    if (req.method === "HEAD" && partNumber >= 1 && parts && partNumber <= parts.length) {
      stats.partHeads++;
      const upRes = await send("HEAD", rawPath, endToEndHeaders(req.headers));
      upRes.resume();
      const headers = endToEndHeaders(upRes.headers);
      if (upRes.statusCode === 200) {
        headers["content-length"] = String(parts[partNumber - 1]);
        headers["x-amz-mp-parts-count"] = String(parts.length);
      }
      res.writeHead(upRes.statusCode ?? 502, headers);
      res.end();
      return;
    }
    const upRes = await send(req.method ?? "GET", req.url ?? "/", endToEndHeaders(req.headers), req);
    const ok = (upRes.statusCode ?? 500) < 300;
    if (ok && req.method === "PUT" && uploadId && partNumber >= 1) {
      const recorded = uploads.get(uploadId) ?? new Map<number, number>();
      recorded.set(partNumber, Number(req.headers["content-length"]));
      uploads.set(uploadId, recorded);
    }
    if (ok && req.method === "POST" && uploadId && uploads.has(uploadId)) {
      const recorded = [...(uploads.get(uploadId) ?? new Map<number, number>())].sort(([a], [b]) => a - b);
      objects.set(
        rawPath,
        recorded.map(([, length]) => length),
      );
      uploads.delete(uploadId);
    }
    // A single PUT replaces whatever multipart object was there.
    if (ok && req.method === "PUT" && !uploadId) objects.delete(rawPath);
    res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEndHeaders(upRes.headers));
    await pipeline(upRes, res);
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
