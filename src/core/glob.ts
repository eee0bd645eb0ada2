/**
 * The one glob syntax of r2-mcp, matched against whole keys (or relative paths): `*` within one
 * `/`-segment, `**` across segments, `?` one character other than `/`, `{a,b}` alternatives, and
 * `\` to take the next character literally. Nothing else is special: brackets, `!` and extglob
 * forms are plain characters, so a key that contains them can be matched as written.
 */
import picomatch from "picomatch";
import { StorageError } from "./errors.js";

const MAX_GLOB_LENGTH = 1024;

/** Brackets are literal here (picomatch would read them as character classes). */
function escapeBrackets(pattern: string): string {
  let out = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\" && i + 1 < pattern.length) {
      out += c + pattern[++i];
      continue;
    }
    out += c === "[" || c === "]" ? `\\${c}` : c;
  }
  return out;
}

/** A predicate for `pattern`; invalid_argument naming `argument` when the pattern is unusable. */
export function compileGlob(pattern: string, argument = "glob"): (key: string) => boolean {
  if (pattern.length === 0) throw new StorageError("invalid_argument", `${argument} must not be empty; leave it out to match everything`);
  if (pattern.length > MAX_GLOB_LENGTH) {
    throw new StorageError("invalid_argument", `${argument} is ${pattern.length} characters; the limit is ${MAX_GLOB_LENGTH}`);
  }
  if (pattern.includes("\0")) throw new StorageError("invalid_argument", `${argument} must not contain a NUL character`);
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] === "\\") i++;
    else if (pattern[i] === "{") depth++;
    else if (pattern[i] === "}" && --depth < 0) break;
  }
  if (depth !== 0) {
    throw new StorageError(
      "invalid_argument",
      `${argument} ${JSON.stringify(pattern)} has unbalanced { } braces; write alternatives as {a,b}`,
    );
  }
  const matcher = picomatch(escapeBrackets(pattern), { dot: true, nonegate: true, noextglob: true, strictBrackets: false });
  return (key) => matcher(key);
}
