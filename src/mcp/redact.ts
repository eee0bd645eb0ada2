/**
 * Secrets registered at start-up are replaced in every text that leaves the server (results,
 * errors, logs), whatever produced the text — including SDK errors that echo request details.
 */
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join("[redacted]");
  // Signatures and credentials in presigned-style URLs or Authorization headers.
  return out
    .replace(/(X-Amz-Signature=)[0-9a-f]+/gi, "$1[redacted]")
    .replace(/(Signature=)[0-9a-f]{16,}/g, "$1[redacted]")
    .replace(/(Credential=)[^,&\s/]+/g, "$1[redacted]");
}
