/**
 * The S3 client's own cost per request, variant by variant: client CPU per 4 KiB GET (body read
 * into memory) and per HEAD, concurrency 16, against fauxqs in its own process on 127.0.0.1.
 * Variants run interleaved in rounds, so load from other work on the machine hits each alike;
 * CPU time per request is read from process.cpuUsage() (less sensitive to that load than wall time).
 *
 *   npx tsx bench/sdk-overhead.ts [--requests 2000] [--rounds 3]
 */
import { randomBytes } from "node:crypto";
import { Agent as HttpAgent } from "node:http";
import { parseArgs } from "node:util";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import pMap from "p-map";
import { abortable, createS3Client } from "../src/core/s3/client.js";
import { S3Store } from "../src/core/s3/store.js";
import { BENCH_CREDENTIALS, BENCH_REGION } from "./raw-sdk.js";
import { ServerProcess } from "./server.js";
import { median } from "./stats.js";

const { values } = parseArgs({ options: { requests: { type: "string" }, rounds: { type: "string" } } });
const REQUESTS = Number(values.requests ?? 2000);
const ROUNDS = Number(values.rounds ?? 3);
const BUCKET = "sdk-overhead";

interface Variant {
  name: string;
  config: Partial<S3ClientConfig>;
  /** Pass an options object to send() (as r2-mcp did for its abort signal): bypasses the handler cache. */
  withOptions: boolean;
  /** r2-mcp's own client (createS3Client), the signal passed with abortable(). */
  r2mcp?: boolean;
  /** Through r2-mcp's S3Store (get + read the body, head), its requests on this path. */
  store?: "sdk" | "direct";
}

const agent = () => new NodeHttpHandler({ httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }) });
const variants: Variant[] = [
  { name: "NodeHttpHandler, send(cmd, { abortSignal })", config: { requestHandler: agent() }, withOptions: true },
  { name: "+ cacheMiddleware, send(cmd, { abortSignal })", config: { requestHandler: agent(), cacheMiddleware: true }, withOptions: true },
  { name: "+ cacheMiddleware, send(cmd)", config: { requestHandler: agent(), cacheMiddleware: true }, withOptions: false },
  { name: "r2-mcp createS3Client (cacheMiddleware, signal routed in the input)", config: {}, withOptions: false, r2mcp: true },
  { name: "r2-mcp S3Store, every request through the SDK", config: {}, withOptions: false, store: "sdk" },
  { name: "r2-mcp S3Store, object requests on the direct path (direct.ts)", config: {}, withOptions: false, store: "direct" },
];

async function main(): Promise<void> {
  const server = await ServerProcess.start();
  try {
    const stores = variants.map((v) =>
      v.store === undefined
        ? undefined
        : new S3Store({
            bucket: BUCKET,
            endpoint: server.endpoint,
            region: BENCH_REGION,
            credentials: BENCH_CREDENTIALS,
            requests: v.store,
          }),
    );
    const clients = variants.map((v, i) =>
      stores[i] !== undefined
        ? (stores[i] as S3Store).client
        : v.r2mcp
          ? createS3Client({ bucket: BUCKET, endpoint: server.endpoint, region: BENCH_REGION, credentials: BENCH_CREDENTIALS })
          : new S3Client({
              endpoint: server.endpoint,
              region: BENCH_REGION,
              credentials: BENCH_CREDENTIALS,
              forcePathStyle: true,
              requestChecksumCalculation: "WHEN_REQUIRED",
              responseChecksumValidation: "WHEN_REQUIRED",
              ...v.config,
            }),
    );
    const first = clients[0] as S3Client;
    await first.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const keys = Array.from({ length: 200 }, (_, i) => `o/${i}`);
    for (const key of keys) await first.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: randomBytes(4096) }));
    const signal = new AbortController().signal;
    const results = new Map<string, { get: number[]; head: number[] }>();
    for (let round = 0; round < ROUNDS + 1; round++) {
      for (const [i, v] of variants.entries()) {
        const client = clients[i] as S3Client;
        const opts = v.withOptions ? { abortSignal: signal } : undefined;
        const run = async (op: "get" | "head") => {
          const c0 = process.cpuUsage();
          await pMap(
            Array.from({ length: REQUESTS }, (_, n) => keys[n % keys.length] as string),
            async (key) => {
              const store = stores[i];
              if (store !== undefined) {
                if (op === "get") for await (const _ of (await store.get(key, { signal })).body);
                else await store.head(key);
                return;
              }
              const input = { Bucket: BUCKET, Key: key };
              const options = v.r2mcp ? abortable(client, input, signal) : opts;
              if (op === "get") {
                const out = await client.send(new GetObjectCommand(input), options);
                await out.Body?.transformToByteArray();
              } else {
                await client.send(new HeadObjectCommand(input), options);
              }
            },
            { concurrency: 16 },
          );
          const c = process.cpuUsage(c0);
          return ((c.user + c.system) / REQUESTS) | 0;
        };
        const get = await run("get");
        const head = await run("head");
        if (round === 0) continue; // warm-up
        const r = results.get(v.name) ?? { get: [], head: [] };
        r.get.push(get);
        r.head.push(head);
        results.set(v.name, r);
      }
    }
    process.stdout.write(`| variant | CPU µs per 4 KiB GET | CPU µs per HEAD |\n|---|---|---|\n`);
    for (const [name, r] of results) process.stdout.write(`| ${name} | ${median(r.get)} | ${median(r.head)} |\n`);
    for (const [i, c] of clients.entries()) if (stores[i] === undefined) c.destroy();
    for (const store of stores) await store?.close();
  } finally {
    await server.stop();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
