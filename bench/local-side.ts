/**
 * The local-file side of a directory download alone: two builds' downloadDirectory from a store
 * held in memory (no network, no SDK), interleaved in one process. What it reports is what the
 * local files cost per file: CPU of the whole process, of the main thread, and of the other
 * threads (libuv's pool, mostly), from /proc/self/task/<tid>/stat.
 *
 *   npm run build && cp -r dist /tmp/before-dist   # on the "before" commit
 *   npx tsx bench/local-side.ts --a /tmp/before-dist --b dist [--rounds 8] [--files 1000]
 *     [--size 4096] [--concurrency 16] [--overwrite true|false] [--into-existing]
 *
 * --direction upload: uploadDirectory of a local folder of those files into the store in memory
 * (which reads each file's bytes and drops them): what reading the local files costs.
 * --into-existing: the target's folders exist before each run, each holding one unrelated file
 * (a download into folders already in use: the plan looks at them).
 *
 * UV_THREADPOOL_SIZE=N in the environment sets the pool for both builds (this process's).
 */
import { createHash } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { ListOptions, ObjectInfo, ObjectStore, PutBody } from "../src/core/store.js";
import { AB_OPTIONS, threadCpuSince, threadCpuUs } from "./ab-common.js";
import { median } from "./stats.js";

type Transfer = typeof import("../src/core/transfer/index.js");

/** A store of `files` objects of `size` bytes under seed/, in memory; only what a download asks. */
function memoryStore(files: number, size: number): ObjectStore {
  const data = Buffer.alloc(size, 7);
  const etag = createHash("md5").update(data).digest("hex");
  const lastModified = new Date("2026-01-02T03:04:05.678Z");
  const perDir = Math.max(1, Math.ceil(files / 10));
  const objects: ObjectInfo[] = Array.from({ length: files }, (_, i) => ({
    key: `seed/d${String(Math.floor(i / perDir)).padStart(2, "0")}/f${String(i).padStart(5, "0")}.bin`,
    size,
    lastModified,
    etag,
  }));
  const byKey = new Map(objects.map((o) => [o.key, o]));
  const unsupported = () => {
    throw new Error("not used by this bench");
  };
  return {
    name: "memory",
    capabilities: { remote: false, parallelRanges: false, presign: false, domain: "memory" },
    async list(options: ListOptions = {}) {
      const prefix = options.prefix ?? "";
      const after = options.cursor ?? "";
      const limit = options.limit ?? 1000;
      const page = objects.filter((o) => o.key.startsWith(prefix) && o.key > after).slice(0, limit);
      const last = page[page.length - 1];
      return { objects: page, prefixes: [], ...(page.length === limit && last ? { nextCursor: last.key } : {}) };
    },
    async head(key: string) {
      return byKey.get(key);
    },
    async get(key: string) {
      const info = byKey.get(key);
      if (!info) throw new Error(`no ${key}`);
      return { body: Readable.from([data], { objectMode: false }), info, range: { start: 0, end: size } };
    },
    // Uploads: the file's bytes are read (through the OpenFile, as a real store's request would) and dropped.
    async put(key: string, body: PutBody) {
      let size = 0;
      if (body.kind === "file") for await (const chunk of body.file.stream()) size += (chunk as Buffer).length;
      return { key, size, etag, replaced: false };
    },
    delete: unsupported,
    deleteMany: unsupported,
    presign: unsupported,
    copySource: unsupported,
    copy: unsupported,
    async close() {},
  } as unknown as ObjectStore;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      ...AB_OPTIONS,
      overwrite: { type: "string", default: "true" },
      "into-existing": { type: "boolean", default: false },
    },
  });
  if (!values.a || !values.b) throw new Error("--a DIST and --b DIST are required");
  const files = Number(values.files);
  const concurrency = Number(values.concurrency);
  const overwrite = values.overwrite !== "false";
  const store = memoryStore(files, Number(values.size));
  const base = await fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), "r2-mcp-local-side-")));
  // The folder an upload reads: the same layout as the objects (10 folders).
  const source = path.join(base, "source");
  const builds = await Promise.all(
    [values.a, values.b].map(async (dist, i) => ({
      name: i === 0 ? "A" : "B",
      dist,
      transfer: (await import(pathToFileURL(path.resolve(dist, "core/transfer/index.js")).href)) as Transfer,
      cpu: [] as number[],
      main: [] as number[],
      others: [] as number[],
      rate: [] as number[],
    })),
  );
  if (values.direction === "upload") await builds[0]?.transfer.downloadDirectory(store, "seed/", source, {});
  let n = 0;
  const once = async (b: (typeof builds)[number], record: boolean) => {
    const target = path.join(base, String(n++));
    if (values["into-existing"]) {
      for (let d = 0; d < 10; d++) {
        const folder = path.join(target, `d${String(d).padStart(2, "0")}`);
        await fs.mkdir(folder, { recursive: true });
        await fs.writeFile(path.join(folder, "keep.txt"), "unrelated");
      }
    }
    const c0 = process.cpuUsage();
    const t0 = threadCpuUs();
    const w0 = performance.now();
    const result =
      values.direction === "upload"
        ? await b.transfer.uploadDirectory(store, source, `up/${n}/`, { maxWorkers: concurrency, overwrite: true })
        : await b.transfer.downloadDirectory(store, "seed/", target, { maxWorkers: concurrency, overwrite });
    const wall = performance.now() - w0;
    const t = threadCpuSince(t0, files);
    const c = process.cpuUsage(c0);
    if (result.transferred !== files) throw new Error(`${b.name}: ${result.transferred} of ${files} files`);
    if (record) {
      b.cpu.push((c.user + c.system) / files);
      const main = t.get("main") ?? 0;
      b.main.push(main);
      b.others.push([...t.values()].reduce((sum, us) => sum + us, 0) - main);
      b.rate.push(files / (wall / 1000));
    }
    await fs.rm(target, { recursive: true, force: true });
  };
  try {
    for (const b of builds) await once(b, false);
    const rounds = Number(values.rounds);
    for (let r = 0; r < rounds; r++) for (const b of r % 2 === 0 ? builds : [...builds].reverse()) await once(b, true);
    console.log(
      `local side of ${values.direction === "upload" ? "an upload" : "a download"} of ${files} × ${values.size} B, concurrency ${concurrency}, overwrite ${overwrite}${values["into-existing"] ? ", into existing folders" : ""}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? "(4)"}, ${rounds} rounds, load ${os.loadavg()[0]?.toFixed(2)}`,
    );
    for (const b of builds) {
      console.log(
        `${b.name} ${b.dist}: CPU per file median ${median(b.cpu).toFixed(0)} µs (${b.cpu.map((x) => x.toFixed(0)).join(" ")}); main thread ${median(b.main).toFixed(0)}, other threads ${median(b.others).toFixed(0)} µs; ${median(b.rate).toFixed(0)} files/s`,
      );
    }
  } finally {
    await fs.rm(base, { recursive: true, force: true });
  }
}

await main();
