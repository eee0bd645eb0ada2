/**
 * The "ceiling" baselines: what a plain @aws-sdk/client-s3 loop does with the same concurrency,
 * with none of r2-mcp's checks (no HEAD before a write, no temp file + rename, no fsync, no
 * path or key vetting). Also the server's own ceiling (in-memory bodies, no disk) and cleanup.
 */
import { createReadStream, createWriteStream } from "node:fs";
import fs from "node:fs/promises";
import { Agent as HttpAgent } from "node:http";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import pMap from "p-map";

export const BENCH_CREDENTIALS = { accessKeyId: "AKIDBENCHR2MCP", secretAccessKey: "bench-secret-not-checked-by-fauxqs" };
export const BENCH_REGION = "us-east-1";

export function rawClient(endpoint: string, maxSockets: number): S3Client {
  return new S3Client({
    endpoint,
    region: BENCH_REGION,
    credentials: BENCH_CREDENTIALS,
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: new NodeHttpHandler({ httpAgent: new HttpAgent({ keepAlive: true, maxSockets }) }),
  });
}

export interface LocalFile {
  path: string;
  /** relative, with "/" */
  relative: string;
  size: number;
}

export async function walkFiles(dir: string, relative = ""): Promise<LocalFile[]> {
  const out: LocalFile[] = [];
  for (const entry of await fs.readdir(path.join(dir, relative), { withFileTypes: true })) {
    const rel = relative ? `${relative}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...(await walkFiles(dir, rel)));
    else if (entry.isFile()) out.push({ path: path.join(dir, rel), relative: rel, size: (await fs.stat(path.join(dir, rel))).size });
  }
  return out;
}

export async function listAll(client: S3Client, bucket: string, prefix: string): Promise<{ key: string; size: number }[]> {
  const out: { key: string; size: number }[] = [];
  let token: string | undefined;
  for (let page = 0; page < 100_000; page++) {
    const res = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of res.Contents ?? []) out.push({ key: o.Key ?? "", size: o.Size ?? 0 });
    token = res.IsTruncated ? res.NextContinuationToken : undefined;
    if (!token) break;
  }
  return out;
}

/** Walk + one PutObject per file, streamed from disk, `concurrency` in flight. */
export async function rawUploadDirectory(
  client: S3Client,
  bucket: string,
  dir: string,
  prefix: string,
  concurrency: number,
  signal: AbortSignal,
): Promise<{ files: number; bytes: number }> {
  const files = await walkFiles(dir);
  await pMap(
    files,
    async (f) => {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: prefix + f.relative, Body: createReadStream(f.path), ContentLength: f.size }),
        { abortSignal: signal },
      );
    },
    { concurrency, signal },
  );
  return { files: files.length, bytes: files.reduce((n, f) => n + f.size, 0) };
}

/** List + one GetObject per key piped into its file, `concurrency` in flight. */
export async function rawDownloadDirectory(
  client: S3Client,
  bucket: string,
  prefix: string,
  dir: string,
  concurrency: number,
  signal: AbortSignal,
): Promise<{ files: number; bytes: number }> {
  const objects = await listAll(client, bucket, prefix);
  // One mkdir per directory, shared by every worker that needs it.
  const made = new Map<string, Promise<unknown>>();
  await pMap(
    objects,
    async (o) => {
      const target = path.join(dir, o.key.slice(prefix.length));
      const parent = path.dirname(target);
      let mkdir = made.get(parent);
      if (!mkdir) {
        mkdir = fs.mkdir(parent, { recursive: true });
        made.set(parent, mkdir);
      }
      await mkdir;
      const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: o.key }), { abortSignal: signal });
      await pipeline(res.Body as Readable, createWriteStream(target), { signal });
    },
    { concurrency, signal },
  );
  return { files: objects.length, bytes: objects.reduce((n, o) => n + o.size, 0) };
}

export async function rawHead(client: S3Client, bucket: string, key: string): Promise<void> {
  await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
}

/** Deletes every key under `prefix` (1000 per request); keeps the in-memory server small. */
export async function deletePrefix(client: S3Client, bucket: string, prefix: string): Promise<number> {
  const keys = (await listAll(client, bucket, prefix)).map((o) => o.key);
  for (let i = 0; i < keys.length; i += 1000) {
    await client.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
  }
  return keys.length;
}

/** Seeds `count` objects of `size` random-free bytes under `prefix` (untimed set-up for the keys case). */
export async function rawPutMany(
  client: S3Client,
  bucket: string,
  prefix: string,
  count: number,
  size: number,
  concurrency: number,
  signal: AbortSignal,
): Promise<void> {
  const body = Buffer.alloc(size, 0x61);
  const keys = Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(6, "0")}`);
  await pMap(keys, (Key) => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: body })), { concurrency, signal });
}

/** ListObjectsV2 under `from`, then one CopyObject per key to the same name under `to`: no checks at all. */
export async function rawCopyPrefix(
  client: S3Client,
  bucket: string,
  from: string,
  to: string,
  concurrency: number,
  signal: AbortSignal,
): Promise<{ files: number; bytes: number }> {
  const objects = await listAll(client, bucket, from);
  await pMap(
    objects,
    (o) =>
      client.send(
        new CopyObjectCommand({ Bucket: bucket, Key: to + o.key.slice(from.length), CopySource: `${bucket}/${encodeURI(o.key)}` }),
        { abortSignal: signal },
      ),
    { concurrency, signal },
  );
  return { files: objects.length, bytes: objects.reduce((n, o) => n + o.size, 0) };
}

export interface ServerCeiling {
  /** 4 KiB PUTs per second from memory, concurrency 64 */
  put4kPerSec: number;
  /** 4 KiB GETs per second into memory, concurrency 64 */
  get4kPerSec: number;
  /** HEADs per second, concurrency 64 */
  headPerSec: number;
  /** 8 MiB PUTs from memory, concurrency `concurrency`: MiB/s */
  put8mMiBps: number;
  /** 8 MiB GETs drained into nothing, concurrency `concurrency`: MiB/s */
  get8mMiBps: number;
}

async function rate<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>, signal: AbortSignal): Promise<number> {
  const t0 = performance.now();
  await pMap(items, fn, { concurrency, signal });
  return items.length / ((performance.now() - t0) / 1000);
}

async function drain(body: unknown): Promise<void> {
  for await (const _chunk of body as Readable) {
    // discard
  }
}

/**
 * What the server can do with the lightest possible client (bodies in memory, nothing on disk):
 * best of `repeats`. A row whose r2-mcp and raw SDK numbers both sit near this is server-bound.
 */
export async function measureServerCeiling(
  client: S3Client,
  bucket: string,
  opts: { smallCount: number; largeCount: number; concurrency: number; repeats: number; signal: AbortSignal },
): Promise<ServerCeiling> {
  const small = Buffer.alloc(4096, 7);
  const large = Buffer.alloc(8 * 1024 * 1024, 9);
  const smallKeys = Array.from({ length: opts.smallCount }, (_, i) => `ceiling/s/${String(i).padStart(5, "0")}`);
  const largeKeys = Array.from({ length: opts.largeCount }, (_, i) => `ceiling/l/${String(i).padStart(4, "0")}`);
  const best = { put4kPerSec: 0, get4kPerSec: 0, headPerSec: 0, put8mMiBps: 0, get8mMiBps: 0 };
  const { signal } = opts;
  // Round 0 warms up both processes (JIT, sockets) and is not counted.
  for (let r = 0; r <= opts.repeats; r++) {
    const put4k = await rate(
      smallKeys,
      64,
      async (Key) => void (await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: small }))),
      signal,
    );
    const get4k = await rate(
      smallKeys,
      64,
      async (Key) => drain((await client.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body),
      signal,
    );
    const head = await rate(smallKeys, 64, (Key) => rawHead(client, bucket, Key), signal);
    const put8m = await rate(
      largeKeys,
      opts.concurrency,
      async (Key) => void (await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: large }))),
      signal,
    );
    const get8m = await rate(
      largeKeys,
      opts.concurrency,
      async (Key) => drain((await client.send(new GetObjectCommand({ Bucket: bucket, Key }))).Body),
      signal,
    );
    if (r === 0) continue;
    best.put4kPerSec = Math.max(best.put4kPerSec, put4k);
    best.get4kPerSec = Math.max(best.get4kPerSec, get4k);
    best.headPerSec = Math.max(best.headPerSec, head);
    best.put8mMiBps = Math.max(best.put8mMiBps, put8m * 8);
    best.get8mMiBps = Math.max(best.get8mMiBps, get8m * 8);
  }
  await deletePrefix(client, bucket, "ceiling/");
  return best;
}
