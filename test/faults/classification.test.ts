/**
 * Pure classification, no server: which failures the store repeats (the SDK's standard strategy
 * and the store's own retry loop for streamed bodies and resumed downloads agree), and the codes the
 * fault paths map to. The other tests in this folder show the same end to end.
 */
import { describe, expect, it } from "vitest";
import { fromS3Error, retryKind } from "../../src/core/s3/errors.js";

const sdkError = (name: string, status?: number, extra: Record<string, unknown> = {}) => ({
  name,
  message: name,
  ...(status !== undefined ? { $metadata: { httpStatusCode: status } } : {}),
  ...extra,
});
const netError = (code: string, name = "Error") => Object.assign(new Error(code), { code, name });

describe("retryKind: repeat what can succeed, never what cannot", () => {
  it.each([
    ["429 TooManyRequests", sdkError("TooManyRequests", 429), "throttling"],
    ["503 SlowDown", sdkError("SlowDown", 503), "throttling"],
    ["500 InternalError", sdkError("InternalError", 500), "transient"],
    ["502", sdkError("BadGateway", 502), "transient"],
    ["503 ServiceUnavailable", sdkError("ServiceUnavailable", 503), "transient"],
    ["504", sdkError("GatewayTimeout", 504), "transient"],
    ["ECONNRESET", netError("ECONNRESET"), "transient"],
    ["ECONNREFUSED (the SDK names it TimeoutError)", netError("ECONNREFUSED", "TimeoutError"), "transient"],
    ["EPIPE", netError("EPIPE"), "transient"],
    ["idle socket timeout", sdkError("TimeoutError"), "transient"],
    ["a body that ended early", netError("ERR_STREAM_PREMATURE_CLOSE"), "transient"],
    ["400 RequestTimeout (S3 closed an idle upload)", sdkError("RequestTimeout", 400), "transient"],
    ["403 AccessDenied", sdkError("AccessDenied", 403), undefined],
    ["403 InvalidAccessKeyId", sdkError("InvalidAccessKeyId", 403), undefined],
    ["404 NoSuchKey", sdkError("NoSuchKey", 404), undefined],
    ["404 NoSuchBucket", sdkError("NoSuchBucket", 404), undefined],
    ["412 PreconditionFailed", sdkError("PreconditionFailed", 412), undefined],
    ["400 InvalidArgument", sdkError("InvalidArgument", 400), undefined],
    ["501 NotImplemented", sdkError("NotImplemented", 501), undefined],
    ["an abort", sdkError("AbortError"), undefined],
    ["a local disk error", netError("ENOSPC"), undefined],
  ])("%s → %s", (_label, err, kind) => {
    expect(retryKind(err)).toBe(kind);
  });
});

describe("fault-path codes", () => {
  const context = { op: "PUT", bucket: "b", key: "k", endpoint: "http://127.0.0.1:9" };
  it("NoSuchUpload (the server lost a multipart upload) is unavailable, not a missing key", () => {
    const err = fromS3Error(sdkError("NoSuchUpload", 404), context);
    expect(err.kind).toBe("unavailable");
    expect(err.message).toMatch(/repeat the call/);
  });
  it("the attempts made and the endpoint are in the message; Node's code says more than TimeoutError", () => {
    const err = fromS3Error({ ...netError("ECONNREFUSED", "TimeoutError"), $metadata: { attempts: 4 } }, context);
    expect(err.message).toBe(
      'the storage endpoint at http://127.0.0.1:9 did not answer PUT for "k" after 4 attempts (ECONNREFUSED); check the endpoint URL (--endpoint / R2_ENDPOINT_URL) and the network, then repeat the call',
    );
  });
  it.each([
    [
      "301 PermanentRedirect with its Endpoint",
      sdkError("PermanentRedirect", 301, { Endpoint: "b.s3.eu-west-1.amazonaws.com" }),
      "eu-west-1",
    ],
    [
      "301 on a HEAD (no body, no name)",
      sdkError("MovedPermanently", 301, { $response: { headers: { "x-amz-bucket-region": "us-west-2" } } }),
      "us-west-2",
    ],
    ["307 TemporaryRedirect", sdkError("TemporaryRedirect", 307), "another endpoint"],
  ])("%s is invalid_argument naming the endpoint and region settings, not internal", (_label, err, mention) => {
    const mapped = fromS3Error(err, context);
    expect(mapped.kind).toBe("invalid_argument");
    expect(mapped.message).toContain(mention);
    expect(mapped.message).toContain("--endpoint");
    expect(mapped.message).toContain("--region");
  });
  it("501 NotImplemented is unsupported", () => {
    expect(fromS3Error(sdkError("NotImplemented", 501), context).kind).toBe("unsupported");
  });
});
