/**
 * The stdio transport serveStdio runs on: newline-delimited JSON-RPC, like the SDK's own, except
 * for a message over the size cap. The SDK's transport closes the whole session on one (the server
 * then exits, or goes deaf, and calls running beside it die); this one skips the frame without
 * buffering it, answers it with a `too_large` error when it was a request (its id and method are
 * read from the frame as it streams past), and keeps serving.
 */
import type { Readable, Writable } from "node:stream";
import { deserializeMessage, type JSONRPCMessage, serializeMessage, type Transport } from "@modelcontextprotocol/server";
import { formatBytes } from "./results.js";

/** SPEC "Tools": stdio messages are capped at 10 MiB. */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** Longest id or method value kept from a skipped frame. */
const MAX_CAPTURED = 256;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Reads the top-level "id" and "method" of a JSON object streamed past it byte by byte, keeping
 * nothing else: enough to answer a request that is too large to hold.
 */
export class FrameHead {
  id: string | number | undefined;
  method: string | undefined;
  private depth = 0;
  private inString = false;
  private escaped = false;
  /** At depth 1, the next string is a key (after "{" or ","). */
  private expectKey = false;
  private key: string | undefined;
  /** The key whose value is being captured ("id" or "method"), after its ":". */
  private valueOf: "id" | "method" | undefined;
  private captured: number[] | undefined;
  private capturingKey = false;
  private topLevelObject: boolean | undefined;

  feed(bytes: Uint8Array): void {
    for (const byte of bytes) this.step(byte);
  }

  private capture(byte: number): void {
    if (this.captured === undefined) return;
    if (this.captured.length >= MAX_CAPTURED) {
      this.captured = undefined;
      this.capturingKey = false;
      this.valueOf = undefined;
      return;
    }
    this.captured.push(byte);
  }

  private decoded(): string | undefined {
    if (this.captured === undefined) return undefined;
    try {
      return JSON.parse(`"${Buffer.from(this.captured).toString("utf8")}"`) as string;
    } catch {
      return undefined;
    }
  }

  private step(byte: number): void {
    if (this.inString) {
      if (this.escaped) {
        this.escaped = false;
        this.capture(byte);
      } else if (byte === BACKSLASH) {
        this.escaped = true;
        this.capture(byte);
      } else if (byte === QUOTE) {
        this.inString = false;
        this.endString();
      } else {
        this.capture(byte);
      }
      return;
    }
    const char = String.fromCharCode(byte);
    if (this.topLevelObject === undefined && !/\s/.test(char)) this.topLevelObject = char === "{";
    if (!this.topLevelObject) return;
    switch (char) {
      case '"':
        this.inString = true;
        if (this.depth === 1 && this.expectKey) {
          this.capturingKey = true;
          this.captured = [];
        } else if (this.depth === 1 && this.valueOf !== undefined) {
          this.captured = [];
        }
        return;
      case "{":
      case "[":
        this.depth++;
        if (this.depth === 1) this.expectKey = true;
        else if (this.depth === 2) {
          // An object or array value: not an id or a method.
          this.valueOf = undefined;
          this.captured = undefined;
        }
        return;
      case "}":
      case "]":
        if (this.depth === 1) this.endValue();
        this.depth--;
        return;
      case ":":
        if (this.depth === 1) {
          this.expectKey = false;
          this.valueOf = this.key === "id" || this.key === "method" ? this.key : undefined;
          this.captured = this.valueOf === undefined ? undefined : [];
        }
        return;
      case ",":
        if (this.depth === 1) {
          this.endValue();
          this.expectKey = true;
        }
        return;
      default:
        // A number (or true/false/null) at depth 1: an id may be one.
        if (this.depth === 1 && this.valueOf !== undefined && !/\s/.test(char)) this.capture(byte);
    }
  }

  private endString(): void {
    if (this.capturingKey) {
      this.key = this.decoded();
      this.capturingKey = false;
      this.captured = undefined;
    } else if (this.depth === 1 && this.valueOf !== undefined) {
      const value = this.decoded();
      if (value !== undefined) this[this.valueOf] = value;
      this.valueOf = undefined;
      this.captured = undefined;
    }
  }

  private endValue(): void {
    if (this.valueOf === "id" && this.captured !== undefined && this.captured.length > 0) {
      const number = Number(Buffer.from(this.captured).toString("latin1"));
      if (Number.isFinite(number)) this.id = number;
    }
    this.valueOf = undefined;
    this.captured = undefined;
  }
}

export class LineStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private started = false;
  private closed = false;
  /** The current line while it fits. */
  private chunks: Buffer[] = [];
  private size = 0;
  /** The current line once it is over the cap: only its head is read. */
  private skipped: FrameHead | undefined;

  constructor(
    private readonly stdin: Readable,
    private readonly stdout: Writable,
    private readonly maxMessageBytes = MAX_MESSAGE_BYTES,
  ) {}

  async start(): Promise<void> {
    if (this.started) throw new Error("LineStdioTransport already started");
    this.started = true;
    this.stdin.on("data", this.onData);
    this.stdin.on("error", this.onStreamError);
    this.stdin.on("end", this.onEnd);
    this.stdin.on("close", this.onEnd);
    this.stdout.on("error", this.onStdoutError);
  }

  private readonly onData = (chunk: Buffer) => {
    let rest = chunk;
    for (let newline = rest.indexOf(0x0a); newline >= 0; newline = rest.indexOf(0x0a)) {
      this.append(rest.subarray(0, newline));
      this.endLine();
      rest = rest.subarray(newline + 1);
    }
    if (rest.length > 0) this.append(rest);
  };

  private append(part: Buffer): void {
    if (part.length === 0) return;
    this.size += part.length;
    if (this.skipped) {
      this.skipped.feed(part);
      return;
    }
    if (this.size <= this.maxMessageBytes) {
      this.chunks.push(Buffer.from(part)); // a copy: the chunk's memory is not kept alive by a slice
      return;
    }
    // Over the cap: read what has been kept, and everything after it, for the id only.
    this.skipped = new FrameHead();
    for (const kept of this.chunks) this.skipped.feed(kept);
    this.skipped.feed(part);
    this.chunks = [];
  }

  private endLine(): void {
    const { size, skipped } = this;
    const line = skipped ? undefined : Buffer.concat(this.chunks).toString("utf8").replace(/\r$/, "");
    this.chunks = [];
    this.size = 0;
    this.skipped = undefined;
    if (skipped) {
      this.refuse(skipped, size);
      return;
    }
    if (line === undefined || line.trim() === "") return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(line);
    } catch (err) {
      this.onerror?.(new Error(`ignored a line that is not a JSON-RPC message: ${(err as Error).message}`));
      return;
    }
    this.onmessage?.(message);
  }

  /** A frame over the cap: a request gets a too_large error; anything else is dropped and reported. */
  private refuse(head: FrameHead, size: number): void {
    const what = `a ${formatBytes(size)} message (${size} bytes), over the ${formatBytes(this.maxMessageBytes)} a stdio message may be`;
    if (head.id === undefined || head.method === undefined) {
      this.onerror?.(new Error(`ignored ${what}${head.method ? ` (${head.method})` : ""}: it was not a request`));
      return;
    }
    const message = `too_large: ${what}; nothing was done. Send at most 5 MiB of data with upload_bytes, and larger content with upload_file`;
    this.onerror?.(new Error(`answered ${head.method} ${JSON.stringify(head.id)} with too_large: ${what}`));
    void this.send({ jsonrpc: "2.0", id: head.id, error: { code: -32600, message, data: { code: "too_large", size } } }).catch(
      (err: Error) => this.onerror?.(err),
    );
  }

  private readonly onStreamError = (error: Error) => {
    this.onerror?.(error);
  };

  private readonly onStdoutError = (error: Error) => {
    if (this.closed) return; // a write accepted before close failing late (the client hung up)
    this.onerror?.(error);
    void this.close();
  };

  private readonly onEnd = () => {
    void this.close();
  };

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stdin.off("data", this.onData);
    this.stdin.off("error", this.onStreamError);
    this.stdin.off("end", this.onEnd);
    this.stdin.off("close", this.onEnd);
    this.chunks = [];
    this.skipped = undefined;
    this.onclose?.();
  }

  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return Promise.reject(new Error("the stdio transport is closed"));
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.stdout.once("error", onError);
      const done = () => {
        this.stdout.off("error", onError);
        resolve();
      };
      if (this.stdout.write(serializeMessage(message))) done();
      else this.stdout.once("drain", done);
    });
  }
}
