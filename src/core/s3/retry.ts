/**
 * The one retry loop for what the SDK cannot repeat itself: a PUT whose body is a file stream
 * (it cannot rewind it) and a download cut mid-body. It repeats what the SDK's standard strategy
 * would (retryKind), with its backoff: full jitter over an exponential ceiling, and a longer base
 * when the server asks to slow down.
 */
import { setTimeout as delay } from "node:timers/promises";
import { cancelledError } from "../errors.js";
import { type RetryKind, retryKind } from "./errors.js";

const RETRY_BASE_MS: Record<RetryKind, number> = { transient: 50, throttling: 1_000 };
const RETRY_MAX_DELAY_MS = 20_000;

/** The wait before retry number `retry` (1 for the first). */
function backoffMs(retry: number, kind: RetryKind): number {
  return Math.floor(Math.random() * Math.min(RETRY_BASE_MS[kind] * 2 ** (retry - 1), RETRY_MAX_DELAY_MS));
}

async function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  try {
    await delay(ms, undefined, signal ? { signal } : {});
  } catch (err) {
    throw cancelledError(err);
  }
}

export interface RetryOptions {
  /** Total attempts, the first included. */
  maxAttempts: number;
  /** Once it has aborted, a failure is not repeated; a pause it interrupts ends in cancelled. */
  signal?: AbortSignal | undefined;
  /** Told before each pause: the failure, the number of the attempt that follows, the wait. */
  onRetry?: (retry: { error: unknown; attempt: number; waitMs: number }) => void;
}

/**
 * Runs attempt 1, 2... until one completes, yielding what each yields; an attempt carries on from
 * where the one before it stopped. A failure is repeated only when retryKind says a repeat can
 * succeed and attempts are left; otherwise it is thrown as it is.
 */
export async function* retryingStream<T>(attempt: (n: number) => AsyncIterable<T>, options: RetryOptions): AsyncGenerator<T, void> {
  for (let n = 1; ; n++) {
    try {
      yield* attempt(n);
      return;
    } catch (error) {
      const kind = retryKind(error);
      if (options.signal?.aborted || kind === undefined || n >= options.maxAttempts) throw error;
      const waitMs = backoffMs(n, kind);
      options.onRetry?.({ error, attempt: n + 1, waitMs });
      await pause(waitMs, options.signal);
    }
  }
}

/** The same for one request: the result of the first attempt that succeeds. */
export async function retrying<T>(attempt: (n: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const results = retryingStream(async function* (n) {
    yield await attempt(n);
  }, options);
  for await (const result of results) return result;
  throw new Error("retrying: no attempt gave a result"); // not reached: every attempt yields or throws
}
