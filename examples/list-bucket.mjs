// Scripting r2-mcp over JSON-RPC with the MCP SDK's client: start the server, upload, list, read.
// Run: node examples/list-bucket.mjs [store-dir]   (uses the embedded local store)

import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/client";
import { StdioClientTransport } from "@modelcontextprotocol/client/stdio";

const storeDir = process.argv[2] ?? "./data";
const cli = fileURLToPath(new URL("../dist/cli.js", import.meta.url));

// "auto": the 2026-07-28 revision when the server offers it (r2-mcp does), else the 2025 handshake.
const client = new Client({ name: "example-script", version: "1.0.0" }, { versionNegotiation: { mode: "auto" } });
await client.connect(new StdioClientTransport({ command: process.execPath, args: [cli, "--local", storeDir] }));

const put = await client.callTool({
  name: "upload_bytes",
  arguments: { key: "notes/hello.txt", data: "hello from a script\n", overwrite: true },
});
console.log(put.content[0].text);

const listing = await client.callTool({ name: "list_objects", arguments: { prefix: "notes/" } });
for (const object of listing.structuredContent.objects) console.log(`${object.key}\t${object.size}`);

const read = await client.callTool({ name: "get_object_bytes", arguments: { key: "notes/hello.txt" } });
console.log(read.structuredContent.data.trim());

await client.close();
