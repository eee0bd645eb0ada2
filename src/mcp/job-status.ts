/** How transfer_status and cancel_transfer show a job. */
import * as z from "zod";
import { JOB_STATES } from "./jobs.js";
import { errorShape, int } from "./tool.js";

export const jobShape = {
  job_id: z.string(),
  tool: z.string(),
  state: z.enum(JOB_STATES).describe("queued waits: at most 4 jobs run at once."),
  arguments: z.record(z.string(), z.unknown()).describe("Of the call that started it."),
  started_at: z.string(),
  finished_at: z.string().optional(),
  bytes_done: int(),
  bytes_total: int(),
  files_done: int(),
  files_total: int(),
  result: z.record(z.string(), z.unknown()).optional().describe("Once finished: what the call would have returned."),
  error: errorShape.describe("Why it failed or was cancelled; repeating the call finishes the work."),
  summary: z.string().describe("One line: state, counts, outcome."),
};
