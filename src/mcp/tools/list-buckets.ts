import * as z from "zod";
import { defineTool, outputObject } from "../tool.js";

export const listBuckets = defineTool({
  name: "list_buckets",
  title: "List the configured buckets",
  description: "The configured buckets (pass a name as `bucket`; the first is the default) and the local roots.",
  input: {},
  output: {
    buckets: z.array(
      outputObject({
        name: z.string(),
        kind: z.enum(["s3", "local"]),
        bucket: z.string().optional(),
        endpoint: z.string().optional(),
        read_only: z.boolean(),
        allow_prefixes: z.array(z.string()).describe("Empty: all keys."),
        default: z.boolean(),
      }),
    ),
    roots: z.array(z.string()).describe("Local folders the file tools may use."),
  },
  effect: "read",
  changesBucket: false,
  async handle(_args, ctx) {
    const roots = [...(await ctx.localRoots())];
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
    lines.push(
      roots.length > 0
        ? `local roots: ${roots.join(", ")}`
        : "local roots: none (the server started in / or the home directory without --root; local paths are refused)",
    );
    return { structured: { buckets, roots }, text: lines.join("\n") };
  },
});
