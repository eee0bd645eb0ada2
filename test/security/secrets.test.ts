/**
 * No access key ID or secret in any result, structuredContent, notifications/message, progress
 * notification or stderr line (servers run with --log-level debug and the client at logging level
 * debug), including failures whose SDK errors carry the request: a closed port, a missing bucket,
 * and an endpoint that echoes the signed request (Authorization header, credential scope, headers)
 * back in its error bodies and even in the error code, as SignatureDoesNotMatch answers do.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoSecrets } from "../helpers/assert.js";
import { expectError } from "../helpers/calls.js";
import { closedPort } from "../helpers/net.js";
import { killChildren, runCli } from "../helpers/run-cli.js";
import { type S3TestServer, startS3Server, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "../helpers/s3-server.js";
import type { SpecErrorCode } from "../helpers/spec.js";
import { baseEnv, type RunningServer, s3Cli, startClient, TEST_ERAS } from "../helpers/start-client.js";
import { makeTempDir, type TempDir, writeTree } from "../helpers/tmp.js";

/** Everything these servers said (messages, stderr), for the secrets check. */
const transcript: string[] = [];
/** Servers log at debug into the transcript, and the client validates every result (tools/list first). */
const watched = { transcript, logLevel: "debug", listTools: true } as const;

const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** An S3-looking endpoint whose every answer is an error quoting the request it got. */
async function startEchoingEndpoint() {
  const authorizations: string[] = [];
  const server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? "";
    authorizations.push(auth);
    const headers = Object.entries(req.headers)
      .map(([k, v]) => `${k}: ${String(v)}`)
      .join("\n");
    req.resume();
    req.on("end", () => {
      const url = req.url ?? "/";
      if (req.method === "HEAD") {
        res.writeHead(403, { "x-amz-request-id": "ECHO", "x-echo-authorization": auth }).end();
      } else if (url.includes("reflect-code")) {
        res.writeHead(400, { "content-type": "application/xml" });
        res.end(`<?xml version="1.0"?><Error><Code>${xml(auth)}</Code><Message>${xml(headers)}</Message></Error>`);
      } else if (url.includes("garbage")) {
        res.writeHead(500, { "content-type": "text/html" }).end(`<html>upstream said: ${headers}</html>`);
      } else {
        res.writeHead(403, { "content-type": "application/xml" });
        res.end(
          `<?xml version="1.0"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match. ${xml(auth)}</Message>` +
            `<AWSAccessKeyId>${TEST_ACCESS_KEY_ID}</AWSAccessKeyId><StringToSign>${xml(auth)}</StringToSign>` +
            `<CanonicalRequest>${xml(`${req.method} ${url}\n${headers}`)}</CanonicalRequest></Error>`,
        );
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    authorizations,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.each(TEST_ERAS)("secrets never leave the server, protocol %s", (era) => {
  let tmp: TempDir;
  let s3: S3TestServer;
  let echo: Awaited<ReturnType<typeof startEchoingEndpoint>>;
  let root: string;
  let healthy: RunningServer;
  let echoing: RunningServer;
  let unreachable: RunningServer;
  let missingBucket: RunningServer;

  beforeAll(async () => {
    tmp = await makeTempDir("r2mcp-secrets-");
    root = path.join(tmp.path, "root");
    await writeTree(root, {
      "data/a.txt": "alpha",
      "dir/b.txt": "beta",
      "dir/c/d.txt": "delta",
      "environ-link": { link: "/proc/self/environ" },
      "procdir/ok.txt": "fine",
      "procdir/self": { link: "/proc/self" },
    });
    [s3, echo] = await Promise.all([startS3Server(), startEchoingEndpoint()]);
    const port = await closedPort();
    const debug = ["--root", root, "--log-level", "debug", "--max-attempts", "1"];
    const against = (endpoint: string, bucket = s3.bucket, extra: string[] = []) => {
      const cli = s3Cli(s3, [...debug, ...extra]);
      const args = [...cli.args];
      args[args.indexOf("--endpoint") + 1] = endpoint;
      args[args.indexOf("--bucket") + 1] = bucket;
      return { args, env: cli.env, cwd: root, era, ...watched };
    };
    [healthy, echoing, unreachable, missingBucket] = await Promise.all([
      // /proc as an explicit root: the pseudo-filesystem guard, not the roots check, must stop it.
      startClient(against(s3.endpoint, s3.bucket, ["--root", "/proc"])),
      startClient(against(echo.endpoint)),
      startClient(against(`http://127.0.0.1:${port}`)),
      startClient(against(s3.endpoint, "no-such-bucket-r2mcp")),
    ]);
  });

  afterAll(async () => {
    await Promise.all([healthy, echoing, unreachable, missingBucket].map((s) => s?.close()));
    await killChildren();
    await echo?.close();
    await s3?.close();
    await tmp?.cleanup();
  });

  it("every tool, with progress, on a healthy bucket", async () => {
    const progress: unknown[] = [];
    const calls: [string, Record<string, unknown>][] = [
      ["upload_bytes", { key: "s/a.txt", data: "hello" }],
      ["upload_file", { local_path: "data/a.txt", key: "s/file.txt" }],
      ["upload_directory", { local_dir: "dir", prefix: "s/dir/" }],
      ["list_objects", { prefix: "s/" }],
      ["list_objects", { prefix: "s/", recursive: false, limit: 1 }],
      ["head_object", { key: "s/a.txt" }],
      ["get_object_bytes", { key: "s/a.txt" }],
      ["download_file", { key: "s/a.txt", local_path: "out/a.txt" }],
      ["download_directory", { prefix: "s/dir/", local_dir: "out/dir" }],
      ["delete_object", { key: "s/a.txt" }],
    ];
    for (const [name, args] of calls) {
      const result = await healthy.client.callTool({ name, arguments: args }, { onprogress: (p) => progress.push(p) });
      expect(result.isError, JSON.stringify(result.content)).toBeFalsy();
    }
    await healthy.client.listResources();
    await healthy.client.readResource({ uri: `r2://${s3.bucket}/s/file.txt` });
    expect(progress.length).toBeGreaterThan(0);
    expect(healthy.logMessages.length).toBeGreaterThan(0);
  });

  it("refuses /proc/self/environ (the server's credentials) even under --root /proc, directly or via a symlink", async () => {
    for (const args of [
      { local_path: "/proc/self/environ", key: "s/env" },
      { local_path: "environ-link", key: "s/env" },
    ]) {
      const result = await healthy.call("upload_file", args);
      expectError(result, "outside_roots");
      expect(result.text).toContain("pseudo-filesystem");
    }
    expectError(await healthy.call("upload_directory", { local_dir: "/proc/self", prefix: "s/proc/" }), "outside_roots");
    const walked = await healthy.call("upload_directory", { local_dir: "procdir", prefix: "s/proc/" });
    expectError(walked, "outside_roots");
    expect(walked.text).toContain(path.join(root, "procdir", "self"));
    expect(await healthy.call("head_object", { key: "s/env" })).toMatchObject({ structuredContent: { exists: false } });
  });

  it("errors from an endpoint that echoes the signed request", async () => {
    // upload_bytes and download_file may HEAD first (403 without a body), hence access_denied there.
    const expectations: [string, Record<string, unknown>, SpecErrorCode][] = [
      ["list_objects", {}, "access_denied"],
      ["head_object", { key: "x/plain" }, "access_denied"],
      ["get_object_bytes", { key: "x/reflect-code" }, "invalid_argument"],
      ["get_object_bytes", { key: "x/garbage" }, "unavailable"],
      ["upload_bytes", { key: "x/reflect-code", data: "x" }, "access_denied"],
      ["download_file", { key: "x/reflect-code", local_path: "out/echo.txt" }, "access_denied"],
      ["download_directory", { prefix: "x/", local_dir: "out/echo" }, "access_denied"],
    ];
    for (const [name, args, code] of expectations) expectError(await echoing.call(name, args), code);
    await expect(echoing.client.readResource({ uri: `r2://${s3.bucket}/x/reflect-code` })).rejects.toThrow(/invalid_argument/);
    // The credential really was on the wire, and was answered back.
    expect(echo.authorizations.some((a) => a.includes(TEST_ACCESS_KEY_ID))).toBe(true);
  });

  it("errors from a closed port and from a missing bucket", async () => {
    for (const [name, args] of [
      ["list_objects", {}],
      ["head_object", { key: "k" }],
      ["get_object_bytes", { key: "k" }],
      ["upload_bytes", { key: "k", data: "x" }],
      ["download_directory", { prefix: "k/", local_dir: "out/none" }],
    ] as const) {
      expectError(await unreachable.call(name, args), "unavailable");
    }
    expectError(await missingBucket.call("list_objects", {}), "bucket_not_found");
    expectError(await missingBucket.call("get_object_bytes", { key: "k" }), "bucket_not_found");
    expectError(await missingBucket.call("upload_bytes", { key: "k", data: "x" }), "bucket_not_found");
  });

  it("start-up errors with credentials in the endpoint URL", async () => {
    const env = baseEnv({ R2_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY: TEST_SECRET_ACCESS_KEY });
    const withCredentials = `http://${TEST_ACCESS_KEY_ID}:${TEST_SECRET_ACCESS_KEY}@127.0.0.1:9`;
    for (const [args, extraEnv] of [
      [["--bucket", "some-bucket", "--endpoint", withCredentials], {}],
      [["--bucket", "some-bucket"], { R2_ENDPOINT_URL: withCredentials }],
      [["--bucket", "Not_A_Bucket", "--endpoint", "http://127.0.0.1:9"], {}],
    ] as const) {
      const run = await runCli([...args], { cwd: root, env: { ...env, ...extraEnv } });
      expect(run.code).toBe(2);
      transcript.push(run.stdout, run.stderr);
    }
  });

  it("none of it carries the access key ID or the secret", () => {
    const all = transcript.join("\n");
    // Not vacuous: every kind of output is in the transcript.
    for (const expected of [
      "access_denied",
      "invalid_argument",
      "unavailable",
      "bucket_not_found",
      "outside_roots",
      "notifications/progress",
      "notifications/message",
      "r2-mcp info:",
      "must not carry credentials",
    ]) {
      expect(all).toContain(expected);
    }
    expectNoSecrets(transcript);
  });
});
