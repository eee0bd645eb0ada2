#!/usr/bin/env node
/**
 * The only file that touches the process: argv, environment, stdio and exit codes. stdout carries
 * JSON-RPC only; everything else goes to stderr.
 */
import module from "node:module";
import { type BucketConfig, ConfigError, HELP, resolveConfig } from "./config/index.js";
import { StorageError } from "./core/errors.js";
import { GuardedStore } from "./core/guarded-store.js";
import type { ObjectStore } from "./core/store.js";
import type { ServedBucket } from "./mcp/buckets.js";
import { createLog, type Logger } from "./mcp/log.js";
import { redact, registerSecret } from "./mcp/redact.js";
import { PACKAGE_NAME, PACKAGE_VERSION } from "./version.js";

async function openStore(backend: BucketConfig, maxAttempts: number, log: Logger): Promise<ObjectStore> {
  if (backend.kind === "local") {
    const { LocalStore } = await import("./core/local/store.js");
    return LocalStore.open(backend.dir);
  }
  registerSecret(backend.secretAccessKey);
  registerSecret(backend.accessKeyId);
  // The AWS SDK is the largest part of the start-up: it loads on the first request to the bucket,
  // not before the client's first messages are answered (and --local never needs it).
  const { DeferredS3Store } = await import("./core/s3/deferred.js");
  return new DeferredS3Store({
    bucket: backend.bucket,
    endpoint: backend.endpoint,
    region: backend.region,
    credentials: { accessKeyId: backend.accessKeyId, secretAccessKey: backend.secretAccessKey },
    maxAttempts,
    log,
  });
}

async function main(): Promise<number> {
  let action: ReturnType<typeof resolveConfig>;
  try {
    action = resolveConfig(process.argv.slice(2), process.env, process.cwd());
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`r2-mcp: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (action.action === "help") {
    process.stdout.write(HELP);
    return 0;
  }
  if (action.action === "version") {
    process.stdout.write(`${PACKAGE_NAME} ${PACKAGE_VERSION}\n`);
    return 0;
  }
  const config = action.config;
  // Node 22.1 and later keep V8's compiled code of the modules loaded from here on in a cache
  // directory (NODE_COMPILE_CACHE, else node-compile-cache in the temporary directory; off with
  // NODE_DISABLE_COMPILE_CACHE=1): every start after the first skips compiling them. Node 20 has
  // no such cache and compiles them each time.
  (module as { enableCompileCache?: () => unknown }).enableCompileCache?.();
  // UV_THREADPOOL_SIZE (libuv's 4 threads for file calls) is left to the environment. Setting it
  // here would be too late on Node 20 (the ESM loader has already used the pool to read this
  // file), and a smaller pool did not pay: 1 thread halved the 64 x 8 MiB download (a file's
  // fsync holds the only thread), 2 gained nothing on 4 KiB files (bench/README.md, levers).
  // The server's modules load only once a server is wanted, so --help and --version are instant.
  const [{ serveStdio }, { createServer }, { Jobs }, { LineStdioTransport }] = await Promise.all([
    import("@modelcontextprotocol/server/stdio"),
    import("./mcp/server.js"),
    import("./mcp/jobs.js"),
    import("./mcp/stdio.js"),
  ]);
  // The logger first: the stores log retries and clean-ups through it from the start, and the
  // server later connects it to the client.
  const logging = createLog(config.logLevel);
  const buckets: ServedBucket[] = [];
  for (const bucket of config.buckets) {
    const store = new GuardedStore(await openStore(bucket, config.maxAttempts, logging.log), {
      name: bucket.name,
      readOnly: bucket.readOnly,
      allowPrefixes: bucket.allowPrefixes,
    });
    buckets.push(
      bucket.kind === "s3"
        ? { store, kind: "s3", bucket: bucket.bucket, endpoint: new URL(bucket.endpoint).origin }
        : { store, kind: "local" },
    );
  }
  // The process's background jobs: they outlive any one call (and any one connection), and the
  // exit below stops them.
  const jobs = new Jobs(logging.log);
  // One server instance per connection, in the era the client opens with: a 2026-07-28 client
  // (server/discover, per-request _meta) or a 2025 one (initialize). Nothing is sent before that.
  const handle = serveStdio(
    ({ era }) =>
      createServer({ buckets, roots: config.roots, rootsExplicit: config.rootsExplicit, logging, era, confirm: config.confirm, jobs })
        .server,
    {
      // A message over 10 MiB is answered too_large and skipped; the session goes on.
      transport: new LineStdioTransport(process.stdin, process.stdout),
      // Frames not served (not JSON-RPC, too large) and the like: one stderr line each, at debug.
      onerror: (err) => logging.log("debug", `transport: ${err.message.replace(/\s+/g, " ").slice(0, 300)}`),
    },
  );
  let closing = false;
  const shutdown = async (code: number) => {
    if (closing) return;
    closing = true;
    // Running jobs are cancelled and awaited first: no partial or temporary file stays behind, and
    // multipart uploads are aborted while the store can still reach the bucket.
    await jobs.stop().catch(() => undefined);
    await handle.close().catch(() => undefined);
    await Promise.all(buckets.map((b) => b.store.close().catch(() => undefined)));
    process.exit(code);
  };
  process.on("SIGINT", () => void shutdown(0));
  process.on("SIGTERM", () => void shutdown(0));
  // The client closing stdin ends the session.
  process.stdin.on("end", () => void shutdown(0));
  const where = config.buckets.map((b) => {
    const what = b.kind === "local" ? `local store ${b.dir}` : `bucket ${b.bucket} at ${new URL(b.endpoint).origin}`;
    return config.buckets.length > 1 ? `${b.name} (${what})` : what;
  });
  logging.log("info", `serving ${where.join(", ")}${config.readOnly ? " (read-only)" : ""}`);
  return -1;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    const message = err instanceof StorageError ? `${err.kind}: ${err.message}` : err instanceof Error ? err.message : String(err);
    process.stderr.write(`r2-mcp: ${redact(message)}\n`);
    process.exit(1);
  },
);
