/**
 * Shared set-up of the fault tests: the suite's real S3 server (fauxqs on 127.0.0.1), the
 * conditional-create stand-in in front of it (so If-None-Match: * is honoured as R2 does), and
 * the fault proxy in front of that. Stores get small attempt budgets and timeouts so that every
 * test is bounded by count and time.
 */
import type { S3StoreConfig, StoreLog } from "../../src/core/s3/client.js";
import { S3Store } from "../../src/core/s3/store.js";
import { MIB } from "../helpers/bytes.js";
import { type ConditionalProxy, startConditionalProxy } from "../helpers/conditional-proxy.js";
import { type DurableS3Server, startDurableS3Server } from "../helpers/durable-s3.js";
import { type FaultProxy, startFaultProxy } from "../helpers/fault-proxy.js";
import { makeTempDir, type TempDir } from "../helpers/tmp.js";

export interface FaultRig {
  /** fauxqs, whose unfinished multipart uploads can be listed (openUploads). */
  server: DurableS3Server;
  conditional: ConditionalProxy;
  proxy: FaultProxy;
  tmp: TempDir;
  /** A store talking to the fault proxy; closed by `close()`. */
  store(overrides?: Partial<S3StoreConfig>): S3Store;
  close(): Promise<void>;
}

export async function startFaultRig(options: { accessKeyId?: string } = {}): Promise<FaultRig> {
  const server = await startDurableS3Server();
  const conditional = await startConditionalProxy(server.endpoint);
  const proxy = await startFaultProxy(conditional.endpoint, options);
  const tmp = await makeTempDir("r2mcp-faults-");
  const stores: S3Store[] = [];
  return {
    server,
    conditional,
    proxy,
    tmp,
    store(overrides = {}) {
      const store = new S3Store({ ...storeConfig(server, proxy.endpoint), ...overrides });
      stores.push(store);
      return store;
    },
    async close() {
      await Promise.all(stores.map((s) => s.close()));
      await proxy.close();
      await conditional.close();
      await server.close();
      await tmp.cleanup();
    },
  };
}

/** Small budgets: 3 attempts, 2 s to connect, 1 s of silence is a hung socket, 5 MiB parts. */
export function storeConfig(server: Pick<DurableS3Server, "bucket" | "region" | "credentials">, endpoint: string): S3StoreConfig {
  return {
    bucket: server.bucket,
    endpoint,
    region: server.region,
    credentials: server.credentials,
    maxAttempts: 3,
    connectionTimeoutMs: 2_000,
    socketTimeoutMs: 1_000,
    multipartThreshold: 5 * MIB,
    multipartQueueSize: 2,
  };
}

export interface LogEntry {
  level: string;
  message: string;
  data?: Record<string, unknown>;
}

/** A StoreLog that keeps what it is told. */
export function captureLog(): { log: StoreLog; entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  return {
    entries,
    log: (level, message, data) => entries.push(data === undefined ? { level, message } : { level, message, data }),
  };
}
