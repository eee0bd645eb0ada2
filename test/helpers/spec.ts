/** Names SPEC.md fixes: the tools and the error codes. Tests compare the server against these, never against src. */

/** The tools of SPEC.md "Tools" (and those of its 0.2 part that have landed), by name. */
export const SPEC_TOOLS = [
  "list_buckets",
  "list_objects",
  "summarize_prefix",
  "head_object",
  "get_object_bytes",
  "upload_bytes",
  "upload_file",
  "upload_directory",
  "download_file",
  "download_directory",
  "compare_directory",
  "copy_objects",
  "delete_object",
  "delete_objects",
  "transfer_status",
  "cancel_transfer",
] as const;

/** The error codes of SPEC.md "Errors": every tool error text starts with one of them. */
export const SPEC_ERROR_CODES = [
  "invalid_argument",
  "not_found",
  "already_exists",
  "not_a_directory",
  "too_large",
  "outside_roots",
  "outside_allowed_prefix",
  "access_denied",
  "bucket_not_found",
  "throttled",
  "unavailable",
  "cancelled",
  "unsupported",
  "internal",
] as const;

export type SpecErrorCode = (typeof SPEC_ERROR_CODES)[number];

/** True when `text` starts with a SPEC code and its colon, as every tool error text must. */
export function startsWithSpecCode(text: string): boolean {
  return SPEC_ERROR_CODES.some((code) => text.startsWith(`${code}: `));
}

/** SPEC.md's times: ISO 8601 in UTC, e.g. last_modified. */
export const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
