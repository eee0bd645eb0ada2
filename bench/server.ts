/** Starts bench/s3-server-process.ts in a child process and talks to it over IPC. */
import { type ChildProcess, fork, spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

const SERVER_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "s3-server-process.ts");

export interface ServerStats {
  requests: Record<string, number>;
  bytesIn: number;
  connections: number;
  cpu: { user: number; system: number };
  rss: number;
}

export class ServerProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly endpoint: string,
  ) {}

  static start(): Promise<ServerProcess> {
    const child = fork(SERVER_SCRIPT, [], { execArgv: ["--import", "tsx"], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error("the S3 server process did not start within 120 s"));
      }, 120_000);
      child.once("message", (m: { type?: string; endpoint?: string }) => {
        clearTimeout(timer);
        if (m.type === "ready" && m.endpoint) resolve(new ServerProcess(child, m.endpoint));
        else reject(new Error(`unexpected first message from the S3 server process: ${JSON.stringify(m)}`));
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the S3 server process exited (${code}) before it was ready`));
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  stats(): Promise<ServerStats> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the S3 server process did not answer a stats request")), 10_000);
      const onMessage = (m: { type?: string } & ServerStats) => {
        if (m.type !== "stats") return;
        clearTimeout(timer);
        this.child.off("message", onMessage);
        resolve(m);
      };
      this.child.on("message", onMessage);
      this.child.send({ type: "stats" });
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.send({ type: "stop" });
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
}

const PROXY_SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "latency-proxy.mjs");

/** bench/latency-proxy.mjs in a process of its own: every byte N ms late, each way. */
export class LatencyProxy {
  private constructor(
    private readonly child: ChildProcess,
    readonly endpoint: string,
  ) {}

  static start(upstream: string, delayMs: number): Promise<LatencyProxy> {
    const child = spawn(process.execPath, [PROXY_SCRIPT, JSON.stringify({ upstream, delayMs })], { stdio: ["pipe", "pipe", "inherit"] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new Error("the latency proxy did not start within 30 s"));
      }, 30_000);
      let out = "";
      child.stdout?.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8");
        const line = out.split("\n")[0];
        if (!out.includes("\n") || line === undefined) return;
        clearTimeout(timer);
        const { port } = JSON.parse(line) as { port: number };
        resolve(new LatencyProxy(child, `http://127.0.0.1:${port}`));
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the latency proxy exited (${code}) before it was ready`));
      });
    });
  }

  stop(): void {
    if (this.child.exitCode === null) this.child.kill("SIGTERM");
  }
}
