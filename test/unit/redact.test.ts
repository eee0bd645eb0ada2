/** Redaction: secrets go from messages and logs, never from inside the keys and data a text quotes. */
import { describe, expect, it } from "vitest";
import { redact, registerSecret, stringsIn } from "../../src/mcp/redact.js";

const SECRET = "wJalrXUtnFEMI-example-secret";
registerSecret(SECRET);
registerSecret("short7!"); // under 8 characters: not a secret

describe("redact", () => {
  it("replaces a registered secret in a message", () => {
    expect(redact(`SignatureDoesNotMatch for ${SECRET}.`)).toBe("SignatureDoesNotMatch for [redacted].");
  });

  it("ignores values shorter than 8 characters", () => {
    expect(redact("datasets/short7!/a.bin")).toBe("datasets/short7!/a.bin");
  });

  it("leaves the secret inside a kept key, and redacts it elsewhere in the same text", () => {
    const key = `runs/${SECRET}/x.csv`;
    expect(redact(`"${key}" exists; the server said ${SECRET}`, [key])).toBe(`"${key}" exists; the server said [redacted]`);
  });

  it("still redacts presigned signatures and credential scopes", () => {
    expect(redact("X-Amz-Signature=abcdef0123&Credential=AKID/2024")).toBe("X-Amz-Signature=[redacted]&Credential=[redacted]/2024");
  });
});

describe("stringsIn", () => {
  it("collects the strings of nested objects and arrays, bounded", () => {
    expect(stringsIn({ a: "x", b: [{ c: "y" }, 3], d: null }).sort()).toEqual(["x", "y"]);
    expect(
      stringsIn(
        Array.from({ length: 100 }, () => "s"),
        10,
      ),
    ).toHaveLength(10);
  });
});
