/**
 * Secrets registered at start-up are replaced in messages and logs (errors, log lines, and any
 * text a result carries beside its data), whatever produced the text — including SDK errors that
 * echo request details. Never inside object keys or object data: a key that happens to contain a
 * credential's characters is still the user's key. Values shorter than MIN_SECRET_LENGTH are not
 * treated as secrets (test credentials such as "test" would otherwise garble every key holding
 * that word, and no real credential is that short).
 */
export const MIN_SECRET_LENGTH = 8;

const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  if (value && value.length >= MIN_SECRET_LENGTH) secrets.add(value);
}

const REDACTED = "[redacted]";

/**
 * `text` with every registered secret replaced, except where it lies inside an occurrence of one
 * of `keep` (object keys, object data, local paths the text names).
 */
export function redact(text: string, keep: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) out = redactOne(out, secret, keep);
  // Signatures and credentials in presigned-style URLs or Authorization headers.
  return out
    .replace(/(X-Amz-Signature=)[0-9a-f]+/gi, "$1[redacted]")
    .replace(/(Signature=)[0-9a-f]{16,}/g, "$1[redacted]")
    .replace(/(Credential=)[^,&\s/]+/g, "$1[redacted]");
}

function redactOne(text: string, secret: string, keep: readonly string[]): string {
  if (!text.includes(secret)) return text;
  const spans: [number, number][] = [];
  for (const kept of keep) {
    if (!kept.includes(secret)) continue;
    for (let at = text.indexOf(kept); at !== -1; at = text.indexOf(kept, at + 1)) spans.push([at, at + kept.length]);
  }
  let out = "";
  let last = 0;
  for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + secret.length)) {
    const end = at + secret.length;
    if (spans.some(([start, stop]) => at >= start && end <= stop)) continue;
    out += text.slice(last, at) + REDACTED;
    last = end;
  }
  return out + text.slice(last);
}

/** The string values in `value` (deeply, at most `max` of them): what a result's text may quote as data. */
export function stringsIn(value: unknown, max = 10_000): string[] {
  const found: string[] = [];
  const stack: unknown[] = [value];
  while (stack.length > 0 && found.length < max) {
    const next = stack.pop();
    if (typeof next === "string") found.push(next);
    else if (Array.isArray(next)) stack.push(...next);
    else if (next !== null && typeof next === "object") stack.push(...Object.values(next));
  }
  return found;
}
