/** How transfer_status and cancel_transfer show a job. */
import * as z from "zod";
import { JOB_STATES } from "./jobs.js";

export const jobShape = {
  job_id: z.string(),
  tool: z.string().describe("The tool that started it."),
  state: z.enum(JOB_STATES).describe("queued (waiting: at most 4 jobs run at once), running, succeeded, failed or cancelled."),
  arguments: z.record(z.string(), z.unknown()).describe("The arguments of the call that started it."),
  started_at: z.string().describe("ISO 8601 time the job was started (queued)."),
  finished_at: z.string().optional().describe("ISO 8601 time it finished, once it has."),
  bytes_done: z.number().int(),
  bytes_total: z.number().int(),
  files_done: z.number().int(),
  files_total: z.number().int(),
  result: z
    .record(z.string(), z.unknown())
    .optional()
    .describe(
      "Once finished: the structured result the call would have returned in the foreground (for a failed or cancelled directory transfer, what completed).",
    ),
  error: z
    .object({ code: z.string(), message: z.string(), key: z.string().optional(), path: z.string().optional() })
    .optional()
    .describe("Why it failed or was cancelled. Repeating the original call finishes the work: identical destinations are skipped."),
  summary: z.string().describe("One readable line: state, counts, and the outcome once finished."),
};
