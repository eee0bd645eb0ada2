/**
 * Objects as MCP resources: the template r2://{bucket}/{+key} ({+key} keeps the "/" in keys), a
 * listing of the first page of objects, and reads with the same size cap as get_object_bytes.
 * Every check (allowed prefixes, key validity) is the guarded store's, as for the tools.
 */
import { type McpServer, ResourceTemplate } from "@modelcontextprotocol/server";
import { DEFAULT_CONTENT_TYPE, guessContentType } from "../core/content-type.js";
import { q, StorageError } from "../core/errors.js";
import type { ToolContext } from "./context.js";
import { DEFAULT_MAX_BYTES } from "./limits.js";
import { decodeUtf8, errorText } from "./results.js";

const LISTED = 200;
/**
 * resources/list is read into an assistant's context: it stops before its entries pass this many
 * bytes of JSON (long keys mean fewer entries), so a listing stays under 15 KB whatever the keys.
 */
const LIST_BUDGET = 14_000;

interface ListedResource {
  uri: string;
  name: string;
  size: number;
  mimeType?: string;
  /** Left to resources/templates/list: undefined here keeps the SDK from copying them into every entry. */
  title?: undefined;
  description?: undefined;
}

/** A listing entry: name, URI, size, and the type when the key's extension tells it. */
function listed(bucket: string, name: string, key: string, size: number): ListedResource {
  const type = guessContentType(key);
  return {
    uri: objectUri(bucket, key),
    name,
    size,
    ...(type !== DEFAULT_CONTENT_TYPE ? { mimeType: type } : {}),
    title: undefined,
    description: undefined,
  };
}

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
    // The first objects of each bucket, at most LISTED and LIST_BUDGET bytes in all.
    list: async () => {
      const resources: ListedResource[] = [];
      let bytes = 0;
      for (const { store } of ctx.buckets.list) {
        if (resources.length >= LISTED) break;
        const page = await store.list({ prefix: store.allowPrefixes[0] ?? "", limit: LISTED - resources.length });
        const named = (key: string) => (ctx.buckets.size > 1 ? `${store.name}/${key}` : key);
        for (const o of page.objects) {
          const entry = listed(store.name, named(o.key), o.key, o.size);
          bytes += JSON.stringify(entry).length + 1;
          if (bytes > LIST_BUDGET) return { resources };
          resources.push(entry);
        }
      }
      return { resources };
    },
  });
  server.registerResource(
    "object",
    template,
    {
      title: "Bucket object",
      description: `An object, read whole when at most ${DEFAULT_MAX_BYTES} bytes (text, else a base64 blob); use the tools for ranges, larger objects and complete listings. resources/list shows the first objects (at most ${LISTED}, about ${LIST_BUDGET / 1000} KB).`,
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
