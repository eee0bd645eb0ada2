import * as z from "zod";
import { jobShape } from "../job-status.js";
import { defineTool } from "../tool.js";

export const cancelTransfer = defineTool({
  name: "cancel_transfer",
  title: "Cancel a background transfer",
  description:
    "Stop a background transfer and wait until it has stopped: no partial file is left and multipart uploads are aborted. Files already completed stay; the status says which. A queued job never starts; a finished one is left as it is. Repeating the original call later finishes the work.",
  input: {
    job_id: z.string().describe("The job_id a background call returned."),
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
