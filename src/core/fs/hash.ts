/** Hashing a local file as a stream, so large files never sit in memory. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export async function md5File(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash("md5");
  const stream = createReadStream(file, signal ? { signal } : {});
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest("hex");
}
