/**
 * include / exclude for directory transfers and comparisons, in the one glob syntax (glob.ts),
 * matched against a path relative to the local directory or the prefix, as .gitignore and rsync
 * users expect:
 *  - a pattern without "/" matches a name at any depth: `*.tmp` any file so named, `__pycache__`
 *    any folder (and so everything in it);
 *  - a trailing "/" matches folders only: `.git/` excludes everything under any `.git` folder;
 *  - a pattern with "/" inside is matched against the whole relative path, and a folder it
 *    matches stands for everything under it: `data/raw` or `runs/*\/checkpoints/`.
 * A path is kept when it matches some include (or none is given) and no exclude.
 */
import { StorageError } from "./errors.js";
import { compileGlob } from "./glob.js";

export interface PathFilterOptions {
  include?: readonly string[];
  exclude?: readonly string[];
}

/** Patterns per list: enough for any ignore list a person writes, bounded for a hostile one. */
export const MAX_FILTER_PATTERNS = 100;

/** Whether a pattern matches a path; with `folder`, the path is a folder (no segment is a file). */
type Matcher = (segments: string[], folder: boolean) => boolean;

function compilePattern(pattern: string, argument: string): Matcher {
  const folderOnly = pattern.endsWith("/") && !pattern.endsWith("\\/");
  const body = folderOnly ? pattern.slice(0, -1) : pattern;
  const glob = compileGlob(body === "" ? pattern : body, argument);
  const anywhere = !/(^|[^\\])\//.test(body);
  return (segments, folder) => {
    // A file's path ends in the file itself, which a folder-only pattern never matches.
    const end = folderOnly && !folder ? segments.length - 1 : segments.length;
    if (anywhere) {
      for (let i = 0; i < end; i++) if (glob(segments[i] as string)) return true;
      return false;
    }
    for (let i = 1; i <= end; i++) if (glob(segments.slice(0, i).join("/"))) return true;
    return false;
  };
}

function compileList(patterns: readonly string[] | undefined, argument: string): Matcher[] {
  if (patterns === undefined) return [];
  if (patterns.length > MAX_FILTER_PATTERNS) {
    throw new StorageError("invalid_argument", `${argument} has ${patterns.length} patterns; the limit is ${MAX_FILTER_PATTERNS}`);
  }
  return patterns.map((p, i) => compilePattern(p, `${argument}[${i}]`));
}

export interface PathFilter {
  /** Whether a file (its "/"-separated relative path) is kept. */
  keeps(relative: string): boolean;
  /** Whether nothing under a folder can be kept (an exclude matches the folder): it need not be read. */
  skipsFolder(relative: string): boolean;
}

/** The filter of include/exclude; undefined when neither is given. */
export function compilePathFilter(options: PathFilterOptions): PathFilter | undefined {
  const include = compileList(options.include, "include");
  const exclude = compileList(options.exclude, "exclude");
  if (include.length === 0 && exclude.length === 0) return undefined;
  return {
    keeps(relative) {
      const segments = relative.split("/");
      if (include.length > 0 && !include.some((m) => m(segments, false))) return false;
      return !exclude.some((m) => m(segments, false));
    },
    skipsFolder(relative) {
      const segments = relative.split("/");
      return exclude.some((m) => m(segments, true));
    },
  };
}
