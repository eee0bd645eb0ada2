/**
 * The attack matrix (run by attacks-local.test.ts and attacks-s3.test.ts, in parallel): hostile or malformed calls sent over stdio JSON-RPC to the real server (the
 * built CLI), on the embedded local store and on S3 (fauxqs). Each case asserts the exact error
 * code, that the server still answers tools/list, and that the local tree (root, outside, and the
 * local store's directory) and the bucket are byte-for-byte unchanged.
 *
 * Three servers per backend share one workspace and one bucket: the main one (--root ROOT), one
 * with --allow-prefix allowed/, one with --read-only. The local store lives inside the root, as
 * with `r2-mcp --local ./store` run in a project folder.
 */
import { execFileSync } from "node:child_process";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getObjectBytes } from "../../src/mcp/tools/get-object-bytes.js";
import { listObjects } from "../../src/mcp/tools/list-objects.js";
import { expectNoSecrets } from "../helpers/assert.js";
import { plantObjects, snapshotAll } from "../helpers/bucket.js";
import { MIB } from "../helpers/bytes.js";
import { type ExpectedCode, expectError, expectProtocolError, structured } from "../helpers/calls.js";
import { type S3TestServer, startS3Server } from "../helpers/s3-server.js";
import { type Backend, type Era, localCli, type RunningServer, s3Cli, startClient, TEST_ERAS } from "../helpers/start-client.js";
import { makeTempDir, type TempDir, writeTree } from "../helpers/tmp.js";

const WRITING_TOOLS = ["upload_bytes", "upload_file", "upload_directory", "copy_objects", "delete_object", "delete_objects"];

/** Where a case runs: paths are built from these. */
interface World {
  backend: Backend;
  ws: string;
  root: string;
  outside: string;
  store: string;
  /** The resource URIs' bucket part. */
  bucket: string;
}

type ServerName = "main" | "allow" | "readonly";

interface AttackCase {
  name: string;
  server?: ServerName;
  only?: Backend;
  /** A tool call, or a resources/read of a URI (fails as a JSON-RPC error whose message starts with the code). */
  call: (w: World) => { tool: string; args: Record<string, unknown> } | { resource: string };
  code: ExpectedCode;
  /** Strings the error text must contain (e.g. the path and the roots). */
  mentions?: (w: World) => string[];
}

const tool = (name: string, args: Record<string, unknown>) => ({ tool: name, args });
const longKey = `k/${"x".repeat(1023)}`; // 1025 bytes
const euroKey = "€".repeat(342); // 342 characters, 1026 bytes of UTF-8
const forgedCursor = Buffer.from(JSON.stringify({ v: 1, s: "elsewhere", p: "", d: "", t: "seed/a.txt" })).toString("base64url");

const CASES: AttackCase[] = [
  // ── local paths outside the roots ──────────────────────────────────────────────────────────
  {
    name: "upload_file: absolute path outside the roots",
    call: (w) => tool("upload_file", { local_path: path.join(w.outside, "secret.txt"), key: "t/x" }),
    code: "outside_roots",
    mentions: (w) => [path.join(w.outside, "secret.txt"), w.root],
  },
  {
    name: "upload_file: ../ traversal out of the root",
    call: () => tool("upload_file", { local_path: "../outside/secret.txt", key: "t/x" }),
    code: "outside_roots",
    mentions: (w) => ["../outside/secret.txt", w.root],
  },
  {
    name: "upload_file: symlinked file pointing outside",
    call: () => tool("upload_file", { local_path: "link-file-out", key: "t/x" }),
    code: "outside_roots",
  },
  {
    name: "upload_file: through a symlinked directory pointing outside",
    call: () => tool("upload_file", { local_path: "link-out/secret.txt", key: "t/x" }),
    code: "outside_roots",
  },
  {
    name: "upload_file: dangling symlink whose target is outside",
    call: () => tool("upload_file", { local_path: "dangling", key: "t/x" }),
    code: "outside_roots",
  },
  {
    name: "upload_file: /proc/self/environ (the server's credentials)",
    call: () => tool("upload_file", { local_path: "/proc/self/environ", key: "t/x" }),
    code: "outside_roots",
  },
  {
    name: "upload_file: NUL in the path",
    call: () => tool("upload_file", { local_path: "data/a.txt\0.png", key: "t/x" }),
    code: "invalid_argument",
  },
  { name: "upload_file: empty path", call: () => tool("upload_file", { local_path: "", key: "t/x" }), code: "invalid_argument" },
  {
    name: "upload_file: a FIFO (would block forever)",
    call: () => tool("upload_file", { local_path: "fifo", key: "t/x" }),
    code: "invalid_argument",
  },
  { name: "upload_file: a directory", call: () => tool("upload_file", { local_path: "data", key: "t/x" }), code: "invalid_argument" },
  {
    name: "upload_file: a missing file",
    call: () => tool("upload_file", { local_path: "data/missing.txt", key: "t/x" }),
    code: "not_found",
  },
  {
    name: "upload_file: onto an existing key",
    call: () => tool("upload_file", { local_path: "data/a.txt", key: "seed/a.txt" }),
    code: "already_exists",
  },
  {
    name: "upload_directory: a directory outside the roots",
    call: (w) => tool("upload_directory", { local_dir: w.outside, prefix: "t/" }),
    code: "outside_roots",
    mentions: (w) => [w.outside],
  },
  {
    name: "upload_directory: a symlink to a directory outside",
    call: () => tool("upload_directory", { local_dir: "link-out", prefix: "t/" }),
    code: "outside_roots",
  },
  {
    name: "upload_directory: holding a symlink that leads outside (nothing uploaded)",
    call: () => tool("upload_directory", { local_dir: "escape-dir", prefix: "t/" }),
    code: "outside_roots",
    mentions: () => ["evil"],
  },
  {
    name: "upload_directory: a file as local_dir",
    call: () => tool("upload_directory", { local_dir: "a-file.txt", prefix: "t/" }),
    code: "not_a_directory",
  },
  {
    name: "compare_directory: a directory outside the roots",
    call: (w) => tool("compare_directory", { local_dir: w.outside, prefix: "seed/" }),
    code: "outside_roots",
    mentions: (w) => [w.outside],
  },
  {
    name: "compare_directory: ../ traversal out of the root",
    call: () => tool("compare_directory", { local_dir: "../outside", prefix: "seed/" }),
    code: "outside_roots",
    mentions: (w) => ["../outside", w.root],
  },
  {
    name: "compare_directory: a symlink to a directory outside",
    call: () => tool("compare_directory", { local_dir: "link-out", prefix: "seed/" }),
    code: "outside_roots",
  },
  {
    name: "compare_directory: holding a symlink that leads outside (nothing read)",
    call: () => tool("compare_directory", { local_dir: "escape-dir", prefix: "seed/" }),
    code: "outside_roots",
    mentions: () => ["evil"],
  },
  {
    name: "compare_directory: a file as local_dir",
    call: () => tool("compare_directory", { local_dir: "a-file.txt", prefix: "seed/" }),
    code: "not_a_directory",
  },
  {
    name: "compare_directory: include with unbalanced braces",
    call: () => tool("compare_directory", { local_dir: "data", prefix: "seed/", include: ["{a,{b"] }),
    code: "invalid_argument",
    mentions: () => ["include[0]"],
  },
  {
    name: "compare_directory: exclude standing for thousands of alternatives",
    call: () =>
      tool("compare_directory", { local_dir: "data", prefix: "seed/", exclude: ["{a,b}{c,d}{e,f}{g,h}{i,j}{k,l}{m,n}{o,p}{q,r}"] }),
    code: "invalid_argument",
    mentions: () => ["exclude[0]", "alternatives"],
  },
  {
    name: "compare_directory: 101 exclude patterns",
    call: () => tool("compare_directory", { local_dir: "data", prefix: "seed/", exclude: Array.from({ length: 101 }, () => "*.tmp") }),
    code: "invalid_argument",
  },
  {
    name: "upload_directory: an exclude with a NUL (nothing uploaded)",
    call: () => tool("upload_directory", { local_dir: "data", prefix: "t/", exclude: ["a\0b"] }),
    code: "invalid_argument",
  },
  {
    name: "download_directory: an exclude pattern 1025 characters long",
    call: () => tool("download_directory", { prefix: "seed/", local_dir: "got", exclude: ["x".repeat(1025)] }),
    code: "invalid_argument",
  },
  {
    name: "download_file: absolute path outside the roots",
    call: (w) => tool("download_file", { key: "seed/a.txt", local_path: path.join(w.outside, "stolen.txt") }),
    code: "outside_roots",
    mentions: (w) => [path.join(w.outside, "stolen.txt"), w.root],
  },
  {
    name: "download_file: ../ traversal out of the root",
    call: () => tool("download_file", { key: "seed/a.txt", local_path: "../outside/stolen.txt" }),
    code: "outside_roots",
  },
  {
    name: "download_file: through a symlinked directory pointing outside",
    call: () => tool("download_file", { key: "seed/a.txt", local_path: "link-out/stolen.txt" }),
    code: "outside_roots",
  },
  {
    name: "download_file: below a dangling symlink to a missing directory outside",
    call: () => tool("download_file", { key: "seed/a.txt", local_path: "dangling/x/stolen.txt" }),
    code: "outside_roots",
  },
  {
    name: "download_file: onto a symlink to an outside file (never written through)",
    call: () => tool("download_file", { key: "seed/a.txt", local_path: "link-file-out" }),
    code: "already_exists",
  },
  {
    name: "download_file: below a symlink planted inside a download folder",
    call: () => tool("download_file", { key: "seed/a.txt", local_path: "dl/sub/stolen.txt" }),
    code: "outside_roots",
  },
  {
    name: "download_file: onto an existing file",
    call: () => tool("download_file", { key: "seed/a.txt", local_path: "data/a.txt" }),
    code: "already_exists",
  },
  {
    name: "download_file: onto a directory",
    call: () => tool("download_file", { key: "seed/a.txt", local_path: "data" }),
    code: "invalid_argument",
  },
  {
    name: "download_file: overwrite onto a FIFO (never replaced, overwrite or not)",
    call: () => tool("download_file", { key: "seed/a.txt", local_path: "fifo", overwrite: true }),
    code: "invalid_argument",
    mentions: () => ["FIFO"],
  },
  {
    name: "download_file: onto a FIFO without overwrite",
    call: () => tool("download_file", { key: "seed/a.txt", local_path: "fifo" }),
    code: "invalid_argument",
  },
  {
    name: "download_directory: overwrite onto a FIFO where a file would go",
    call: () => tool("download_directory", { prefix: "fifodl/", local_dir: "fifodir", overwrite: true }),
    code: "already_exists",
    mentions: () => ["fifo"],
  },
  {
    name: "download_file: NUL in the path",
    call: () => tool("download_file", { key: "seed/a.txt", local_path: "x\0y.txt" }),
    code: "invalid_argument",
  },
  {
    name: "download_directory: a directory outside the roots",
    call: (w) => tool("download_directory", { prefix: "seed/", local_dir: path.join(w.outside, "dd") }),
    code: "outside_roots",
  },
  {
    name: "download_directory: a symlink to a directory outside",
    call: () => tool("download_directory", { prefix: "seed/", local_dir: "link-out" }),
    code: "outside_roots",
  },
  {
    name: "download_directory: a dangling symlink to a missing directory outside",
    call: () => tool("download_directory", { prefix: "seed/", local_dir: "dangling" }),
    code: "outside_roots",
  },
  {
    name: "download_directory: planted symlink in local_dir, key one level below it",
    call: () => tool("download_directory", { prefix: "symdl/", local_dir: "dl" }),
    code: "outside_roots",
    mentions: () => ["sub"],
  },
  {
    name: "download_directory: planted symlink in local_dir, key two levels below it (mkdir -p)",
    call: () => tool("download_directory", { prefix: "symdeep/", local_dir: "dl" }),
    code: "outside_roots",
  },
  {
    name: "download_directory: a file as local_dir",
    call: () => tool("download_directory", { prefix: "seed/", local_dir: "a-file.txt" }),
    code: "not_a_directory",
  },

  // ── the local store's own directory is not a local path (local store only) ───────────────
  {
    name: "upload_file: a file inside the local store's directory",
    only: "local",
    call: () => tool("upload_file", { local_path: "store/private/y.txt", key: "t/leak.txt" }),
    code: "outside_roots",
    mentions: () => ["local store"],
  },
  {
    name: "upload_directory: a folder that contains the local store",
    only: "local",
    call: () => tool("upload_directory", { local_dir: ".", prefix: "t/" }),
    code: "outside_roots",
  },
  {
    name: "upload_directory: a symlink into the local store",
    only: "local",
    call: () => tool("upload_directory", { local_dir: "store-link-dir", prefix: "t/" }),
    code: "outside_roots",
  },
  {
    name: "download_file: into the local store's directory (an object behind the tools)",
    only: "local",
    call: () => tool("download_file", { key: "seed/a.txt", local_path: "store/injected.txt" }),
    code: "outside_roots",
  },
  {
    name: "download_directory: into the local store's directory",
    only: "local",
    call: () => tool("download_directory", { prefix: "seed/", local_dir: "store/injected" }),
    code: "outside_roots",
  },

  // ── a symlink planted inside the local store's directory (local store only) ──────────────
  {
    name: "get_object_bytes: a key through a symlink planted in the store",
    only: "local",
    call: () => tool("get_object_bytes", { key: "lnk/secret.txt" }),
    code: "not_found",
  },
  {
    name: "delete_object: a key through a symlink planted in the store (outside file kept)",
    only: "local",
    call: () => tool("delete_object", { key: "lnk/secret.txt", missing_ok: false }),
    code: "not_found",
  },
  {
    name: "upload_bytes: a key through a symlink planted in the store",
    only: "local",
    call: () => tool("upload_bytes", { key: "lnk/new.txt", data: "x" }),
    code: "outside_roots",
  },
  {
    name: "upload_bytes: a key under a symlink planted in the store (mkdir -p)",
    only: "local",
    call: () => tool("upload_bytes", { key: "lnk/deeper/new.txt", data: "x" }),
    code: "outside_roots",
  },

  // ── keys the local store cannot hold as files (local store only; legal keys on S3) ───────
  {
    name: "upload_bytes: a .. segment in the key (local store)",
    only: "local",
    call: () => tool("upload_bytes", { key: "seed/../../outside/x", data: "x" }),
    code: "invalid_argument",
  },
  {
    name: "upload_bytes: a leading / in the key (local store)",
    only: "local",
    call: () => tool("upload_bytes", { key: "/etc/x", data: "x" }),
    code: "invalid_argument",
  },
  {
    name: "upload_bytes: a backslash in the key (local store)",
    only: "local",
    call: () => tool("upload_bytes", { key: "seed\\..\\x", data: "x" }),
    code: "invalid_argument",
  },
  {
    name: "upload_bytes: an empty segment in the key (local store)",
    only: "local",
    call: () => tool("upload_bytes", { key: "seed//x", data: "x" }),
    code: "invalid_argument",
  },
  {
    name: "upload_bytes: the store's reserved temp folder",
    only: "local",
    call: () => tool("upload_bytes", { key: ".r2-mcp-tmp/x", data: "x" }),
    code: "invalid_argument",
  },

  // ── untrusted keys in the bucket (S3 only: the local store cannot hold them) ─────────────
  ...(
    [
      ["a .. segment escaping local_dir", "h1/"],
      ["an empty segment (//)", "h2/"],
      ["a backslash", "h3/"],
      ["a drive letter", "h4/"],
      ["a . segment", "h5/"],
      ["a key ending in ..", "h6/"],
      ["a leading / after the prefix (absolute-looking)", "h7/"],
      ["a key that is both a file and a folder", "h9/"],
      ["a trailing-slash key holding data", "h10/"],
    ] as const
  ).map(
    ([what, prefix]): AttackCase => ({
      name: `download_directory: bucket key with ${what}`,
      only: "s3",
      call: () => tool("download_directory", { prefix, local_dir: "hostile-dl" }),
      code: "invalid_argument",
      mentions: () => [prefix],
    }),
  ),
  {
    name: "download_directory: one hostile key among good ones writes nothing at all",
    only: "s3",
    call: () => tool("download_directory", { prefix: "h8/", local_dir: "hostile-dl" }),
    code: "invalid_argument",
    mentions: () => ["h8/../escape.txt"],
  },
  {
    name: "download_directory: the whole bucket, hostile keys included",
    only: "s3",
    call: () => tool("download_directory", { prefix: "", local_dir: "hostile-dl" }),
    code: "invalid_argument",
    mentions: () => ["/abs/passwd"],
  },

  // ── keys, numbers and payloads out of shape ──────────────────────────────────────────────
  { name: "head_object: empty key", call: () => tool("head_object", { key: "" }), code: "invalid_argument" },
  {
    name: "get_object_bytes: key over 1024 bytes",
    call: () => tool("get_object_bytes", { key: longKey }),
    code: "invalid_argument",
    mentions: () => ["1025 bytes"],
  },
  {
    name: "upload_bytes: 342-character key of 1026 bytes of UTF-8",
    call: () => tool("upload_bytes", { key: euroKey, data: "x" }),
    code: "invalid_argument",
    mentions: () => ["1026 bytes"],
  },
  { name: "upload_bytes: NUL in the key", call: () => tool("upload_bytes", { key: "t/a\0b", data: "x" }), code: "invalid_argument" },
  {
    name: "upload_bytes: lone surrogate in the key",
    call: () => tool("upload_bytes", { key: "t/\ud800", data: "x" }),
    code: "invalid_argument",
  },
  { name: "list_objects: limit 0", call: () => tool("list_objects", { limit: 0 }), code: "invalid_argument" },
  { name: "list_objects: limit 1001", call: () => tool("list_objects", { limit: 1001 }), code: "invalid_argument" },
  { name: "list_objects: forged cursor", call: () => tool("list_objects", { cursor: forgedCursor }), code: "invalid_argument" },
  {
    name: "list_objects: glob with unbalanced braces",
    call: () => tool("list_objects", { glob: "seed/{a,b" }),
    code: "invalid_argument",
    mentions: () => ["glob"],
  },
  {
    name: "list_objects: glob of 1025 characters",
    call: () => tool("list_objects", { glob: "*".repeat(1025) }),
    code: "invalid_argument",
    mentions: () => ["glob"],
  },
  { name: "list_objects: glob with a NUL", call: () => tool("list_objects", { glob: "seed/\0*" }), code: "invalid_argument" },
  {
    name: "list_objects: glob expanding to 512 alternatives",
    call: () => tool("list_objects", { glob: "{a,b}".repeat(9) }),
    code: "invalid_argument",
    mentions: () => ["alternatives"],
  },
  {
    name: "list_objects: a malformed modified_after",
    call: () => tool("list_objects", { modified_after: "2026-02-30T00:00:00Z" }),
    code: "invalid_argument",
    mentions: () => ["modified_after"],
  },
  {
    name: "list_objects: min_size above max_size",
    call: () => tool("list_objects", { min_size: 10, max_size: 1 }),
    code: "invalid_argument",
    mentions: () => ["min_size"],
  },
  { name: "list_objects: negative min_size", call: () => tool("list_objects", { min_size: -1 }), code: "invalid_argument" },
  {
    name: "list_objects: cursor that is not base64 JSON",
    call: () => tool("list_objects", { cursor: "../../etc/passwd" }),
    code: "invalid_argument",
  },
  {
    name: "upload_directory: max_workers 0",
    call: () => tool("upload_directory", { local_dir: "data", prefix: "t/", max_workers: 0 }),
    code: "invalid_argument",
  },
  {
    name: "download_directory: max_workers 65",
    call: () => tool("download_directory", { prefix: "seed/", local_dir: "dd", max_workers: 65 }),
    code: "invalid_argument",
  },
  {
    name: "get_object_bytes: max_bytes over the 4 MiB hard cap",
    call: () => tool("get_object_bytes", { key: "seed/a.txt", max_bytes: 4 * MIB + 1 }),
    code: "invalid_argument",
  },
  {
    name: "get_object_bytes: negative offset",
    call: () => tool("get_object_bytes", { key: "seed/a.txt", offset: -1 }),
    code: "invalid_argument",
  },
  { name: "get_object_bytes: length 0", call: () => tool("get_object_bytes", { key: "seed/a.txt", length: 0 }), code: "invalid_argument" },
  {
    name: "get_object_bytes: length over the 4 MiB hard cap",
    call: () => tool("get_object_bytes", { key: "seed/a.txt", length: 4 * MIB + 1 }),
    code: "invalid_argument",
  },
  {
    name: "get_object_bytes: offset past the end",
    call: () => tool("get_object_bytes", { key: "seed/a.txt", offset: 1000 }),
    code: "invalid_argument",
  },
  {
    name: "get_object_bytes: object over max_bytes without a range",
    call: () => tool("get_object_bytes", { key: "seed/big.bin" }),
    code: "too_large",
    mentions: () => ["download_file"],
  },
  {
    name: "upload_bytes: base64 that does not decode",
    call: () => tool("upload_bytes", { key: "t/b64", data: "@@@@", encoding: "base64" }),
    code: "invalid_argument",
  },
  {
    name: "upload_bytes: base64 with broken padding",
    call: () => tool("upload_bytes", { key: "t/b64", data: "abc", encoding: "base64" }),
    code: "invalid_argument",
  },
  {
    name: "upload_bytes: data over the 5 MiB cap",
    call: () => tool("upload_bytes", { key: "t/huge", data: "x".repeat(5 * MIB + 1) }),
    code: "too_large",
    mentions: () => ["upload_file"],
  },
  {
    name: "upload_bytes: CR/LF in content_type (header injection)",
    call: () => tool("upload_bytes", { key: "t/ct", data: "x", content_type: "text/plain\r\nx-amz-acl: public-read" }),
    code: "invalid_argument",
  },
  {
    name: "upload_file: control character in content_type",
    call: () => tool("upload_file", { local_path: "data/a.txt", key: "t/ct", content_type: "text/plain\u0000" }),
    code: "invalid_argument",
  },
  {
    name: "upload_bytes: existing key without overwrite",
    call: () => tool("upload_bytes", { key: "seed/a.txt", data: "replaced?" }),
    code: "already_exists",
  },
  {
    name: "delete_object: missing key with missing_ok false",
    call: () => tool("delete_object", { key: "t/never", missing_ok: false }),
    code: "not_found",
  },
  {
    name: "head_object: key of the wrong type",
    call: () => tool("head_object", { key: 5 }),
    code: "invalid_argument",
    mentions: () => ["key must be a string, got number 5"],
  },
  {
    name: "head_object: unknown argument",
    call: () => tool("head_object", { key: "seed/a.txt", colour: "red" }),
    code: "invalid_argument",
    mentions: () => ['unknown argument "colour"'],
  },
  {
    name: "head_object: a bucket not configured",
    call: () => tool("head_object", { key: "seed/a.txt", bucket: "other" }),
    code: "invalid_argument",
  },
  {
    name: "list_objects: a bucket name that looks like a path",
    call: () => tool("list_objects", { bucket: "../../etc" }),
    code: "invalid_argument",
  },
  {
    name: "list_objects: fractional limit",
    call: () => tool("list_objects", { limit: 1.5 }),
    code: "invalid_argument",
    mentions: () => ["limit", "1.5"],
  },
  {
    name: "upload_bytes: missing data",
    call: () => tool("upload_bytes", { key: "t/x" }),
    code: "invalid_argument",
    mentions: () => ["data is required"],
  },
  { name: "an unknown tool", call: () => tool("rm_rf", { path: "/" }), code: "sdk" },
  {
    name: "presign_url: expires_in 0",
    only: "s3",
    call: () => tool("presign_url", { key: "seed/a.txt", expires_in: 0 }),
    code: "invalid_argument",
  },
  {
    name: "presign_url: expires_in over 7 days",
    only: "s3",
    call: () => tool("presign_url", { key: "seed/a.txt", expires_in: 604_801 }),
    code: "invalid_argument",
  },
  // With only a local store presign_url is not registered (a local bucket beside S3 ones answers unsupported).
  {
    name: "presign_url: not registered on the local store",
    only: "local",
    call: () => tool("presign_url", { key: "seed/a.txt" }),
    code: "sdk",
  },

  // ── --allow-prefix allowed/ ──────────────────────────────────────────────────────────────
  {
    name: "list_objects: the whole bucket",
    server: "allow",
    call: () => tool("list_objects", { prefix: "" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "list_objects: another prefix",
    server: "allow",
    call: () => tool("list_objects", { prefix: "private/" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "list_objects: a glob over the whole bucket",
    server: "allow",
    call: () => tool("list_objects", { glob: "private/**" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "list_objects: a shorter prefix that covers more",
    server: "allow",
    call: () => tool("list_objects", { prefix: "allowe", recursive: false }),
    code: "outside_allowed_prefix",
  },
  {
    name: "head_object: outside the allowed prefix",
    server: "allow",
    call: () => tool("head_object", { key: "private/y.txt" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "get_object_bytes: outside the allowed prefix",
    server: "allow",
    call: () => tool("get_object_bytes", { key: "private/y.txt" }),
    code: "outside_allowed_prefix",
    mentions: () => ["private/y.txt", "allowed/"],
  },
  {
    name: "get_object_bytes: allowed/../ dot segments",
    server: "allow",
    call: () => tool("get_object_bytes", { key: "allowed/../private/y.txt" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "upload_bytes: outside the allowed prefix",
    server: "allow",
    call: () => tool("upload_bytes", { key: "private/new.txt", data: "x" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "upload_bytes: allowed/./ dot segment",
    server: "allow",
    call: () => tool("upload_bytes", { key: "allowed/./x", data: "x" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "upload_file: outside the allowed prefix",
    server: "allow",
    call: () => tool("upload_file", { local_path: "data/a.txt", key: "private/z.txt" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "upload_directory: outside the allowed prefix",
    server: "allow",
    call: () => tool("upload_directory", { local_dir: "data", prefix: "private/" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "download_file: outside the allowed prefix",
    server: "allow",
    call: () => tool("download_file", { key: "private/y.txt", local_path: "got.txt" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "download_directory: outside the allowed prefix",
    server: "allow",
    call: () => tool("download_directory", { prefix: "private/", local_dir: "got" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "download_directory: allowed/.. as the prefix",
    server: "allow",
    call: () => tool("download_directory", { prefix: "allowed/..", local_dir: "got" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "compare_directory: outside the allowed prefix",
    server: "allow",
    call: () => tool("compare_directory", { local_dir: "data", prefix: "private" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "compare_directory: allowed/.. as the prefix",
    server: "allow",
    call: () => tool("compare_directory", { local_dir: "data", prefix: "allowed/.." }),
    code: "outside_allowed_prefix",
  },
  {
    name: "delete_object: outside the allowed prefix",
    server: "allow",
    call: () => tool("delete_object", { key: "private/y.txt" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "delete_object: allowed/../ dot segments",
    server: "allow",
    call: () => tool("delete_object", { key: "allowed/../private/y.txt" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "presign_url: outside the allowed prefix",
    server: "allow",
    only: "s3",
    call: () => tool("presign_url", { key: "private/y.txt" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "presign_url: allowed/../ dot segments",
    server: "allow",
    only: "s3",
    call: () => tool("presign_url", { key: "allowed/../private/y.txt" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "resources/read: outside the allowed prefix",
    server: "allow",
    call: (w) => ({ resource: `r2://${w.bucket}/private/y.txt` }),
    code: "outside_allowed_prefix",
  },
  {
    name: "upload_file: a disallowed key's file in the local store",
    server: "allow",
    only: "local",
    call: () => tool("upload_file", { local_path: "store/private/y.txt", key: "allowed/leak.txt" }),
    code: "outside_roots",
  },

  // ── copy_objects: both sides under policy, ranges that overlap, keys that cannot be held ──
  {
    name: "copy_objects: overlapping prefixes in one bucket",
    call: () => tool("copy_objects", { source: "seed/", destination: "seed/inner/", recursive: true }),
    code: "invalid_argument",
    mentions: () => ["overlap"],
  },
  {
    name: "copy_objects: destination prefix holding the source",
    call: () => tool("copy_objects", { source: "seed/sub", destination: "seed", recursive: true }),
    code: "invalid_argument",
  },
  {
    name: "copy_objects: the whole bucket into itself",
    call: () => tool("copy_objects", { source: "", destination: "backup/", recursive: true }),
    code: "invalid_argument",
  },
  {
    name: "copy_objects: a key onto itself",
    call: () => tool("copy_objects", { source: "seed/a.txt", destination: "seed/a.txt" }),
    code: "invalid_argument",
  },
  {
    name: "copy_objects: onto an existing key without overwrite (nothing replaced)",
    call: () => tool("copy_objects", { source: "seed/big.bin", destination: "seed/a.txt" }),
    code: "already_exists",
  },
  {
    name: "copy_objects: an unknown bucket",
    call: () => tool("copy_objects", { source: "seed/a.txt", destination: "t/a.txt", bucket: "elsewhere" }),
    code: "invalid_argument",
    mentions: () => ["elsewhere", "list_buckets"],
  },
  {
    name: "copy_objects: an unknown source_bucket",
    call: () => tool("copy_objects", { source: "seed/a.txt", destination: "t/a.txt", source_bucket: "../other" }),
    code: "invalid_argument",
    mentions: () => ["source_bucket"],
  },
  {
    name: "copy_objects: max_workers 65",
    call: () => tool("copy_objects", { source: "seed/", destination: "t/", recursive: true, max_workers: 65 }),
    code: "invalid_argument",
  },
  {
    name: "copy_objects: a destination key with a .. segment in the local store",
    only: "local",
    call: () => tool("copy_objects", { source: "seed/a.txt", destination: "t/../../escape.txt" }),
    code: "invalid_argument",
  },
  {
    name: "copy_objects: a source key with a .. segment in the local store",
    only: "local",
    call: () => tool("copy_objects", { source: "private/../seed/a.txt", destination: "t/a.txt" }),
    code: "invalid_argument",
  },
  {
    name: "copy_objects: source outside the allowed prefix",
    server: "allow",
    call: () => tool("copy_objects", { source: "private/y.txt", destination: "allowed/y.txt" }),
    code: "outside_allowed_prefix",
    mentions: () => ["source"],
  },
  {
    name: "copy_objects: destination outside the allowed prefix",
    server: "allow",
    call: () => tool("copy_objects", { source: "allowed/x.txt", destination: "private/x.txt" }),
    code: "outside_allowed_prefix",
    mentions: () => ["destination"],
  },
  {
    name: "copy_objects: allowed/../ dot segments in the source",
    server: "allow",
    call: () => tool("copy_objects", { source: "allowed/../private/y.txt", destination: "allowed/y.txt" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "copy_objects: allowed/../ dot segments in the destination",
    server: "allow",
    call: () => tool("copy_objects", { source: "allowed/x.txt", destination: "allowed/../private/x.txt" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "copy_objects: the bucket root as a source prefix",
    server: "allow",
    call: () => tool("copy_objects", { source: "", destination: "allowed/all/", recursive: true }),
    code: "outside_allowed_prefix",
  },

  // ── --read-only ──────────────────────────────────────────────────────────────────────────
  { name: "upload_bytes is not registered", server: "readonly", call: () => tool("upload_bytes", { key: "t/x", data: "x" }), code: "sdk" },
  {
    name: "upload_file is not registered",
    server: "readonly",
    call: () => tool("upload_file", { local_path: "data/a.txt", key: "t/x" }),
    code: "sdk",
  },
  {
    name: "upload_directory is not registered",
    server: "readonly",
    call: () => tool("upload_directory", { local_dir: "data", prefix: "t/" }),
    code: "sdk",
  },
  {
    name: "copy_objects is not registered",
    server: "readonly",
    call: () => tool("copy_objects", { source: "seed/a.txt", destination: "t/a.txt" }),
    code: "sdk",
  },
  { name: "delete_object is not registered", server: "readonly", call: () => tool("delete_object", { key: "seed/a.txt" }), code: "sdk" },
  { name: "delete_objects is not registered", server: "readonly", call: () => tool("delete_objects", { prefix: "seed" }), code: "sdk" },
  // ── delete_objects ──────────────────────────────────────────────────────────────────────────
  {
    name: "delete_objects: both prefix and keys",
    call: () => tool("delete_objects", { prefix: "seed", keys: ["seed/a.txt"] }),
    code: "invalid_argument",
    mentions: () => ["not both"],
  },
  { name: "delete_objects: neither prefix nor keys", call: () => tool("delete_objects", {}), code: "invalid_argument" },
  {
    name: "delete_objects: an empty prefix (the whole bucket)",
    call: () => tool("delete_objects", { prefix: "" }),
    code: "invalid_argument",
    mentions: () => ["prefix"],
  },
  { name: "delete_objects: an empty keys list", call: () => tool("delete_objects", { keys: [] }), code: "invalid_argument" },
  {
    name: "delete_objects: 1001 keys",
    call: () => tool("delete_objects", { keys: Array.from({ length: 1001 }, (_, i) => `seed/${i}`) }),
    code: "invalid_argument",
  },
  {
    name: "delete_objects: 1000 keys, one of them too long",
    call: () => tool("delete_objects", { keys: [...Array.from({ length: 999 }, () => "seed/a.txt"), longKey] }),
    code: "invalid_argument",
  },
  {
    name: "delete_objects: keys with .. segments on the local store",
    only: "local",
    call: () => tool("delete_objects", { keys: ["seed/a.txt", "seed/../private/y.txt"] }),
    code: "invalid_argument",
  },
  {
    name: "delete_objects: more objects than max_objects",
    call: () => tool("delete_objects", { prefix: "seed", max_objects: 1 }),
    code: "too_large",
    mentions: () => ['"seed/" holds 2 objects', "max_objects: 2"],
  },
  {
    name: "delete_objects: max_objects 0",
    call: () => tool("delete_objects", { prefix: "seed", max_objects: 0 }),
    code: "invalid_argument",
  },
  {
    name: "delete_objects: max_objects 100001",
    call: () => tool("delete_objects", { prefix: "seed", max_objects: 100_001 }),
    code: "invalid_argument",
  },
  {
    name: "delete_objects: a bucket that is not configured",
    call: () => tool("delete_objects", { prefix: "seed", bucket: "elsewhere" }),
    code: "invalid_argument",
  },
  {
    name: "delete_objects: a prefix outside the allowed one",
    server: "allow",
    call: () => tool("delete_objects", { prefix: "private" }),
    code: "outside_allowed_prefix",
  },
  {
    name: "delete_objects: a prefix covering the allowed one",
    server: "allow",
    call: () => tool("delete_objects", { prefix: "allowe", dry_run: true }),
    code: "outside_allowed_prefix",
  },
  {
    name: "delete_objects: one key outside the allowed prefix refuses the whole list",
    server: "allow",
    call: () => tool("delete_objects", { keys: ["allowed/x.txt", "private/y.txt"] }),
    code: "outside_allowed_prefix",
  },
  {
    name: "delete_objects: allowed/../ dot segments in a key",
    server: "allow",
    call: () => tool("delete_objects", { keys: ["allowed/../private/y.txt"] }),
    code: "outside_allowed_prefix",
  },

  {
    name: "presign_url: a PUT link from a read-only server",
    server: "readonly",
    only: "s3",
    call: () => tool("presign_url", { key: "t/x", method: "PUT" }),
    code: "access_denied",
  },
  {
    name: "download_file: into the local store (a write behind --read-only)",
    server: "readonly",
    only: "local",
    call: () => tool("download_file", { key: "seed/a.txt", local_path: "store/seed/new.txt" }),
    code: "outside_roots",
  },
  {
    name: "download_directory: into the local store (writes behind --read-only)",
    server: "readonly",
    only: "local",
    call: () => tool("download_directory", { prefix: "seed/", local_dir: "store/copy" }),
    code: "outside_roots",
  },
];

/** The workspace every server of one backend shares. */
async function buildWorld(tmp: TempDir, backend: Backend, s3?: S3TestServer): Promise<World> {
  const ws = tmp.path;
  const root = path.join(ws, "root");
  const outside = path.join(ws, "outside");
  const store = path.join(root, "store");
  await writeTree(outside, { "secret.txt": "outside the roots", "sub/keep.txt": "outside too" });
  await writeTree(root, {
    "data/a.txt": "alpha",
    "data/b.txt": "beta",
    "a-file.txt": "a file, not a folder",
    "link-out": { link: "../outside" },
    "link-file-out": { link: "../outside/secret.txt" },
    dangling: { link: "../outside/not-yet" },
    "escape-dir/ok.txt": "fine",
    "escape-dir/evil": { link: "../../outside/secret.txt" },
    "dl/keep.txt": "already here",
    "dl/sub": { link: "../../outside" },
  });
  execFileSync("mkfifo", [path.join(root, "fifo")]);
  await mkdir(path.join(root, "fifodir"));
  execFileSync("mkfifo", [path.join(root, "fifodir", "fifo")]);
  const objects: Record<string, string | Buffer> = {
    "seed/a.txt": "seed alpha",
    "seed/big.bin": Buffer.alloc(100 * 1024, 7),
    "allowed/x.txt": "allowed",
    "private/y.txt": "private data",
    "symdl/sub/x.txt": "would land outside",
    "symdeep/sub/deep/x.txt": "would create folders outside",
    "fifodl/fifo": "would replace the FIFO at the root",
  };
  if (backend === "local") {
    await writeTree(store, objects);
    // The store's temp folder exists after the first write; made up front so snapshots compare.
    await mkdir(path.join(store, ".r2-mcp-tmp"));
    await writeTree(store, { lnk: { link: "../../outside" } });
    await writeTree(root, { "store-link-dir/ok.txt": "fine", "store-link-dir/objects": { link: "../store/private" } });
  } else {
    const client = s3!.rawClient();
    await plantObjects(client, s3!.bucket, {
      ...objects,
      "h1/../../escape.txt": "..",
      "h2//x.txt": "//",
      "h3/a\\..\\..\\x.txt": "backslash",
      "h4/C:/x.txt": "drive",
      "h5/./x.txt": "dot",
      "h6/..": "dotdot",
      "h7//abs.txt": "absolute-looking",
      "h8/good.txt": "good",
      "h8/../escape.txt": "bad",
      "h9/a": "file",
      "h9/a/b": "and folder",
      "h10/x/": "folder marker with data",
      "/abs/passwd": "absolute",
    });
    client.destroy();
  }
  return { backend, ws, root, outside, store, bucket: backend === "s3" ? s3!.bucket : "local" };
}

export function attackMatrix(backend: Backend): void {
  describe.each(TEST_ERAS)(`attack matrix, ${backend} backend, protocol %s`, (era: Era) => {
    let tmp: TempDir;
    let s3: S3TestServer | undefined;
    let raw: S3Client | undefined;
    let world: World;
    const servers = {} as Record<ServerName, RunningServer>;
    const transcript: string[] = [];
    /** Servers log at debug into the transcript, and the client validates every result (tools/list first). */
    const watched = { transcript, logLevel: "debug", listTools: true, era } as const;
    const cases = CASES.filter((c) => c.only === undefined || c.only === backend);

    beforeAll(async () => {
      tmp = await makeTempDir("r2mcp-sec-");
      if (backend === "s3") {
        s3 = await startS3Server();
        raw = s3.rawClient();
      }
      world = await buildWorld(tmp, backend, s3);
      const cli = (extra: string[]) => {
        const all = ["--root", world.root, "--log-level", "debug", ...extra];
        return backend === "s3" ? s3Cli(s3!, all) : localCli(world.store, all);
      };
      const [main, allow, readonly] = await Promise.all([
        startClient({ ...cli([]), cwd: world.root, ...watched }),
        startClient({ ...cli(["--allow-prefix", "allowed/"]), cwd: world.root, ...watched }),
        startClient({ ...cli(["--read-only"]), cwd: world.root, ...watched }),
      ]);
      Object.assign(servers, { main, allow, readonly });
      baseline = await snapshot();
    });

    afterAll(async () => {
      await Promise.all(Object.values(servers).map((s) => s.close()));
      raw?.destroy();
      await s3?.close();
      await tmp?.cleanup();
    });

    const snapshot = () => snapshotAll(tmp.path, raw && s3 ? { client: raw, server: s3 } : undefined);
    /** The state every case must leave behind: taken once, then after each case (so one failure does not cascade). */
    let baseline: Awaited<ReturnType<typeof snapshot>>;

    it("has at least 40 hostile or malformed cases on this backend", () => {
      expect(cases.length).toBeGreaterThanOrEqual(40);
    });

    it.each(cases.map((c) => [`${c.server ?? "main"}: ${c.name} → ${c.code}`, c] as const))("%s", async (_title, c) => {
      const session = servers[c.server ?? "main"];
      const request = c.call(world);
      let text: string;
      if ("resource" in request) {
        const err = await session.client.readResource({ uri: request.resource }).then(
          () => expect.fail("the resource read should fail"),
          (e: Error) => e,
        );
        text = err.message.replace(/^MCP error -?\d+: /, "");
        expect(text.slice(0, text.indexOf(":"))).toBe(c.code);
      } else if (c.code === "sdk") {
        // The SDK's own JSON-RPC error (an unknown tool): the call is rejected, not answered with a result.
        text = await expectProtocolError(session.call(request.tool, request.args));
      } else {
        const result = await session.call(request.tool, request.args);
        expectError(result, c.code);
        text = result.text;
      }
      for (const mention of c.mentions?.(world) ?? []) expect(text).toContain(mention);
      // Still serving: a following tools/list answers (the read-only server without writing tools).
      const names = (await session.client.listTools()).tools.map((t) => t.name);
      expect(names).toContain("list_objects");
      if (c.server === "readonly") for (const name of WRITING_TOOLS) expect(names).not.toContain(name);
      const after = await snapshot();
      const before = baseline;
      baseline = after;
      expect(after).toEqual(before);
    });

    it("read-only: lists no tool that changes the bucket, and the downloads stay", async () => {
      const names = (await servers.readonly.client.listTools()).tools.map((t) => t.name);
      for (const name of WRITING_TOOLS) expect(names).not.toContain(name);
      expect(names).toEqual(
        expect.arrayContaining(["list_objects", "head_object", "get_object_bytes", "download_file", "download_directory"]),
      );
    });

    it("allow-prefix: keys under the allowed prefix still work", async () => {
      const got = await servers.allow.call("get_object_bytes", { key: "allowed/x.txt" });
      expect(got.isError).toBeFalsy();
      expect(structured(got, getObjectBytes.output).data).toBe("allowed");
      const listed = await servers.allow.call("list_objects", { prefix: "allowed/" });
      expect(structured(listed, listObjects.output).objects.map((o) => o.key)).toEqual(["allowed/x.txt"]);
    });

    it.runIf(backend === "local")("a symlink planted in the store lists nothing and reads as missing", async () => {
      const listed = await servers.main.call("list_objects", { prefix: "lnk/" });
      expect(listed.structuredContent).toMatchObject({ objects: [], prefixes: [] });
      const all = await servers.main.call("list_objects", { prefix: "", limit: 1000 });
      const keys = structured(all, listObjects.output).objects.map((o) => o.key);
      expect(keys.some((k) => k.startsWith("lnk"))).toBe(false);
      expect(await servers.main.call("head_object", { key: "lnk/secret.txt" })).toMatchObject({ structuredContent: { exists: false } });
      expect(await readFile(path.join(world.outside, "secret.txt"), "utf8")).toBe("outside the roots");
    });

    it.runIf(backend === "s3")("hostile keys stay readable as keys: get_object_bytes does not interpret them", async () => {
      const got = await servers.main.call("get_object_bytes", { key: "h1/../../escape.txt" });
      expect(structured(got, getObjectBytes.output).data).toBe("..");
    });

    it("no credential in anything these servers said", () => {
      expect(transcript.length).toBeGreaterThan(cases.length);
      expectNoSecrets(transcript);
    });
  });
}
