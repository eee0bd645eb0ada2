/** Hashing a local file as a stream, so large files never sit in memory. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { throwIfAborted } from "../errors.js";
import type { OpenFile } from "./descriptor.js";

/** A local file: a path (the caller checked it), or a file opened and checked by descriptor. */
export type LocalBytes = string | OpenFile;

/** The bytes of `file` as a stream; an OpenFile is read through its descriptor. */
export function readLocal(file: LocalBytes, signal?: AbortSignal): Readable {
  if (typeof file === "string") return createReadStream(file, { highWaterMark: 1024 * 1024, ...(signal ? { signal } : {}) });
  return file.stream();
}

export async function md5File(file: LocalBytes, signal?: AbortSignal): Promise<string> {
  const hash = createHash("md5");
  for await (const chunk of readLocal(file, signal)) {
    throwIfAborted(signal);
    hash.update(chunk as Buffer);
  }
  return hash.digest("hex");
}
