/**
 * notifications/progress for long tools: sent only when the request carries a progressToken,
 * throttled to a few per second, always increasing, with the final state always sent.
 */
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import type { ServerNotification, ServerRequest } from "@modelcontextprotocol/sdk/types.js";
import type { TransferProgress } from "../core/transfer/index.js";

export type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const INTERVAL_MS = 250;

export function progressReporter(extra: ToolExtra): ((p: TransferProgress) => void) | undefined {
  const token = extra._meta?.progressToken;
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
      .sendNotification({
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
