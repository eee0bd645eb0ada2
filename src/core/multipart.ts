/** Part sizing shared by multipart uploads, ranged downloads and multipart ETag checks. */
export const MIB = 1024 * 1024;

/** 8 MiB, as the AWS CLI uses: few enough requests, and under single-PUT body limits of small servers. */
export const DEFAULT_PART_SIZE = 8 * MIB;
const MAX_PARTS = 10_000;

/** Part size for `size` bytes: at least `minimum`, and large enough that 5 TiB stays under 10,000 parts. */
export function partSizeFor(size: number, minimum = DEFAULT_PART_SIZE): number {
  return Math.max(minimum, Math.ceil(size / MAX_PARTS / MIB) * MIB);
}
