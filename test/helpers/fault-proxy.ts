/**
 * TEST DOUBLE for a hostile network and a struggling server: a fault-injecting HTTP proxy on
 * 127.0.0.1 between an S3 client and the suite's real S3 server (fauxqs, or the conditional proxy
 * in front of it). Everything is passed through unchanged (method, path, query, headers, streamed
 * bodies both ways) except the requests a test has asked to fail, which get exactly one of:
 *  - respond: an S3 XML error answered here (503 SlowDown, 500 InternalError...), never forwarded;
 *  - reset: the connection is cut as soon as the request head arrives;
 *  - drop-request-body: the connection is cut after N bytes of the request body (nothing forwarded);
 *  - drop-response: forwarded, the server's answer read in full, then the connection cut without
 *    answering (the request took effect, the client never learns it);
 *  - drop-response-body: forwarded, status, headers and N bytes of the body relayed, then cut;
 *  - stall-response-body: as above but the connection stays open and silent (a hung transfer);
 *  - hang: the request is read and never answered;
 *  - delay: forwarded after a pause.
 * Every request is recorded with its S3 operation and the SDK's attempt number (the
 * `amz-sdk-request: attempt=N; max=M` header), so tests can assert how many retries happened.
 *
 * Optionally it also stands in for authentication, which fauxqs does not check: with
 * `accessKeyId` set, a request signed with any other access key is answered 403
 * InvalidAccessKeyId, as R2 and S3 do. That is a test double for auth only; the signature itself
 * is not verified.
 */

import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { endToEndHeaders } from "./http-headers.js";

export type S3Operation =
  | "PutObject"
  | "CopyObject"
  | "UploadPart"
  | "UploadPartCopy"
  | "CreateMultipartUpload"
  | "CompleteMultipartUpload"
  | "AbortMultipartUpload"
  | "ListMultipartUploads"
  | "GetObject"
  | "HeadObject"
  | "DeleteObject"
  | "DeleteObjects"
  | "ListObjectsV2"
  | "HeadBucket"
  | "Other";

export interface ProxiedRequest {
  /** 1-based arrival order. */
  seq: number;
  method: string;
  op: S3Operation;
  bucket: string;
  /** The object key, URL-decoded ("" for bucket-level requests). */
  key: string;
  query: URLSearchParams;
  /** The SDK's attempt number for this request, when it sent one. */
  attempt?: number;
  range?: string;
  /** The fault applied to it, if any. */
  fault?: Fault["kind"];
}

export type Fault =
  | { kind: "respond"; status: number; code: string; message?: string }
  | { kind: "reset" }
  | { kind: "drop-request-body"; afterBytes: number }
  | { kind: "drop-response" }
  | { kind: "drop-response-body"; afterBytes: number }
  | { kind: "stall-response-body"; afterBytes: number }
  | { kind: "hang" }
  | { kind: "delay"; ms: number };

/** Which requests a rule (or a count) is about; every given field must match. */
export interface RequestFilter {
  op?: S3Operation | S3Operation[];
  key?: string | RegExp;
  partNumber?: number;
  test?: (request: ProxiedRequest) => boolean;
}

export interface FaultRule extends RequestFilter {
  fault: Fault;
  /** How many matching requests get the fault; every one when absent. */
  times?: number;
  /** Runs before the fault is applied, e.g. another writer creating the key. */
  before?: (request: ProxiedRequest) => Promise<void> | void;
}

export interface InjectedFault {
  /** Requests this rule has failed so far. */
  readonly hits: number;
  remove(): void;
}

export interface FaultProxy {
  endpoint: string;
  port: number;
  /** Every request received, in arrival order. */
  requests: ProxiedRequest[];
  /** Requests received whose exchange has not ended yet (hung and stalled ones included). */
  readonly inFlight: number;
  inject(rule: FaultRule): InjectedFault;
  /** Removes every rule (the request log stays). */
  clearFaults(): void;
  /** Requests received that match the filter. */
  count(filter?: RequestFilter): number;
  /** The SDK attempt numbers of the matching requests, in arrival order. */
  attempts(filter?: RequestFilter): (number | undefined)[];
  close(): Promise<void>;
}

function classify(method: string, key: string, query: URLSearchParams, copying: boolean): S3Operation {
  if (key === "") {
    if (method === "POST" && query.has("delete")) return "DeleteObjects";
    if (method === "GET" && query.has("uploads")) return "ListMultipartUploads";
    if (method === "GET") return "ListObjectsV2";
    if (method === "HEAD") return "HeadBucket";
    return "Other";
  }
  // A PUT naming a source (x-amz-copy-source) is a server-side copy.
  if (method === "PUT" && copying) return query.has("partNumber") ? "UploadPartCopy" : "CopyObject";
  if (method === "PUT") return query.has("partNumber") ? "UploadPart" : "PutObject";
  if (method === "POST" && query.has("uploads")) return "CreateMultipartUpload";
  if (method === "POST" && query.has("uploadId")) return "CompleteMultipartUpload";
  if (method === "DELETE") return query.has("uploadId") ? "AbortMultipartUpload" : "DeleteObject";
  if (method === "GET") return "GetObject";
  if (method === "HEAD") return "HeadObject";
  return "Other";
}

function describe(seq: number, req: http.IncomingMessage): ProxiedRequest {
  const url = new URL(req.url ?? "/", "http://proxy.invalid");
  const [, bucket = "", ...rest] = url.pathname.split("/");
  const key = decodeURIComponent(rest.join("/"));
  const method = req.method ?? "GET";
  const attempt = /attempt=(\d+)/.exec(String(req.headers["amz-sdk-request"] ?? ""))?.[1];
  const request: ProxiedRequest = {
    seq,
    method,
    op: classify(method, key, url.searchParams, req.headers["x-amz-copy-source"] !== undefined),
    bucket: decodeURIComponent(bucket),
    key,
    query: url.searchParams,
  };
  if (attempt !== undefined) request.attempt = Number(attempt);
  if (typeof req.headers.range === "string") request.range = req.headers.range;
  return request;
}

export function matches(filter: RequestFilter, r: ProxiedRequest): boolean {
  if (filter.op !== undefined && !(Array.isArray(filter.op) ? filter.op.includes(r.op) : filter.op === r.op)) return false;
  if (filter.key !== undefined && !(typeof filter.key === "string" ? filter.key === r.key : filter.key.test(r.key))) return false;
  if (filter.partNumber !== undefined && r.query.get("partNumber") !== String(filter.partNumber)) return false;
  if (filter.test !== undefined && !filter.test(r)) return false;
  return true;
}

function errorXml(code: string, message: string): string {
  const requestId = randomBytes(8).toString("hex").toUpperCase();
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId></Error>`;
}

const DEFAULT_MESSAGES: Record<string, string> = {
  SlowDown: "Please reduce your request rate.",
  InternalError: "We encountered an internal error. Please try again.",
  ServiceUnavailable: "Please reduce your request rate.",
  AccessDenied: "Access Denied",
  InvalidAccessKeyId: "The AWS Access Key Id you provided does not exist in our records.",
};

/** Waits until the request body has been read to its end (or the connection went away). */
function drain(req: http.IncomingMessage): Promise<void> {
  return new Promise((resolve) => {
    if (req.readableEnded) return resolve();
    req.on("end", resolve);
    req.on("close", resolve);
    req.resume();
  });
}

function cut(req: http.IncomingMessage, res: http.ServerResponse): void {
  (res.socket ?? req.socket)?.destroy();
}

async function respond(req: http.IncomingMessage, res: http.ServerResponse, status: number, code: string, message?: string) {
  await drain(req);
  const body = req.method === "HEAD" ? "" : errorXml(code, message ?? DEFAULT_MESSAGES[code] ?? code);
  res.writeHead(status, {
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(body),
    "x-amz-request-id": randomBytes(8).toString("hex").toUpperCase(),
  });
  res.end(body);
}

/** The access key a request was signed with (header or presigned query), if any. */
function accessKeyOf(req: http.IncomingMessage, query: URLSearchParams): string | undefined {
  const header = String(req.headers.authorization ?? "");
  const fromHeader = /Credential=([^/,\s]+)\//.exec(header)?.[1];
  return fromHeader ?? query.get("X-Amz-Credential")?.split("/")[0];
}

export async function startFaultProxy(upstreamEndpoint: string, options: { accessKeyId?: string } = {}): Promise<FaultProxy> {
  const upstream = new URL(upstreamEndpoint);
  if (upstream.protocol !== "http:") throw new Error(`upstream must be http:, got ${upstreamEndpoint}`);
  const agent = new http.Agent({ keepAlive: true });
  const requests: ProxiedRequest[] = [];
  interface ActiveRule {
    rule: FaultRule;
    hits: number;
  }
  let rules: ActiveRule[] = [];

  function pick(request: ProxiedRequest): ActiveRule | undefined {
    return rules.find((r) => (r.rule.times === undefined || r.hits < r.rule.times) && matches(r.rule, request));
  }

  /**
   * Forwards the request upstream. `onResponse` decides what the client gets of the answer:
   * by default everything, streamed.
   */
  function forward(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    relay: "all" | "none" | { afterBytes: number; after: "drop" | "stall" } = "all",
  ): Promise<void> {
    const upReq = http.request({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: endToEndHeaders(req.headers),
      agent,
    });
    const responded = new Promise<void>((resolve, reject) => {
      upReq.on("response", (upRes) => {
        if (relay === "none") {
          // The request took effect upstream; the answer is read in full and lost.
          upRes.resume();
          upRes.on("end", () => {
            cut(req, res);
            resolve();
          });
          upRes.on("error", reject);
          return;
        }
        res.writeHead(upRes.statusCode ?? 502, upRes.statusMessage, endToEndHeaders(upRes.headers));
        if (relay === "all") {
          pipeline(upRes, res).then(resolve, reject);
          return;
        }
        let relayed = 0;
        const stop = (last: Buffer) => {
          upRes.off("data", onData);
          upRes.destroy();
          // Once the bytes relayed so far are handed to the kernel, so the client gets exactly
          // `afterBytes` of the body; after "drop" cuts the connection and "stall" keeps it open
          // and silent until the client gives up (or close()).
          res.write(last, () => {
            if (relay.after === "drop") cut(req, res);
            resolve();
          });
        };
        const onData = (chunk: Buffer) => {
          const room = relay.afterBytes - relayed;
          if (chunk.length >= room) {
            relayed += room;
            stop(chunk.subarray(0, room));
            return;
          }
          relayed += chunk.length;
          res.write(chunk);
        };
        if (relay.afterBytes <= 0) {
          stop(Buffer.alloc(0));
          return;
        }
        upRes.on("data", onData);
        upRes.on("end", () => {
          res.end();
          resolve();
        });
        upRes.on("error", reject);
      });
      upReq.on("error", reject);
    });
    const sent = pipeline(req, upReq).catch((err: unknown) => {
      // A server may answer and stop reading; that is not a failure of the exchange.
      if (!res.writableFinished) throw err;
    });
    return Promise.all([sent, responded]).then(
      () => undefined,
      () => {
        // Upstream died or the client went away: mirror it as a dropped connection.
        upReq.destroy();
        cut(req, res);
      },
    );
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const request = describe(requests.length + 1, req);
    requests.push(request);
    if (options.accessKeyId !== undefined) {
      const used = accessKeyOf(req, request.query);
      if (used !== options.accessKeyId) return respond(req, res, 403, "InvalidAccessKeyId");
    }
    const active = pick(request);
    if (!active) return forward(req, res);
    active.hits++;
    const { fault } = active.rule;
    request.fault = fault.kind;
    await active.rule.before?.(request);
    switch (fault.kind) {
      case "respond":
        return respond(req, res, fault.status, fault.code, fault.message);
      case "reset":
        return cut(req, res);
      case "drop-request-body": {
        let seen = 0;
        req.on("data", (chunk: Buffer) => {
          seen += chunk.length;
          if (seen >= fault.afterBytes) cut(req, res);
        });
        await drain(req);
        return cut(req, res);
      }
      case "drop-response":
        return forward(req, res, "none");
      case "drop-response-body":
        return forward(req, res, { afterBytes: fault.afterBytes, after: "drop" });
      case "stall-response-body":
        return forward(req, res, { afterBytes: fault.afterBytes, after: "stall" });
      case "hang":
        // Read the request so the client is waiting for an answer, then never give one.
        await drain(req);
        return;
      case "delay":
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        return forward(req, res);
    }
  }

  let inFlight = 0;
  const server = http.createServer((req, res) => {
    inFlight++;
    res.once("close", () => inFlight--);
    handle(req, res).catch(() => cut(req, res));
  });
  // Node's default 5 s keep-alive timeout would add resets of its own; match fauxqs (72 s).
  server.keepAliveTimeout = 72_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  let closing: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    requests,
    get inFlight() {
      return inFlight;
    },
    inject(rule) {
      const active: ActiveRule = { rule, hits: 0 };
      rules.push(active);
      return {
        get hits() {
          return active.hits;
        },
        remove() {
          rules = rules.filter((r) => r !== active);
        },
      };
    },
    clearFaults() {
      rules = [];
    },
    count(filter = {}) {
      return requests.filter((r) => matches(filter, r)).length;
    },
    attempts(filter = {}) {
      return requests.filter((r) => matches(filter, r)).map((r) => r.attempt);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // hung and stalled exchanges included
        agent.destroy();
      });
      return closing;
    },
  };
}
