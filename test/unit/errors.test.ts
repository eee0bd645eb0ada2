/**
 * Pure mapping tests: plain objects shaped like AWS SDK v3 errors (name, $metadata.httpStatusCode,
 * Node `code`) go through fromS3Error / fromFsError. No server is involved; the contract and
 * integration suites check the same mapping end to end against a real local S3 server.
 */
import { describe, expect, it } from "vitest";
import { ERROR_CODES, isStorageError, StorageError } from "../../src/core/errors.js";
import { fromFsError } from "../../src/core/fs/errors.js";
import { fromS3Error, isS3NotFound, isS3PreconditionFailed } from "../../src/core/s3/errors.js";

function sdkError(name: string, status?: number, extra: Record<string, unknown> = {}) {
  return {
    name,
    message: `${name} happened`,
    ...(status !== undefined ? { $metadata: { httpStatusCode: status } } : {}),
    ...extra,
  };
}

const context = { op: "PUT", bucket: "my-bucket", key: "runs/a.csv" };

describe("fromS3Error (pure mapping)", () => {
  const cases: [string, unknown, string, string][] = [
    ["PreconditionFailed 412", sdkError("PreconditionFailed", 412), "already_exists", "EEXIST"],
    ["ConditionalRequestConflict 409", sdkError("ConditionalRequestConflict", 409), "already_exists", "EEXIST"],
    ["a bare 412", sdkError("Unknown", 412), "already_exists", "EEXIST"],
    ["NoSuchKey 404", sdkError("NoSuchKey", 404), "not_found", "ENOENT"],
    ["NotFound 404 (HEAD)", sdkError("NotFound", 404), "not_found", "ENOENT"],
    ["a bare 404", sdkError("UnknownError", 404), "not_found", "ENOENT"],
    ["NoSuchBucket 404", sdkError("NoSuchBucket", 404), "bucket_not_found", "ERR_R2_BUCKET_NOT_FOUND"],
    ["AccessDenied 403", sdkError("AccessDenied", 403), "access_denied", "EACCES"],
    ["a bare 403", sdkError("Forbidden", 403), "access_denied", "EACCES"],
    ["InvalidAccessKeyId 403", sdkError("InvalidAccessKeyId", 403), "access_denied", "EACCES"],
    ["SignatureDoesNotMatch 403", sdkError("SignatureDoesNotMatch", 403), "access_denied", "EACCES"],
    ["SlowDown 503", sdkError("SlowDown", 503), "throttled", "ERR_R2_THROTTLED"],
    ["TooManyRequests 429", sdkError("TooManyRequests", 429), "throttled", "ERR_R2_THROTTLED"],
    ["a bare 429", sdkError("Unknown", 429), "throttled", "ERR_R2_THROTTLED"],
    ["InternalError 500", sdkError("InternalError", 500), "unavailable", "ERR_R2_UNAVAILABLE"],
    ["ServiceUnavailable 503", sdkError("ServiceUnavailable", 503), "unavailable", "ERR_R2_UNAVAILABLE"],
    [
      "ECONNREFUSED",
      Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:9"), { code: "ECONNREFUSED" }),
      "unavailable",
      "ERR_R2_UNAVAILABLE",
    ],
    ["ECONNRESET", Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }), "unavailable", "ERR_R2_UNAVAILABLE"],
    ["TimeoutError", sdkError("TimeoutError"), "unavailable", "ERR_R2_UNAVAILABLE"],
    ["RequestTimeout 400 (S3 closed an idle upload)", sdkError("RequestTimeout", 400), "unavailable", "ERR_R2_UNAVAILABLE"],
    ["AbortError", sdkError("AbortError"), "cancelled", "ABORT_ERR"],
    ["InvalidRange 416", sdkError("InvalidRange", 416), "invalid_argument", "EINVAL"],
    ["EntityTooLarge 413", sdkError("EntityTooLarge", 413), "too_large", "EFBIG"],
    ["KeyTooLongError 400", sdkError("KeyTooLongError", 400), "invalid_argument", "EINVAL"],
    ["something unknown", sdkError("Weird", 418), "internal", "ERR_R2_INTERNAL"],
    ["not even an object", "a string was thrown", "internal", "ERR_R2_INTERNAL"],
  ];
  it.each(cases.map(([label, input, kind, code]) => ({ label, input, kind, code })))("$label → $kind", ({ input, kind, code }) => {
    const mapped = fromS3Error(input, context);
    expect(mapped).toBeInstanceOf(StorageError);
    expect(mapped.kind).toBe(kind);
    expect(mapped.code).toBe(code);
    expect(mapped.cause).toBe(input);
  });

  it("reads the error name from Code when the SDK puts it there, and the status from $response", () => {
    expect(fromS3Error({ Code: "NoSuchKey" }, context).kind).toBe("not_found");
    expect(fromS3Error({ name: "Error", $response: { statusCode: 503 } }, context).kind).toBe("unavailable");
  });

  it("names the key and bucket, and says what to do next", () => {
    const exists = fromS3Error(sdkError("PreconditionFailed", 412), context);
    expect(exists.key).toBe("runs/a.csv");
    expect(exists.message).toBe('"runs/a.csv" exists; pass overwrite: true to replace it');
    const bucket = fromS3Error(sdkError("NoSuchBucket", 404), context);
    expect(bucket.message).toContain('"my-bucket"');
    expect(bucket.message).toMatch(/--bucket|R2_BUCKET/);
    const denied = fromS3Error(sdkError("SignatureDoesNotMatch", 403), context);
    expect(denied.message).toMatch(/R2_ACCESS_KEY_ID/);
  });

  it("a precondition failure without a key (not a put) is not reported as already_exists", () => {
    expect(fromS3Error(sdkError("PreconditionFailed", 412), { op: "LIST" }).kind).not.toBe("already_exists");
  });

  it("never copies the SDK message, which may carry request details", () => {
    const leaky = sdkError("SignatureDoesNotMatch", 403, {
      message:
        "The request signature we calculated does not match. StringToSign: AWS4-HMAC-SHA256 Credential=AKIDLEAK/20261125/auto/s3 secret=sk-LEAKED",
    });
    const mapped = fromS3Error(leaky, context);
    expect(mapped.message).not.toContain("AKIDLEAK");
    expect(mapped.message).not.toContain("sk-LEAKED");
    expect(mapped.message).not.toContain("StringToSign");
    for (const input of [sdkError("Weird", 418, { message: "sk-LEAKED" }), sdkError("InternalError", 500, { message: "sk-LEAKED" })]) {
      expect(fromS3Error(input, context).message).not.toContain("sk-LEAKED");
    }
  });

  it("passes a StorageError through unchanged", () => {
    const original = new StorageError("too_large", "already mapped");
    expect(fromS3Error(original, context)).toBe(original);
  });

  it("isS3NotFound and isS3PreconditionFailed recognise the HEAD and write answers", () => {
    expect(isS3NotFound(sdkError("NotFound", 404))).toBe(true);
    expect(isS3NotFound(sdkError("NoSuchKey"))).toBe(true);
    expect(isS3NotFound(sdkError("AccessDenied", 403))).toBe(false);
    expect(isS3NotFound(null)).toBe(false);
    expect(isS3PreconditionFailed(sdkError("PreconditionFailed"))).toBe(true);
    expect(isS3PreconditionFailed(sdkError("X", 412))).toBe(true);
    expect(isS3PreconditionFailed(sdkError("ConditionalRequestConflict", 409))).toBe(true);
    expect(isS3PreconditionFailed(sdkError("BucketAlreadyExists", 409))).toBe(false);
  });
});

describe("fromFsError (pure mapping)", () => {
  const fsError = (code: string) => Object.assign(new Error(`${code}: something`), { code });
  it.each([
    ["ENOENT", "not_found", "ENOENT"],
    ["EEXIST", "already_exists", "EEXIST"],
    ["ENOTDIR", "not_a_directory", "ENOTDIR"],
    ["EISDIR", "invalid_argument", "EINVAL"],
    ["EACCES", "access_denied", "EACCES"],
    ["EPERM", "access_denied", "EACCES"],
    ["ENAMETOOLONG", "invalid_argument", "EINVAL"],
    ["ABORT_ERR", "cancelled", "ABORT_ERR"],
    ["EIO", "unavailable", "ERR_R2_UNAVAILABLE"],
    ["EMFILE", "unavailable", "ERR_R2_UNAVAILABLE"],
    ["ENFILE", "unavailable", "ERR_R2_UNAVAILABLE"],
    ["ENOSPC", "unavailable", "ERR_R2_UNAVAILABLE"],
    ["EBUSY", "unavailable", "ERR_R2_UNAVAILABLE"],
    ["ESTALE", "unavailable", "ERR_R2_UNAVAILABLE"],
    ["EROFS", "access_denied", "EACCES"],
    ["ELOOP", "invalid_argument", "EINVAL"],
    ["ENOTEMPTY", "invalid_argument", "EINVAL"],
    ["EXDEV", "unsupported", "ERR_R2_UNSUPPORTED"],
    ["ESOMETHINGNEW", "internal", "ERR_R2_INTERNAL"],
  ])("%s → %s", (input, kind, code) => {
    const mapped = fromFsError(fsError(input), "/data/x.bin");
    expect(mapped.kind).toBe(kind);
    expect(mapped.code).toBe(code);
    if (kind !== "cancelled") expect(mapped.path).toBe("/data/x.bin");
  });

  it("says what to do when the server runs out of file descriptors", () => {
    const mapped = fromFsError(fsError("EMFILE"), "/data/x.bin");
    expect(mapped.message).toContain("max_workers");
    expect(mapped.message).toContain("ulimit -n");
  });
});

describe("StorageError", () => {
  it("has a Node-style code for every kind, and is an AbortError when cancelled", () => {
    for (const kind of ERROR_CODES) {
      const err = new StorageError(kind, "m", { key: "k", details: { a: 1 } });
      expect(err.code).toMatch(/^(E[A-Z]+|ABORT_ERR|ERR_R2_[A-Z_]+)$/);
      expect(err).toBeInstanceOf(Error);
      expect(isStorageError(err, kind)).toBe(true);
      expect(err.key).toBe("k");
      expect(err.details).toEqual({ a: 1 });
    }
    expect(new StorageError("cancelled", "m").name).toBe("AbortError");
    expect(new StorageError("internal", "m").name).toBe("StorageError");
    expect(isStorageError(new Error("plain"))).toBe(false);
  });
});
