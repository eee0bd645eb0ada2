/** What the benchmark measures and records (bench/results.json), and the targets of the issue. */
import type { ServerCeiling } from "./raw-sdk.js";

/** The targets of the issue. */
export const TARGET_RATIO = 0.9;
export const TARGET_RSS_BYTES = 150e6;
export const TARGET_MCP_OVERHEAD_MS = 0.5;
/** A server using at least this share of one core during a run is treated as saturated. */
export const SERVER_BOUND_UTILISATION = 0.85;

export const CASES = ["small", "large", "huge", "keys", "head", "cold"] as const;
export type CaseName = (typeof CASES)[number];
/** base: the MCP server of another build (--baseline-dist), the "before" of a before/after. */
export const METHODS = ["raw", "rclone", "lib", "mcp", "base"] as const;
export type Method = (typeof METHODS)[number];

export interface Flags {
  quick: boolean;
  concurrency: number;
  only: Set<CaseName>;
  repeats: number;
  smallFiles: number;
  largeFiles: number;
  hugeBytes: number;
  heads: number;
  colds: number;
  /** objects copied (copy_objects) and deleted (delete_objects) in the keys case */
  keys: number;
  timeoutMs: number;
  /** where results.json goes */
  out: string;
  /** every client talks through a proxy adding this many ms each way (0: direct) */
  latencyMs: number;
  /** dist/ of the build measured as "before" (method base) */
  baselineDist?: string;
  /** no server-ceiling measurement */
  skipCeiling: boolean;
  /** only these methods */
  methods?: Set<Method>;
  /** only these directions of the transfer cases (upload, download); both when unset */
  directions?: Set<"upload" | "download">;
}

export interface Run {
  seconds: number;
  files: number;
  bytes: number;
  /** CPU time the server process spent during the run */
  serverCpuSeconds: number;
  /** CPU time of the process doing the transfer, where it can be read */
  clientCpuSeconds?: number;
  /** requests the server saw during the run, by S3 operation */
  requests: Record<string, number>;
  /** TCP connections the server accepted during the run */
  connections: number;
  peakRssKiB?: number;
}

export interface MethodResult {
  runs: Run[];
  /** why the method has no numbers (not installed, failed...) */
  error?: string;
}

export type Direction = Partial<Record<Method, MethodResult>>;

export interface TransferCase {
  files: number;
  fileBytes: number;
  upload: Direction;
  download: Direction;
}

/** Many small objects handled on the server side: copied under another prefix, and deleted. */
export interface KeysCase {
  keys: number;
  keyBytes: number;
  copy: Direction;
  delete: Direction;
}

export interface HeadResult {
  calls: number;
  raw: number[];
  lib: number[];
  mcp: number[];
  /** MCP `ping` round trips over the same session: the transport's own floor */
  ping: number[];
  /** the baseline build's head_object */
  base?: number[];
  /**
   * head_object through another process of the same server driven by bare JSON lines (no MCP SDK
   * client): MCP minus this is the SDK client's own share of the MCP column
   */
  line?: number[];
}

export interface ColdResult {
  /** spawn → tools/list answered, ms */
  toolsList: number[];
  /** spawn → initialize answered, ms */
  initialize: number[];
  /** spawn → exit of `node -e 0`, ms: what Node itself costs */
  bareNode: number[];
  /** the baseline build: spawn → tools/list answered, ms */
  baseToolsList?: number[];
}

export interface BenchResults {
  ceiling?: ServerCeiling;
  small?: TransferCase;
  large?: TransferCase;
  huge?: TransferCase;
  keys?: KeysCase;
  head?: HeadResult;
  cold?: ColdResult;
  rclone: { version?: string; spawnMs?: number; hint?: string };
  /** cases that failed as a whole (e.g. their seed upload), with the error */
  caseErrors: Partial<Record<CaseName, string>>;
  /** the tail of stderr of the long-lived r2-mcp server (directories, head_object) */
  mcpServerStderr?: string;
  /** set when dist/ changed between the start and the end of the run */
  distRebuiltDuringRun?: string;
}
