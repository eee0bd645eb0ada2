import { StorageError } from "./errors.js";

/** A small extension → media type table: enough for the files experiments produce. */
const TYPES: Record<string, string> = {
  txt: "text/plain; charset=utf-8",
  log: "text/plain; charset=utf-8",
  md: "text/markdown; charset=utf-8",
  csv: "text/csv; charset=utf-8",
  tsv: "text/tab-separated-values; charset=utf-8",
  json: "application/json",
  jsonl: "application/jsonl",
  ndjson: "application/x-ndjson",
  yaml: "application/yaml",
  yml: "application/yaml",
  toml: "application/toml",
  xml: "application/xml",
  html: "text/html; charset=utf-8",
  htm: "text/html; charset=utf-8",
  css: "text/css; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  ts: "text/plain; charset=utf-8",
  py: "text/x-python; charset=utf-8",
  sh: "text/x-shellscript; charset=utf-8",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  svg: "image/svg+xml",
  tif: "image/tiff",
  tiff: "image/tiff",
  pdf: "application/pdf",
  zip: "application/zip",
  gz: "application/gzip",
  tgz: "application/gzip",
  tar: "application/x-tar",
  zst: "application/zstd",
  parquet: "application/vnd.apache.parquet",
  npy: "application/octet-stream",
  npz: "application/zip",
  h5: "application/x-hdf5",
  mp4: "video/mp4",
  wav: "audio/wav",
  mp3: "audio/mpeg",
};

export const DEFAULT_CONTENT_TYPE = "application/octet-stream";

export function guessContentType(name: string): string {
  const dot = name.lastIndexOf(".");
  const slash = name.lastIndexOf("/");
  if (dot <= slash + 1) return DEFAULT_CONTENT_TYPE;
  return TYPES[name.slice(dot + 1).toLowerCase()] ?? DEFAULT_CONTENT_TYPE;
}

/**
 * A content type is sent as an HTTP header: printable ASCII only, so a CR/LF cannot split the
 * request and no control character reaches the store (every backend refuses the same values).
 */
export function checkContentType(value: string | undefined, argument = "content_type"): void {
  if (value !== undefined && !/^[\x21-\x7e][\x20-\x7e]*$/.test(value)) {
    throw new StorageError(
      "invalid_argument",
      `${argument} ${JSON.stringify(value)} is not a media type (printable ASCII without line breaks, e.g. "text/csv"); fix it or leave it out to have it guessed`,
    );
  }
}
