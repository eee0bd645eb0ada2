/**
 * The suite's real S3 server (fauxqs 1.9.2, in-process on 127.0.0.1) started so that it can be
 * killed and restarted on the same port WITHOUT losing its storage, the way a real server (R2,
 * MinIO) keeps objects and unfinished multipart uploads across a crash. test/helpers/s3-server.ts
 * restarts empty, which would make "no orphan multipart upload after restart" true by accident.
 *
 * fauxqs also does not implement ListMultipartUploads (GET /bucket?uploads answers a plain object
 * listing without <Upload> entries), so the unfinished uploads are read from fauxqs's own storage
 * object. Its S3Store class is not in the package's exports map, hence the relative import.
 */
import type { AddressInfo } from "node:net";
import type { S3Client } from "@aws-sdk/client-s3";
import { buildApp } from "fauxqs";
import { S3Store as FauxqsStorage } from "../../node_modules/fauxqs/dist/s3/s3Store.js";
import { makeS3Client, TEST_ACCESS_KEY_ID, TEST_REGION, TEST_SECRET_ACCESS_KEY } from "./s3-server.js";

export interface OpenUpload {
  key: string;
  uploadId: string;
}

export interface DurableS3Server {
  endpoint: string;
  port: number;
  bucket: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  rawClient(): S3Client;
  /** Stops listening and cuts every open connection, mid-transfer included; storage survives. */
  kill(): Promise<void>;
  /** Listens again on the same port with the same storage. */
  restart(): Promise<void>;
  /** Multipart uploads started and neither completed nor aborted. */
  openUploads(): OpenUpload[];
  close(): Promise<void>;
}

type App = ReturnType<typeof buildApp>;

export async function startDurableS3Server(bucket = "r2mcp-faults"): Promise<DurableS3Server> {
  const storage = new FauxqsStorage();
  storage.createBucket(bucket);
  let app: App | undefined;
  let port = 0;

  async function listen(): Promise<void> {
    // The SQS and SNS stores are fauxqs's defaults; only the S3 storage is shared across restarts.
    const next = buildApp({ logger: false, defaultRegion: TEST_REGION, stores: { s3Store: storage } as never });
    await next.listen({ host: "127.0.0.1", port });
    port = (next.server.address() as AddressInfo).port;
    app = next;
  }

  async function kill(): Promise<void> {
    const running = app;
    app = undefined;
    // fauxqs sets fastify's forceCloseConnections: close() destroys in-flight sockets too.
    await running?.close();
  }

  await listen();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    port,
    bucket,
    region: TEST_REGION,
    credentials: { accessKeyId: TEST_ACCESS_KEY_ID, secretAccessKey: TEST_SECRET_ACCESS_KEY },
    rawClient: () => makeS3Client(endpoint),
    kill,
    async restart() {
      if (app === undefined) await listen();
    },
    openUploads() {
      const uploads = (storage as unknown as { multipartUploads: Map<string, { key: string; bucket: string }> }).multipartUploads;
      return [...uploads.entries()].filter(([, u]) => u.bucket === bucket).map(([uploadId, u]) => ({ key: u.key, uploadId }));
    },
    close: kill,
  };
}
