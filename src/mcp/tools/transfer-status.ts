import * as z from "zod";
import { jobShape } from "../job-status.js";
import { defineTool, outputObject } from "../tool.js";

export const transferStatus = defineTool({
  name: "transfer_status",
  title: "Status of background transfers",
  description:
    "How background transfers are doing: state, files and bytes done of the total, and once finished the result (or error and what completed). Without job_id: every job.",
  input: {
    job_id: z.string().optional().describe("Absent: every job."),
  },
  output: {
    jobs: z.array(outputObject(jobShape)).describe("Oldest first."),
  },
  effect: "read",
  changesBucket: false,
  async handle(args, ctx) {
    const jobs = args.job_id === undefined ? ctx.jobs.list() : [ctx.jobs.status(args.job_id)];
    const text = jobs.length === 0 ? "no background jobs in this server process" : jobs.map((j) => j.summary).join("\n");
    return { structured: { jobs }, text };
  },
});
