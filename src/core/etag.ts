/**
 * Whether a local file holds the same bytes as an object, judged by size and ETag: the MD5 of the
 * bytes for single-part writes, and for multipart writes the MD5 of the parts' MD5s with "-N"
 * (R2, S3 and MinIO alike), recomputed for the part sizes that could give N parts.
 */
import { createHash } from "node:crypto";
import { throwIfAborted } from "./errors.js";
import { type LocalBytes, md5File, readLocal } from "./fs/hash.js";
import { MIB, partSizeFor } from "./multipart.js";

/** A single-part ETag: the MD5 of the bytes. */
export const PLAIN_MD5 = /^[0-9a-f]{32}$/i;
const MULTIPART = /^([0-9a-f]{32})-(\d+)$/i;

/** Part sizes other tools commonly use (aws cli, rclone, boto3, s3cmd, lib-storage). */
const COMMON_PART_SIZES = [5, 8, 15, 16, 32, 64, 100, 128].map((n) => n * MIB);

/** The part count of a multipart ETag ("…-N"); undefined for any other ETag. */
export function multipartParts(etag: string): number | undefined {
  const match = MULTIPART.exec(etag);
  return match ? Number(match[2]) : undefined;
}

/**
 * Part sizes that could have cut `size` bytes into `parts` parts, likeliest first: r2-mcp's own
 * (also the AWS CLI's and boto3's 8 MiB for most sizes), then other tools' defaults.
 */
export function candidatePartSizes(size: number, parts: number): number[] {
  return [partSizeFor(size), ...COMMON_PART_SIZES].filter((ps, i, all) => all.indexOf(ps) === i && Math.ceil(size / ps) === parts);
}

/** The multipart ETag of parts with these MD5 digests, in part order: MD5 of the digests, "-N". */
export function multipartEtagOf(digests: readonly Uint8Array[]): string {
  const hash = createHash("md5");
  for (const d of digests) hash.update(d);
  return `${hash.digest("hex")}-${digests.length}`;
}

async function multipartEtag(file: LocalBytes, partSize: number, signal?: AbortSignal): Promise<string> {
  const digests: Buffer[] = [];
  let part = createHash("md5");
  let inPart = 0;
  for await (const chunk of readLocal(file, signal)) {
    throwIfAborted(signal);
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
  file: LocalBytes,
  size: number,
  object: { size: number; etag: string },
  signal?: AbortSignal,
): Promise<boolean> {
  return (await compareBytes(file, size, object, { signal })).same;
}

/** Why a local file and an object are not known to hold the same bytes. */
export type DifferenceReason = "size_differs" | "content_differs" | "etag_unverifiable";

export type ByteComparison = { same: true } | { same: false; reason: DifferenceReason; detail: string };

const shownMib = (bytes: number) => (bytes % MIB === 0 ? `${bytes / MIB} MiB` : `${bytes} B`);

/**
 * Whether a local file holds an object's bytes, and if not, why. A multipart ETag is recomputed
 * with the object's own part size when `partSize` can tell it (then a mismatch means the content
 * differs), else with the part sizes other tools use (then a mismatch cannot tell a changed file
 * from an unusual part size, and says so).
 */
export async function compareBytes(
  file: LocalBytes,
  size: number,
  object: { size: number; etag: string },
  options: { signal?: AbortSignal; partSize?: () => Promise<number | undefined> } = {},
): Promise<ByteComparison> {
  const { signal } = options;
  if (object.size !== size) {
    return { same: false, reason: "size_differs", detail: `local ${size} bytes, remote ${object.size} bytes` };
  }
  const etag = object.etag.toLowerCase();
  if (PLAIN_MD5.test(etag)) {
    if ((await md5File(file, signal)) === etag) return { same: true };
    return { same: false, reason: "content_differs", detail: "same size, different MD5" };
  }
  const match = MULTIPART.exec(etag);
  if (!match) {
    return {
      same: false,
      reason: "etag_unverifiable",
      detail: `the ETag ${JSON.stringify(object.etag)} is not an MD5 (the server computed it another way, e.g. for encryption)`,
    };
  }
  const parts = Number(match[2]);
  const fits = (ps: number) => ps > 0 && Math.ceil(size / ps) === parts;
  const reported = options.partSize ? await options.partSize() : undefined;
  if (reported !== undefined && fits(reported)) {
    if ((await multipartEtag(file, reported, signal)) === etag) return { same: true };
    return {
      same: false,
      reason: "content_differs",
      detail: `same size, different multipart ETag (recomputed with the object's ${parts} parts of ${shownMib(reported)})`,
    };
  }
  const candidates = [partSizeFor(size), ...COMMON_PART_SIZES].filter((ps, i, all) => all.indexOf(ps) === i && fits(ps)).slice(0, 3);
  for (const partSize of candidates) {
    throwIfAborted(signal);
    if ((await multipartEtag(file, partSize, signal)) === etag) return { same: true };
  }
  const tried =
    candidates.length > 0
      ? `none of the usual part sizes (${candidates.map(shownMib).join(", ")}) reproduces it`
      : "no usual part size gives that many parts";
  return {
    same: false,
    reason: "etag_unverifiable",
    detail: `multipart ETag of ${parts} parts whose size the server does not report; ${tried}: the content differs or it was uploaded with another part size`,
  };
}

/** The part sizes (at most three) that could have made `parts` parts of `size` bytes. */
function partSizeCandidates(size: number, parts: number): number[] {
  return [partSizeFor(size), ...COMMON_PART_SIZES]
    .filter((ps, i, all) => all.indexOf(ps) === i && Math.ceil(size / ps) === parts)
    .slice(0, 3);
}

export function isPlainMd5(etag: string): boolean {
  return PLAIN_MD5.test(etag);
}

/**
 * Checks bytes passing by against the ETag they should have (a plain MD5, or a multipart ETag
 * recomputed at the part sizes that could give its part count), without holding them.
 */
export class StreamDigest {
  private readonly whole = createHash("md5");
  private readonly multipart: { partSize: number; digests: Buffer[]; part: ReturnType<typeof createHash>; inPart: number }[];
  private md5: string | undefined;

  constructor(
    size: number,
    private readonly etag: string,
  ) {
    const match = MULTIPART.exec(etag);
    const sizes = match ? partSizeCandidates(size, Number(match[2])) : [];
    this.multipart = sizes.map((partSize) => ({ partSize, digests: [], part: createHash("md5"), inPart: 0 }));
  }

  update(chunk: Uint8Array): void {
    this.whole.update(chunk);
    for (const m of this.multipart) {
      let buf = chunk;
      while (buf.length > 0) {
        const take = Math.min(buf.length, m.partSize - m.inPart);
        m.part.update(buf.subarray(0, take));
        m.inPart += take;
        buf = buf.subarray(take);
        if (m.inPart === m.partSize) {
          m.digests.push(m.part.digest());
          m.part = createHash("md5");
          m.inPart = 0;
        }
      }
    }
  }

  /** The MD5 of every byte seen (call once all have passed). */
  digest(): string {
    this.md5 ??= this.whole.digest("hex");
    return this.md5;
  }

  /** "match" or "mismatch" when the ETag could be checked, "unknown" when it could not. */
  verdict(): "match" | "mismatch" | "unknown" {
    const etag = this.etag.toLowerCase();
    if (PLAIN_MD5.test(etag)) return this.digest() === etag ? "match" : "mismatch";
    if (this.multipart.length === 0) return "unknown";
    for (const m of this.multipart) {
      if (m.inPart > 0 || m.digests.length === 0) m.digests.push(m.part.digest());
      m.inPart = 0;
      const computed = `${createHash("md5").update(Buffer.concat(m.digests)).digest("hex")}-${m.digests.length}`;
      if (computed === etag) return "match";
    }
    return "unknown";
  }
}
