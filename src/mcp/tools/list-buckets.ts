import * as z from "zod";
import { defineTool } from "../tool.js";

export const listBuckets = defineTool({
  name: "list_buckets",
  title: "List the configured buckets",
  description:
    "The buckets this server was configured with (no request is made: bucket-scoped tokens cannot list buckets). Pass a name as `bucket` to any object tool; the first is the default.",
  input: {},
  output: {
    buckets: z.array(
      z.object({
        name: z.string().describe("What to pass as `bucket`."),
        kind: z.enum(["s3", "local"]),
        bucket: z.string().optional().describe("The S3 bucket behind the name."),
        endpoint: z.string().optional().describe("The S3 endpoint (scheme, host and port)."),
        read_only: z.boolean(),
        allow_prefixes: z.array(z.string()).describe("Keys this bucket is confined to; empty means all keys."),
        default: z.boolean().describe("true for the bucket tools use when `bucket` is left out."),
      }),
    ),
  },
  effect: "read",
  changesBucket: false,
  async handle(_args, ctx) {
    const buckets = ctx.buckets.list.map((b, i) => ({
      name: b.store.name,
      kind: b.kind,
      bucket: b.bucket,
      endpoint: b.endpoint,
      read_only: b.store.readOnly,
      allow_prefixes: [...b.store.allowPrefixes],
      default: i === 0,
    }));
    const lines = buckets.map(
      (b) =>
        `${b.name}${b.default ? " (default)" : ""}: ${b.kind === "s3" ? `S3 bucket ${b.bucket} at ${b.endpoint}` : "local store"}${b.read_only ? ", read-only" : ""}${b.allow_prefixes.length ? `, keys under ${b.allow_prefixes.join(", ")}` : ""}`,
    );
    return { structured: { buckets }, text: lines.join("\n") };
  },
});
