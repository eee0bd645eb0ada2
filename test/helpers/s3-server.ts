/**
 * In-process S3 test server (fauxqs 1.9.2) bound to 127.0.0.1.
 *
 * Why fauxqs: it runs in-process on Node 20, paginates ListObjectsV2 correctly and is fast
 * (see /work/shared/research/s3-test-servers.md). What it does NOT do, so tests must not rely
 * on it for these:
 *  - it checks no signatures and accepts any credentials (signing bugs will not show here);
 *  - it ignores `If-None-Match: *` on writes (see conditional-proxy.ts for the stand-in);
 *  - it rejects any single request body over 11 MiB with 413 (multipart parts are fine);
 *  - its state lives in memory inside the app instance: close() + startS3Server({ port })
 *    gives an EMPTY server on the same port (only the bucket is re-created). A restart test
 *    therefore sees every object and multipart upload from before the restart vanish.
 *
 * We use buildApp() + listen() rather than fauxqs's startFauxqs()/CLI because those bind
 * 0.0.0.0. buildApp({ logger: false }) prints nothing; SQS/SNS parts only hold in-memory
 * state and open no outbound connections.
 */
import type { AddressInfo } from "node:net";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { buildApp } from "fauxqs";

/** Made-up credentials: fauxqs accepts anything; these exist so tests can check they never leak. */
export const TEST_ACCESS_KEY_ID = "AKIDTESTR2MCP";
export const TEST_SECRET_ACCESS_KEY = "test-secret-r2mcp-do-not-print";
export const TEST_REGION = "us-east-1";

export interface S3TestServer {
  /** e.g. http://127.0.0.1:PORT (always an IP: fauxqs treats dotted host names as virtual-hosted buckets) */
  endpoint: string;
  /** already created */
  bucket: string;
  region: string;
  /** the bound port, to restart on the same one with startS3Server({ port }) */
  port: number;
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** A plain SDK client pointed at this endpoint (path-style, checksums only when required). */
  rawClient(): S3Client;
  createBucket(name: string): Promise<void>;
  /** Stops the server, cuts open connections (even mid-transfer) and frees the port. Idempotent. */
  close(): Promise<void>;
}

export function makeS3Client(endpoint: string, region = TEST_REGION): S3Client {
  return new S3Client({
    endpoint,
    region,
    credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY },
    forcePathStyle: true,
    // SDK >= 3.729 adds CRC32 checksums by default, which R2 (and some S3 servers) reject; the
    // project configures WHEN_REQUIRED, so the raw client matches it.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

export async function startS3Server(opts: { bucket?: string; port?: number } = {}): Promise<S3TestServer> {
  const bucket = opts.bucket ?? "r2mcp-test";
  // logger:false keeps fastify silent. fastify's forceCloseConnections (set by fauxqs) makes
  // close() destroy every socket, including ones in the middle of a request: that is what a
  // "server killed mid-transfer" fault test needs, and it frees the port at once.
  const app = buildApp({ logger: false, defaultRegion: TEST_REGION });
  await app.listen({ host: "127.0.0.1", port: opts.port ?? 0 });
  const port = (app.server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;

  // Each call returns a new client owned by the caller (close() cuts its sockets anyway).
  const rawClient = (): S3Client => makeS3Client(endpoint);
  const createBucket = async (name: string): Promise<void> => {
    const c = makeS3Client(endpoint);
    try {
      await c.send(new CreateBucketCommand({ Bucket: name }));
    } finally {
      c.destroy();
    }
  };

  await createBucket(bucket).catch(async (err: unknown) => {
    await app.close(); // don't leave a listening server behind a failed start
    throw err;
  });

  let closing: Promise<void> | undefined;
  return {
    endpoint,
    bucket,
    region: TEST_REGION,
    port,
    credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY },
    rawClient,
    createBucket,
    close() {
      closing ??= app.close();
      return closing;
    },
  };
}
