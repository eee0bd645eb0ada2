/**
 * The one glob syntax of r2-mcp, matched against whole keys (or relative paths): `*` within one
 * `/`-segment, `**` across segments, `?` one character other than `/`, `{a,b}` alternatives, and
 * `\` to take the next character literally. Nothing else is special: brackets, `!` and extglob
 * forms are plain characters, so a key that contains them can be matched as written.
 *
 * Globs come from assistants and keys from buckets, both untrusted, so matching never backtracks
 * exponentially (a regular expression built from `*a*a*a*a*a*a*b` takes seconds on a 60-character
 * key): alternatives are expanded (at most MAX_ALTERNATIVES), segments are matched with a
 * set-of-states walk, and characters within a segment with the linear wildcard walk.
 */
import { StorageError } from "./errors.js";

const MAX_GLOB_LENGTH = 1024;
const MAX_ALTERNATIVES = 256;

/** One character of a segment: a literal, `?` (any one) or `*` (any run, possibly empty). */
type Token = { kind: "literal"; char: string } | { kind: "one" } | { kind: "star" };
/** A segment between slashes: `**` alone is a globstar (zero or more whole segments). */
type Segment = { kind: "globstar" } | { kind: "segment"; tokens: Token[] };

/** A predicate for `pattern`; invalid_argument naming `argument` when the pattern is unusable. */
export function compileGlob(pattern: string, argument = "glob"): (key: string) => boolean {
  if (pattern.length === 0) throw new StorageError("invalid_argument", `${argument} must not be empty; leave it out to match everything`);
  if (pattern.length > MAX_GLOB_LENGTH) {
    throw new StorageError("invalid_argument", `${argument} is ${pattern.length} characters; the limit is ${MAX_GLOB_LENGTH}`);
  }
  if (pattern.includes("\0")) throw new StorageError("invalid_argument", `${argument} must not contain a NUL character`);
  const alternatives = expandBraces(pattern, argument).map(parseSegments);
  return (key) => {
    const segments = key.split("/");
    return alternatives.some((pattern) => matchSegments(pattern, segments));
  };
}

/** Every alternative of `{a,b}` groups (nested too), keeping escapes for the segment parser. */
function expandBraces(pattern: string, argument: string): string[] {
  const unbalanced = () =>
    new StorageError("invalid_argument", `${argument} ${JSON.stringify(pattern)} has unbalanced { } braces; write alternatives as {a,b}`);
  let pos = 0;
  // A sequence of text and groups, up to a "," or "}" that belongs to an enclosing group.
  const sequence = (depth: number): string[] => {
    let results = [""];
    while (pos < pattern.length) {
      const c = pattern[pos] as string;
      if (c === "\\" && pos + 1 < pattern.length) {
        const escaped = pattern.slice(pos, pos + 2);
        results = results.map((r) => r + escaped);
        pos += 2;
      } else if (c === "{") {
        pos++;
        const options: string[] = [];
        for (;;) {
          options.push(...sequence(depth + 1));
          if (pos >= pattern.length) throw unbalanced();
          if (pattern[pos++] === "}") break; // else a "," and the next option
        }
        if (results.length * options.length > MAX_ALTERNATIVES) {
          throw new StorageError(
            "invalid_argument",
            `${argument} has more than ${MAX_ALTERNATIVES} alternatives once its { } groups are expanded; use fewer, or several calls`,
          );
        }
        results = results.flatMap((r) => options.map((o) => r + o));
      } else if ((c === "," || c === "}") && depth > 0) {
        return results;
      } else if (c === "}") {
        throw unbalanced();
      } else {
        results = results.map((r) => r + c);
        pos++;
      }
    }
    if (depth > 0) throw unbalanced();
    return results;
  };
  return sequence(0);
}

function parseSegments(pattern: string): Segment[] {
  const segments: Segment[] = [];
  let tokens: Token[] = [];
  let raw = "";
  const close = () => {
    segments.push(raw === "**" ? { kind: "globstar" } : { kind: "segment", tokens });
    tokens = [];
    raw = "";
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\" && i + 1 < pattern.length) {
      tokens.push({ kind: "literal", char: pattern[++i] as string });
      raw += `\\${pattern[i]}`;
    } else if (c === "/") {
      close();
    } else {
      raw += c;
      if (c === "?") tokens.push({ kind: "one" });
      // "**" inside a segment ("a**b") is one star: it cannot cross a "/" there.
      else if (c === "*") {
        if (tokens.at(-1)?.kind !== "star") tokens.push({ kind: "star" });
      } else tokens.push({ kind: "literal", char: c });
    }
  }
  close();
  return segments;
}

/** Walks the key's segments keeping every pattern position still possible: no backtracking. */
function matchSegments(pattern: Segment[], key: string[]): boolean {
  const closure = (states: Set<number>): Set<number> => {
    for (const i of [...states].sort((a, b) => a - b)) {
      // A globstar may match no segment at all.
      for (let j = i; j < pattern.length && pattern[j]?.kind === "globstar"; j++) states.add(j + 1);
    }
    return states;
  };
  let states = closure(new Set([0]));
  for (const segment of key) {
    const next = new Set<number>();
    for (const i of states) {
      const p = pattern[i];
      if (p === undefined) continue;
      if (p.kind === "globstar") next.add(i);
      else if (matchSegment(p.tokens, segment)) next.add(i + 1);
    }
    if (next.size === 0) return false;
    states = closure(next);
  }
  return states.has(pattern.length);
}

/** Wildcards within one segment: on a mismatch only the last `*` takes one more character. */
function matchSegment(tokens: Token[], text: string): boolean {
  const chars = [...text];
  let t = 0;
  let c = 0;
  let starAt = -1;
  let starChar = 0;
  while (c < chars.length) {
    const token = tokens[t];
    if (token?.kind === "star") {
      starAt = t++;
      starChar = c;
    } else if (token && (token.kind === "one" || token.char === chars[c])) {
      t++;
      c++;
    } else if (starAt >= 0) {
      t = starAt + 1;
      c = ++starChar;
    } else {
      return false;
    }
  }
  while (tokens[t]?.kind === "star") t++;
  return t === tokens.length;
}
