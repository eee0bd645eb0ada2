// One large-file transfer in a process of its own, so its peak RSS is that of the transfer alone.
//
// Plain JavaScript on purpose: run under tsx, the loader alone adds ~25-40 MB of RSS, which would
// blur a 150 MB target. run.ts starts it as `node bench/huge-worker.mjs '<json>'` and reads one
// JSON line from stdout.
//
// modes:
//   lib-up / lib-down  R2Client.uploadFile / downloadFile from the built dist/index.js
//   raw-up             @aws-sdk/lib-storage Upload, 8 MiB parts, queueSize 4
//   raw-down           HEAD, then parallel ranged GETs (8 MiB ranges, 8 in flight) written with
//                      positional writes into one file handle
import { createReadStream, readFileSync } from "node:fs";
import fs from "node:fs/promises";
import { Agent as HttpAgent } from "node:http";
import { pathToFileURL } from "node:url";
import { GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import pMap from "p-map";

const MIB = 1024 * 1024;

/** @typedef {{ mode: string, endpoint: string, bucket: string, key: string, file: string, dist: string,
 *   accessKeyId: string, secretAccessKey: string, region: string, timeoutMs: number }} Job */

/** @returns {number} peak RSS in KiB from /proc (VmHWM), or -1 off Linux */
function vmHWM() {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync("/proc/self/status", "utf8"));
    return m ? Number(m[1]) : -1;
  } catch {
    return -1;
  }
}

/**
 * Runs the measured part; wall time and this process's CPU time over it.
 * @template T @param {() => Promise<T>} fn
 */
async function timed(fn) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { value, seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

/** @param {Job} job */
function rawClient(job) {
  return new S3Client({
    endpoint: job.endpoint,
    region: job.region,
    credentials: { accessKeyId: job.accessKeyId, secretAccessKey: job.secretAccessKey },
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: new NodeHttpHandler({ httpAgent: new HttpAgent({ keepAlive: true, maxSockets: 64 }) }),
  });
}

/** @param {Job} job @param {AbortSignal} signal */
async function rawUp(job, signal) {
  const client = rawClient(job);
  const size = (await fs.stat(job.file)).size;
  const upload = new Upload({
    client,
    queueSize: 4,
    partSize: 8 * MIB,
    leavePartsOnError: false,
    params: { Bucket: job.bucket, Key: job.key, Body: createReadStream(job.file), ContentLength: size },
  });
  signal.addEventListener("abort", () => void upload.abort().catch(() => undefined), { once: true });
  const { seconds, cpuSeconds } = await timed(() => upload.done());
  client.destroy();
  return { seconds, cpuSeconds, bytes: size };
}

/** @param {Job} job @param {AbortSignal} signal */
async function rawDown(job, signal) {
  const client = rawClient(job);
  const { value: size, seconds, cpuSeconds } = await timed(() => rangedDownload(client, job, signal));
  client.destroy();
  return { seconds, cpuSeconds, bytes: size };
}

/** @param {S3Client} client @param {Job} job @param {AbortSignal} signal @returns {Promise<number>} */
async function rangedDownload(client, job, signal) {
  const head = await client.send(new HeadObjectCommand({ Bucket: job.bucket, Key: job.key }), { abortSignal: signal });
  const size = head.ContentLength ?? 0;
  const range = 8 * MIB;
  const handle = await fs.open(job.file, "w");
  try {
    const starts = Array.from({ length: Math.ceil(size / range) }, (_, i) => i * range);
    await pMap(
      starts,
      async (start) => {
        const end = Math.min(start + range, size) - 1;
        const res = await client.send(new GetObjectCommand({ Bucket: job.bucket, Key: job.key, Range: `bytes=${start}-${end}` }), {
          abortSignal: signal,
        });
        let pos = start;
        for await (const chunk of /** @type {AsyncIterable<Buffer>} */ (res.Body)) {
          let off = 0;
          while (off < chunk.length) {
            const { bytesWritten } = await handle.write(chunk, off, chunk.length - off, pos + off);
            off += bytesWritten;
          }
          pos += chunk.length;
        }
        if (pos !== end + 1) throw new Error(`range ${start}-${end} arrived short (${pos - start} bytes)`);
      },
      { concurrency: 8, signal },
    );
  } finally {
    await handle.close();
  }
  return size;
}

/** @param {Job} job @param {AbortSignal} signal */
async function lib(job, signal) {
  /** @type {typeof import("../src/index.js")} */
  const { R2Client } = await import(pathToFileURL(job.dist).href);
  const client = new R2Client({
    bucketName: job.bucket,
    endpointUrl: job.endpoint,
    accessKeyId: job.accessKeyId,
    secretAccessKey: job.secretAccessKey,
    regionName: job.region,
  });
  const {
    value: out,
    seconds,
    cpuSeconds,
  } = await timed(() =>
    job.mode === "lib-up"
      ? client.uploadFile(job.file, job.key, { overwrite: true, signal })
      : client.downloadFile(job.key, job.file, { overwrite: true, signal }),
  );
  await client.close();
  return { seconds, cpuSeconds, bytes: out.size };
}

async function main() {
  /** @type {Job} */
  const job = JSON.parse(process.argv[2] ?? "{}");
  const signal = AbortSignal.timeout(job.timeoutMs);
  const rssBeforeKiB = Math.round(process.memoryUsage().rss / 1024);
  const result = job.mode.startsWith("raw-") ? await (job.mode === "raw-up" ? rawUp : rawDown)(job, signal) : await lib(job, signal);
  process.stdout.write(`${JSON.stringify({ ...result, rssBeforeKiB, maxRssKiB: process.resourceUsage().maxRSS, vmHWMKiB: vmHWM() })}\n`);
}

main().catch((err) => {
  process.stderr.write(`huge-worker: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
