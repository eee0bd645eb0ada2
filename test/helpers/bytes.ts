/** Byte helpers the tiers share. Defined here, not taken from src, so a wrong constant there cannot agree with itself. */
import { createHash } from "node:crypto";

export const MIB = 1024 * 1024;

/** The MD5 of the bytes as hex: the ETag of a single-part upload. */
export function md5Hex(data: Uint8Array | string): string {
  return createHash("md5").update(data).digest("hex");
}

/** Drains a body stream (a store's get(), an SDK Body) into one Buffer. */
export async function readAll(body: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks);
}
