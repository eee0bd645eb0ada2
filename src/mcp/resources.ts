/**
 * Objects as MCP resources: the template r2://{bucket}/{+key} ({+key} keeps the "/" in keys), a
 * listing of the first page of objects, and reads with the same size cap as get_object_bytes.
 */
import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
import { q, StorageError } from "../core/errors.js";
import { checkKey, checkPrefix, type ToolContext } from "./context.js";
import { asStorageError, errorText } from "./results.js";
import { DEFAULT_MAX_BYTES } from "./tools/get-object-bytes.js";

const LISTED = 200;
const utf8 = new TextDecoder("utf-8", { fatal: true });

export function resourceBucket(ctx: ToolContext): string {
  return ctx.store.name;
}

export function objectUri(bucket: string, key: string): string {
  return `r2://${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

export function registerResources(server: McpServer, ctx: ToolContext): void {
  const bucket = resourceBucket(ctx);
  const template = new ResourceTemplate("r2://{bucket}/{+key}", {
    list: async () => {
      const prefix = ctx.allowPrefixes[0] ?? "";
      checkPrefix(ctx, prefix);
      const page = await ctx.store.list({ prefix, limit: LISTED });
      return {
        resources: page.objects.map((o) => ({
          uri: objectUri(bucket, o.key),
          name: o.key,
          size: o.size,
          ...(o.contentType ? { mimeType: o.contentType } : {}),
        })),
      };
    },
  });
  server.registerResource(
    "object",
    template,
    {
      title: "Bucket object",
      description: `An object in the bucket, read whole when it is at most ${DEFAULT_MAX_BYTES} bytes (text as text, anything else as a base64 blob); use the tools for ranges and larger objects. The listing shows the first ${LISTED} objects.`,
    },
    async (uri, variables) => {
      try {
        if (variables.bucket !== bucket) {
          throw new StorageError("not_found", `this server serves bucket ${q(bucket)}, not ${q(String(variables.bucket))}`);
        }
        const raw = Array.isArray(variables.key) ? variables.key.join("/") : String(variables.key ?? "");
        let key: string;
        try {
          key = decodeURIComponent(raw);
        } catch {
          throw new StorageError("invalid_argument", `the resource URI's key ${q(raw)} is not valid percent-encoding`);
        }
        checkKey(ctx, key);
        const got = await ctx.store.get(key);
        if (got.info.size > DEFAULT_MAX_BYTES) {
          got.body.destroy();
          throw new StorageError(
            "too_large",
            `${q(key)} is ${got.info.size} bytes, over the ${DEFAULT_MAX_BYTES}-byte resource limit; use get_object_bytes with a range, or download_file`,
            { key },
          );
        }
        const chunks: Buffer[] = [];
        for await (const chunk of got.body) chunks.push(chunk as Buffer);
        const bytes = Buffer.concat(chunks);
        const mimeType = got.info.contentType ?? "application/octet-stream";
        let text: string | undefined;
        try {
          text = utf8.decode(bytes);
        } catch {
          text = undefined;
        }
        return {
          contents: [text !== undefined ? { uri: uri.href, mimeType, text } : { uri: uri.href, mimeType, blob: bytes.toString("base64") }],
        };
      } catch (err) {
        // Resource reads fail as JSON-RPC errors; the message keeps the stable code first.
        throw new Error(errorText(asStorageError(err)));
      }
    },
  );
}
