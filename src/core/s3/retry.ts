/**
 * Backoff for the retries the SDK cannot make itself, as its standard strategy computes it:
 * full jitter over an exponential ceiling, a longer base when the server asks to slow down.
 */
import { setTimeout as delay } from "node:timers/promises";
import { cancelledError } from "../errors.js";
import type { RetryKind } from "./errors.js";

const RETRY_BASE_MS: Record<RetryKind, number> = { transient: 50, throttling: 1_000 };
const RETRY_MAX_DELAY_MS = 20_000;

export function backoffMs(retry: number, kind: RetryKind): number {
  return Math.floor(Math.random() * Math.min(RETRY_BASE_MS[kind] * 2 ** (retry - 1), RETRY_MAX_DELAY_MS));
}

export async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    throw cancelledError(err);
  }
}
