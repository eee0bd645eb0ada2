/**
 * Objects as MCP resources: the template r2://{bucket}/{+key} ({+key} keeps the "/" in keys), a
 * listing of the first page of objects, and reads with the same size cap as get_object_bytes.
 * Every check (allowed prefixes, key validity) is the guarded store's, as for the tools.
 */
import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/server";
import { q, StorageError } from "../core/errors.js";
import type { ToolContext } from "./context.js";
import { DEFAULT_MAX_BYTES } from "./limits.js";
import { decodeUtf8, errorText } from "./results.js";

const LISTED = 200;

function objectUri(bucket: string, key: string): string {
  return `r2://${bucket}/${key.split("/").map(encodeURIComponent).join("/")}`;
}

async function readResource(ctx: ToolContext, uri: URL, variables: Record<string, string | string[]>) {
  const name = String(variables.bucket);
  if (!ctx.buckets.names.includes(name)) {
    throw new StorageError("not_found", `this server serves ${ctx.buckets.names.map((n) => `bucket ${q(n)}`).join(", ")}, not ${q(name)}`);
  }
  const store = ctx.buckets.store(name);
  const raw = Array.isArray(variables.key) ? variables.key.join("/") : String(variables.key ?? "");
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    throw new StorageError("invalid_argument", `the resource URI's key ${q(raw)} is not valid percent-encoding`);
  }
  const got = await store.get(key);
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
  const text = decodeUtf8(bytes);
  return {
    contents: [text !== undefined ? { uri: uri.href, mimeType, text } : { uri: uri.href, mimeType, blob: bytes.toString("base64") }],
  };
}

export function registerResources(server: McpServer, ctx: ToolContext): void {
  const template = new ResourceTemplate("r2://{bucket}/{+key}", {
    // The first objects of each bucket, LISTED in all.
    list: async () => {
      const resources: { uri: string; name: string; size: number; mimeType?: string }[] = [];
      for (const { store } of ctx.buckets.list) {
        if (resources.length >= LISTED) break;
        const page = await store.list({ prefix: store.allowPrefixes[0] ?? "", limit: LISTED - resources.length });
        const named = (key: string) => (ctx.buckets.size > 1 ? `${store.name}/${key}` : key);
        for (const o of page.objects)
          resources.push({ uri: objectUri(store.name, o.key), name: named(o.key), size: o.size, mimeType: o.contentType });
      }
      return { resources };
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
        return await readResource(ctx, uri, variables);
      } catch (err) {
        // Resource reads fail as JSON-RPC errors; the message keeps the stable code first.
        throw new Error(errorText(err));
      }
    },
  );
}
