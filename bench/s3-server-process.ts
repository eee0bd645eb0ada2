/**
 * The benchmark's S3 server: fauxqs in its own process (so the client being measured never
 * shares an event loop or a core's time slice accounting with it), bound to 127.0.0.1 only.
 *
 * Started by run.ts with fork() and `--import tsx`. It talks over the IPC channel:
 *  - sends `{ type: "ready", endpoint }` once listening;
 *  - answers `{ type: "stats" }` with the requests it has served (by S3 operation), the TCP
 *    connections it accepted and its own CPU time, so run.ts can tell how many requests each client needs per file and whether the
 *    server's single event loop is saturated (the "server-bound" label);
 *  - exits on `{ type: "stop" }` or when the parent goes away.
 *
 * fauxqs keeps every object in memory and accepts any credentials; see
 * /work/shared/research/s3-test-servers.md.
 */
import type { AddressInfo } from "node:net";
import { buildApp } from "fauxqs";

type Operation =
  | "PutObject"
  | "CopyObject"
  | "UploadPart"
  | "CreateMultipartUpload"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "GetObject"
  | "HeadObject"
  | "ListObjects"
  | "DeleteObject"
  | "DeleteObjects"
  | "Bucket"
  | "Other";

const counts = new Map<Operation, number>();
let bytesIn = 0;
/** TCP connections accepted: a client that keeps its connections alive opens few. */
let connections = 0;

function classify(method: string, url: string, copySource: boolean): Operation {
  const q = url.indexOf("?");
  const path = q === -1 ? url : url.slice(0, q);
  const query = new URLSearchParams(q === -1 ? "" : url.slice(q + 1));
  // "/bucket" or "/bucket/" is a bucket-level request; "/bucket/key..." an object request.
  const objectLevel = /^\/[^/]+\/.+/.test(path);
  switch (method) {
    case "PUT":
      if (!objectLevel) return "Bucket";
      if (query.has("uploadId")) return "UploadPart";
      return copySource ? "CopyObject" : "PutObject";
    case "GET":
      return objectLevel ? "GetObject" : "ListObjects";
    case "HEAD":
      return objectLevel ? "HeadObject" : "Bucket";
    case "POST":
      if (query.has("uploads")) return "CreateMultipartUpload";
      if (query.has("uploadId")) return "CompleteMultipartUpload";
      return query.has("delete") ? "DeleteObjects" : "Other";
    case "DELETE":
      if (!objectLevel) return "Bucket";
      return query.has("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
    default:
      return "Other";
  }
}

async function main(): Promise<void> {
  if (!process.send) throw new Error("s3-server-process.ts must be started with fork() (it reports over IPC)");
  const app = buildApp({ logger: false, defaultRegion: "us-east-1" });
  app.addHook("onRequest", async (request) => {
    const op = classify(request.method, request.url, request.headers["x-amz-copy-source"] !== undefined);
    counts.set(op, (counts.get(op) ?? 0) + 1);
    const length = Number(request.headers["content-length"] ?? 0);
    if (Number.isFinite(length)) bytesIn += length;
  });
  // Only loopback: the benchmark never touches any other address.
  await app.listen({ host: "127.0.0.1", port: 0 });
  app.server.on("connection", () => {
    connections++;
  });
  const { port } = app.server.address() as AddressInfo;

  process.on("message", (message: { type?: string }) => {
    if (message.type === "stats") {
      process.send?.({
        type: "stats",
        requests: Object.fromEntries(counts),
        bytesIn,
        connections,
        cpu: process.cpuUsage(),
        rss: process.memoryUsage().rss,
      });
    } else if (message.type === "stop") {
      void app.close().finally(() => process.exit(0));
    }
  });
  // The parent crashing must not leave a server behind.
  process.on("disconnect", () => process.exit(0));
  process.send({ type: "ready", endpoint: `http://127.0.0.1:${port}` });
}

main().catch((err: unknown) => {
  process.stderr.write(`s3-server-process: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
