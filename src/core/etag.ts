/**
 * Whether a local file holds the same bytes as an object, judged by size and ETag: the MD5 of the
 * bytes for single-part writes, and for multipart writes the MD5 of the parts' MD5s with "-N"
 * (R2, S3 and MinIO alike), recomputed for the part sizes that could give N parts.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { throwIfAborted } from "./errors.js";
import { md5File } from "./fs/hash.js";
import { MIB, partSizeFor } from "./multipart.js";

const PLAIN_MD5 = /^[0-9a-f]{32}$/i;
const MULTIPART = /^([0-9a-f]{32})-(\d+)$/i;

/** Part sizes other tools commonly use (aws cli, rclone, boto3, s3cmd, lib-storage). */
const COMMON_PART_SIZES = [5, 8, 15, 16, 32, 64, 100, 128].map((n) => n * MIB);

async function multipartEtag(file: string, partSize: number, signal?: AbortSignal): Promise<string> {
  const digests: Buffer[] = [];
  let part = createHash("md5");
  let inPart = 0;
  for await (const chunk of createReadStream(file, { highWaterMark: MIB, ...(signal ? { signal } : {}) })) {
    let buf = chunk as Buffer;
    while (buf.length > 0) {
      const take = Math.min(buf.length, partSize - inPart);
      part.update(buf.subarray(0, take));
      inPart += take;
      buf = buf.subarray(take);
      if (inPart === partSize) {
        digests.push(part.digest());
        part = createHash("md5");
        inPart = 0;
      }
    }
  }
  if (inPart > 0 || digests.length === 0) digests.push(part.digest());
  return `${createHash("md5").update(Buffer.concat(digests)).digest("hex")}-${digests.length}`;
}

export async function sameBytes(
  file: string,
  size: number,
  object: { size: number; etag: string },
  signal?: AbortSignal,
): Promise<boolean> {
  if (object.size !== size) return false;
  const etag = object.etag.toLowerCase();
  if (PLAIN_MD5.test(etag)) return (await md5File(file, signal)) === etag;
  const match = MULTIPART.exec(etag);
  if (!match) return false;
  const parts = Number(match[2]);
  const candidates = [partSizeFor(size), ...COMMON_PART_SIZES].filter(
    (ps, i, all) => all.indexOf(ps) === i && Math.ceil(size / ps) === parts,
  );
  for (const partSize of candidates.slice(0, 3)) {
    throwIfAborted(signal);
    if ((await multipartEtag(file, partSize, signal)) === etag) return true;
  }
  return false;
}
