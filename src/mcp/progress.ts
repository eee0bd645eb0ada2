/**
 * What a tool handler gets of the call itself (cancellation, progress), and notifications/progress
 * for long tools: sent only when the request carries a progressToken, throttled to a few per
 * second, always increasing, with the final state always sent. The same in both protocol eras.
 */
import type { ProgressToken, ServerContext } from "@modelcontextprotocol/server";
import type { TransferProgress } from "../core/transfer/index.js";
import type { Confirm } from "./confirm.js";

/** The call a handler serves: built by run-tool from the SDK's request context. */
export interface ToolExtra {
  /** Aborted when the client cancels the call (notifications/cancelled) or the session ends. */
  signal: AbortSignal;
  /** The request's progress token, when the client asked for progress. */
  progressToken?: ProgressToken;
  /** Sends a notification that belongs to this call (it rides the call's exchange in either era). */
  notify(notification: { method: string; params?: Record<string, unknown> }): Promise<void>;
  /**
   * Asks the person before data is destroyed (--confirm): call it with what would be lost, or a
   * callback that finds out (undefined: nothing would be), before changing anything. See confirm.ts.
   */
  confirm: Confirm;
}

/** The ToolExtra of one SDK request context. */
export function toolExtraOf(ctx: ServerContext, confirm: Confirm): ToolExtra {
  return {
    signal: ctx.mcpReq.signal,
    progressToken: ctx.mcpReq._meta?.progressToken,
    notify: (notification) => ctx.mcpReq.notify(notification),
    confirm,
  };
}

const INTERVAL_MS = 250;

export function progressReporter(extra: ToolExtra): ((p: TransferProgress) => void) | undefined {
  const token = extra.progressToken;
  if (token === undefined) return undefined;
  let lastSent = 0;
  let lastProgress = -1;
  return (p) => {
    const finished = p.filesTotal > 0 && p.filesDone >= p.filesTotal;
    const now = Date.now();
    // Progress must increase; the final state is sent even inside the throttle interval.
    if (!finished && now - lastSent < INTERVAL_MS) return;
    if (p.bytesDone <= lastProgress) return;
    lastSent = now;
    lastProgress = p.bytesDone;
    const total = Math.max(p.bytesTotal, p.bytesDone);
    void extra
      .notify({
        method: "notifications/progress",
        params: {
          progressToken: token,
          progress: p.bytesDone,
          ...(total > 0 ? { total } : {}),
          message: `${p.filesDone} of ${p.filesTotal} file${p.filesTotal === 1 ? "" : "s"}, ${p.bytesDone} of ${total} bytes`,
        },
      })
      .catch(() => undefined);
  };
}
