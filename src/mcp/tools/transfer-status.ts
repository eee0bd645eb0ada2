import * as z from "zod";
import { jobShape } from "../job-status.js";
import { defineTool } from "../tool.js";

export const transferStatus = defineTool({
  name: "transfer_status",
  title: "Status of background transfers",
  description:
    "How a transfer started with background: true is doing: state (queued, running, succeeded, failed, cancelled), bytes and files done of the total, times, and once finished the result the call would have returned (or its error and what completed). Without job_id: every job of this server process.",
  input: {
    job_id: z.string().optional().describe("The job_id a background call returned. Absent: every job."),
  },
  output: {
    jobs: z.array(z.object(jobShape)).describe("The job asked for, or every job of this server process, oldest first."),
  },
  effect: "read",
  changesBucket: false,
  async handle(args, ctx) {
    const jobs = args.job_id === undefined ? ctx.jobs.list() : [ctx.jobs.status(args.job_id)];
    const text = jobs.length === 0 ? "no background jobs in this server process" : jobs.map((j) => j.summary).join("\n");
    return { structured: { jobs }, text };
  },
});
