/** FrameHead: the id and method of a JSON-RPC frame too large to hold, read as it streams past. */
import { describe, expect, it } from "vitest";
import { FrameHead } from "../../src/mcp/stdio.js";

function head(text: string, chunkSize = 7): FrameHead {
  const h = new FrameHead();
  const bytes = Buffer.from(text, "utf8");
  for (let i = 0; i < bytes.length; i += chunkSize) h.feed(bytes.subarray(i, i + chunkSize));
  return h;
}

describe("FrameHead", () => {
  it("reads a numeric or string id and the method wherever they stand at the top level", () => {
    expect(head('{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"name":"upload_bytes"}}')).toMatchObject({
      id: 42,
      method: "tools/call",
    });
    expect(head('{"method":"tools/call","params":{"arguments":{"data":"xxxx"}},"jsonrpc":"2.0","id":"req-7"}')).toMatchObject({
      id: "req-7",
      method: "tools/call",
    });
    expect(head('{ "id" : 3 , "method" : "x/y" }', 1)).toMatchObject({ id: 3, method: "x/y" });
  });

  it("ignores ids and methods nested in params, and keys that only look like them inside strings", () => {
    const h = head('{"jsonrpc":"2.0","method":"tools/call","params":{"id":99,"method":"no","data":"\\"id\\":5,"}}');
    expect(h.id).toBeUndefined();
    expect(h.method).toBe("tools/call");
  });

  it("decodes escapes in string values", () => {
    expect(head('{"id":"a\\"b\\u0041","method":"m"}').id).toBe('a"bA');
  });

  it("finds no id in a notification, a response-less array or something that is not an object", () => {
    expect(head('{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}').id).toBeUndefined();
    expect(head('[{"id":1,"method":"m"}]').id).toBeUndefined();
    expect(head('"id"').id).toBeUndefined();
  });

  it("keeps no id longer than it should hold", () => {
    expect(head(`{"id":"${"x".repeat(1000)}","method":"m"}`).id).toBeUndefined();
  });
});
