import * as z from "zod";
import { jobShape } from "../job-status.js";
import { defineTool } from "../tool.js";

export const cancelTransfer = defineTool({
  name: "cancel_transfer",
  title: "Cancel a background transfer",
  description:
    "Stop a background transfer and wait until it has: no partial file, multipart uploads aborted; completed files stay. A queued job never starts. Repeating the original call finishes the work.",
  input: {
    job_id: z.string().describe("From transfer_status."),
  },
  output: jobShape,
  effect: "write",
  idempotent: true,
  changesBucket: false,
  async handle(args, ctx) {
    const job = await ctx.jobs.cancel(args.job_id);
    return { structured: job, text: job.summary };
  },
});
