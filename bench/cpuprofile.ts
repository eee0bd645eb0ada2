/**
 * Summaries of a V8 .cpuprofile (what `node --cpu-prof` or inspector's Profiler.stop returns):
 * self time by function, self time by package, and inclusive time of r2-mcp's own functions.
 */

export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  topSelf: { name: string; where: string; ms: number; share: number }[];
  byPackage: { pkg: string; ms: number; share: number }[];
  /** inclusive (self + callees) time of functions in r2-mcp's dist/, heaviest first */
  r2mcpInclusive: { name: string; where: string; ms: number; share: number }[];
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native)";
  if (url.startsWith("node:")) return "node (core)";
  const nm = url.lastIndexOf("/node_modules/");
  if (nm !== -1) {
    const rest = url.slice(nm + "/node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.includes("/dist/")) return "r2-mcp (dist)";
  if (url.includes("/bench/")) return "bench";
  return url;
}

function shortUrl(url: string, line: number): string {
  const nm = url.lastIndexOf("/node_modules/");
  const tail = nm !== -1 ? url.slice(nm + "/node_modules/".length) : url.replace(/^.*\/(dist|bench)\//, "$1/");
  return tail ? `${tail}:${line + 1}` : "";
}

/**
 * `window` (µs, CLOCK_MONOTONIC like process.hrtime) keeps only the samples taken inside it, so a
 * profile of a whole process can be cut down to the measured calls.
 */
export function summarize(profiles: CpuProfile[], top = 25, window?: { startUs: number; endUs: number }): ProfileSummary {
  const self = new Map<string, { name: string; where: string; ms: number }>();
  const pkgs = new Map<string, number>();
  const inclusive = new Map<string, { name: string; where: string; ms: number }>();
  let totalMs = 0;
  for (const profile of profiles) {
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const parent = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    let at = profile.startTime;
    for (let i = 0; i < profile.samples.length; i++) {
      at += profile.timeDeltas[i] ?? 0;
      if (window && (at < window.startUs || at > window.endUs)) continue;
      const ms = (profile.timeDeltas[i + 1] ?? 0) / 1000; // the delta *after* a sample is its duration
      const node = byId.get(profile.samples[i] as number);
      if (!node) continue;
      totalMs += ms;
      const { functionName, url, lineNumber } = node.callFrame;
      const name = functionName || "(anonymous)";
      const where = shortUrl(url, lineNumber);
      const key = `${name}@${where}`;
      const s = self.get(key) ?? { name, where, ms: 0 };
      s.ms += ms;
      self.set(key, s);
      const pkg = packageOf(url, functionName);
      pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + ms);
      // Inclusive time for r2-mcp frames: each distinct frame on the stack counts once.
      const seen = new Set<string>();
      for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
        const frame = byId.get(id)?.callFrame;
        if (!frame?.url.includes("/dist/")) continue;
        const fname = frame.functionName || "(anonymous)";
        const fwhere = shortUrl(frame.url, frame.lineNumber);
        const fkey = `${fname}@${fwhere}`;
        if (seen.has(fkey)) continue;
        seen.add(fkey);
        const e = inclusive.get(fkey) ?? { name: fname, where: fwhere, ms: 0 };
        e.ms += ms;
        inclusive.set(fkey, e);
      }
    }
  }
  const share = (ms: number) => (totalMs > 0 ? ms / totalMs : 0);
  return {
    totalMs,
    topSelf: [...self.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((e) => ({ ...e, share: share(e.ms) })),
    byPackage: [...pkgs.entries()].map(([pkg, ms]) => ({ pkg, ms, share: share(ms) })).sort((a, b) => b.ms - a.ms),
    r2mcpInclusive: [...inclusive.values()]
      .sort((a, b) => b.ms - a.ms)
      .slice(0, top)
      .map((e) => ({ ...e, share: share(e.ms) })),
  };
}
