/** Strips the quotes S3 puts around ETags so every backend reports the same string. */
export function normalizeEtag(etag: string | undefined): string {
  return (etag ?? "").replace(/^W\//, "").replace(/^"|"$/g, "");
}
