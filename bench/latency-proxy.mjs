/**
 * A loopback TCP proxy that delays every byte by N ms in each direction, so a local S3 server
 * looks like one across a real network (a request and its answer each arrive N ms later: a round
 * trip costs 2 × N ms more, connection set-up included). Bandwidth is not limited; order is kept.
 * Started by bench/run.ts as a process of its own (its CPU does not count against any client).
 *
 *   node bench/latency-proxy.mjs '{"upstream":"http://127.0.0.1:PORT","delayMs":20}'
 * prints {"port":N} on stdout once listening; exits when stdin closes or on SIGTERM.
 */
import net from "node:net";

const { upstream, delayMs } = JSON.parse(process.argv[2] ?? "{}");
const target = new URL(upstream);
/** Bytes queued in one direction before the reading side is paused (bounded memory). */
const HIGH_WATER = 16 * 1024 * 1024;

/** Forwards `from` → `to`, every chunk released `delayMs` after it arrived, in order. */
function delayedPipe(from, to) {
  const queue = [];
  let queued = 0;
  let timer;
  let ended = false;
  const release = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0].at <= now) {
      const { chunk } = queue.shift();
      queued -= chunk.length;
      if (!to.destroyed) to.write(chunk);
    }
    if (queued < HIGH_WATER && from.isPaused()) from.resume();
    if (queue.length > 0) timer = setTimeout(release, Math.max(0, queue[0].at - performance.now()));
    else if (ended && !to.destroyed) to.end();
  };
  from.on("data", (chunk) => {
    queue.push({ at: performance.now() + delayMs, chunk });
    queued += chunk.length;
    if (queued >= HIGH_WATER) from.pause();
    if (timer === undefined) timer = setTimeout(release, delayMs);
  });
  from.on("end", () => {
    ended = true;
    if (queue.length === 0 && !to.destroyed) to.end();
  });
}

const server = net.createServer((client) => {
  client.setNoDelay(true);
  const up = net.connect({ host: target.hostname, port: Number(target.port) });
  up.setNoDelay(true);
  delayedPipe(client, up);
  delayedPipe(up, client);
  const close = () => {
    client.destroy();
    up.destroy();
  };
  client.on("error", close);
  up.on("error", close);
  client.on("close", () => up.destroy());
  up.on("close", () => setTimeout(() => client.destroy(), delayMs + 5));
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${JSON.stringify({ port: server.address().port })}\n`);
});
process.stdin.on("end", () => process.exit(0));
process.stdin.resume();
process.on("SIGTERM", () => process.exit(0));
