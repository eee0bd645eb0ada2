/** Assertions the tiers share: how a call must fail, and that no test credential ever shows. */
import { expect } from "vitest";
import { StorageError } from "../../src/core/errors.js";
import { TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY } from "./s3-server.js";

/**
 * Whatever a failed call may carry, all optional: StorageError's fields, Node's `code`, and the
 * AWS SDK's `Code` and `$metadata` (for tests that talk to the S3 server directly).
 */
export type Failure = Error & {
  kind?: string;
  code?: string;
  details?: Record<string, unknown>;
  key?: string;
  Code?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
};

/**
 * The rejection of `p`, of any kind; fails the test if `p` fulfils. A function is called and may
 * throw synchronously (constructors), which counts as a rejection too.
 */
export async function failureOf(p: Promise<unknown> | (() => unknown)): Promise<Failure> {
  const promise = typeof p === "function" ? (async () => p())() : p;
  return promise.then(
    (value) => expect.fail(`expected a rejection, got ${show(value)}`),
    (err: unknown) => err as Failure,
  );
}

/** JSON when it can be (a fulfilled value may hold a stream, which is circular). */
function show(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** The rejection of `p`, which must be a StorageError (fails the test otherwise, or if `p` fulfils). */
export async function rejectionOf(p: Promise<unknown> | (() => unknown)): Promise<StorageError> {
  const err = await failureOf(p);
  expect(err).toBeInstanceOf(StorageError);
  return err as StorageError;
}

/** Asserts that neither test credential occurs anywhere in `texts`. */
export function expectNoSecrets(texts: readonly string[]): void {
  const all = texts.join("\n");
  for (const secret of [TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY]) {
    const at = all.indexOf(secret);
    expect(at, `a credential leaked: …${all.slice(Math.max(0, at - 200), at + 100)}…`).toBe(-1);
  }
}
