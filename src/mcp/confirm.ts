/**
 * Asking a person before data is destroyed (SPEC "Asking a person before data is destroyed";
 * `--confirm auto|always|never`). One call for every tool that can destroy data:
 *
 *     await extra.confirm(async () => (exists ? { action: "delete", keys: [key], count: 1, bytes } : undefined));
 *
 * The callback says what would be lost, or undefined when nothing would be (a new key, a missing
 * one, a dry run): then nothing is asked. It runs only when a question could be asked, so
 * `--confirm never` costs no lookup. `confirm` returns when the tool may go on; a "no" is a
 * `cancelled` error and a client that cannot ask under `always` is `unsupported`, both before
 * anything changed.
 *
 * The question is an input-required result (a form of one required boolean), written once: a
 * 2026-07-28 client answers it and retries the call; for a 2025 client the SDK's legacy shim sends
 * it as elicitation/create and re-enters the call with the answer. Either way the tool runs again
 * from the start, finds the answer, and checks it is the answer to the same question (a signed
 * digest of what would be lost travels in requestState): if what would be lost changed between
 * the question and the answer, it asks again.
 */
import { createHash, randomBytes } from "node:crypto";
import {
  CLIENT_CAPABILITIES_META_KEY,
  type ClientCapabilities,
  createRequestStateCodec,
  type InputRequiredResult,
  inputRequired,
  inputResponse,
  type ServerContext,
} from "@modelcontextprotocol/server";
import type { ConfirmMode } from "../config/index.js";
import { q, StorageError } from "../core/errors.js";
import type { Replaced } from "../core/transfer/index.js";
import { formatBytes } from "./results.js";

export type { ConfirmMode } from "../config/index.js";

/** What a call would destroy. */
export interface Loss {
  /** "delete" (objects), "replace" (existing destinations, with overwrite), "move" (sources after their copy). */
  action: "delete" | "replace" | "move";
  /** Keys, or local paths for downloads; the first ten are shown. */
  keys: readonly string[];
  /** How many (default keys.length). */
  count?: number;
  /** Bytes that would be lost, when known. */
  bytes?: number;
  /** The bucket, when it is worth naming. */
  bucket?: string;
  /** A move that also replaces existing destinations: how many (one question covers both). */
  replacing?: number;
}

export type LossProbe = Loss | undefined | (() => Promise<Loss | undefined>);

/** A tool's one way to ask: resolves when it may go on (see the module comment). */
export type Confirm = (loss: LossProbe) => Promise<void>;

const SHOWN = 10;
const ANSWER_KEY = "confirm";

/** Thrown by confirm to stop the call and return the question; run-tool turns it into the result. */
export class QuestionAsked extends Error {
  constructor(readonly result: InputRequiredResult) {
    super("a question was asked");
  }
}

/** Verifies the requestState a question carried (ServerOptions.requestState.verify) and mints it. */
export interface QuestionSeal {
  mint(payload: { digest: string }): Promise<string>;
  verify: (state: string, ctx: ServerContext) => Promise<unknown>;
}

/** One seal per process: its key never leaves it, and a state from another run is refused. */
export function createQuestionSeal(): QuestionSeal {
  const codec = createRequestStateCodec<{ digest: string }>({ key: randomBytes(32), ttlSeconds: 3600 });
  return { mint: (payload) => codec.mint(payload), verify: (state, ctx) => codec.verify(state, ctx) };
}

export function describeLoss(loss: Loss): string {
  const count = loss.count ?? loss.keys.length;
  const what =
    loss.action === "delete"
      ? `Delete ${count} object${count === 1 ? "" : "s"}`
      : loss.action === "move"
        ? `Move ${count} object${count === 1 ? "" : "s"} (the sources are deleted after their copy)`
        : `Replace ${count} existing destination${count === 1 ? "" : "s"}`;
  const where = loss.bucket === undefined ? "" : ` in bucket ${q(loss.bucket)}`;
  const size = loss.bytes === undefined ? "" : ` (${formatBytes(loss.bytes)} now there)`;
  const shown = loss.keys.slice(0, SHOWN).map(q).join(", ");
  const more = count > SHOWN ? `, and ${count - SHOWN} more` : "";
  const also = loss.replacing ? `; it also replaces ${loss.replacing} existing destination${loss.replacing === 1 ? "" : "s"}` : "";
  return `${what}${where}${size}: ${shown}${more}${also}. This cannot be undone.`;
}

function digestOf(loss: Loss): string {
  const { action, keys, count, bytes, bucket, replacing } = loss;
  return createHash("sha256")
    .update(JSON.stringify({ action, keys, count: count ?? keys.length, bytes, bucket, replacing }))
    .digest("base64url");
}

/** Whether the client declared form elicitation (a bare `elicitation: {}` counts, as in 2025-06-18). */
function canAsk(capabilities: ClientCapabilities | undefined): boolean {
  const elicitation = capabilities?.elicitation as { form?: unknown; url?: unknown } | undefined;
  if (elicitation === undefined) return false;
  return elicitation.form !== undefined || elicitation.url === undefined;
}

export interface ConfirmSource {
  mode: ConfirmMode;
  era: "legacy" | "modern";
  seal: QuestionSeal;
  /** The 2025 client's capabilities from initialize. */
  sessionCapabilities(): ClientCapabilities | undefined;
}

/** The confirm of one call. */
export function confirmFor(source: ConfirmSource, ctx: ServerContext): Confirm {
  return async (probe) => {
    if (source.mode === "never") return;
    const capabilities =
      source.era === "modern"
        ? ((ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined)
        : source.sessionCapabilities();
    const askable = canAsk(capabilities);
    // auto: a client that cannot ask gets no question; its own approval prompt stands in.
    if (!askable && source.mode === "auto") return;
    const loss = typeof probe === "function" ? await probe() : probe;
    if (loss === undefined) return;
    const question = describeLoss(loss);
    if (!askable) {
      throw new StorageError(
        "unsupported",
        `this would destroy data and the server runs with --confirm always, but this client cannot ask the person (it does not offer elicitation); nothing was changed. ${question} Use a client that can ask, or start the server with --confirm auto`,
      );
    }
    const digest = digestOf(loss);
    const answer = inputResponse(ctx.mcpReq.inputResponses, ANSWER_KEY);
    const asked = ctx.mcpReq.requestState<{ digest?: string }>();
    if (answer.kind !== "elicit" || typeof asked !== "object" || asked?.digest !== digest) {
      throw new QuestionAsked(
        inputRequired({
          inputRequests: {
            [ANSWER_KEY]: inputRequired.elicit({
              message: question,
              requestedSchema: {
                type: "object",
                properties: {
                  confirm: {
                    type: "boolean",
                    title: loss.action === "delete" ? "Delete" : loss.action === "move" ? "Move" : "Replace",
                    description: "true to go ahead and destroy this data; anything else changes nothing.",
                  },
                },
                required: ["confirm"],
              },
            }),
          },
          requestState: await source.seal.mint({ digest }),
        }),
      );
    }
    if (answer.action === "accept" && answer.content?.confirm === true) return;
    const how = answer.action === "accept" ? "did not agree" : answer.action === "decline" ? "declined" : "cancelled the question";
    throw new StorageError("cancelled", `the person ${how}; nothing was changed. ${question}`);
  };
}

/** The core transfers' beforeReplace hook, asking through `confirm`. */
export function confirmReplacing(confirm: Confirm, bucket?: string): (replaced: Replaced) => Promise<void> {
  return (replaced) => confirm({ action: "replace", keys: replaced.destinations, bytes: replaced.bytes, ...(bucket ? { bucket } : {}) });
}
