/**
 * What an S3 store can do, known without the AWS SDK: the deferred store (deferred.ts) answers
 * it before the SDK is loaded, and S3Store uses the same.
 */
import { createHash } from "node:crypto";
import type { StoreCapabilities } from "../store.js";
import type { S3StoreConfig } from "./client.js";

export function s3Capabilities(config: Pick<S3StoreConfig, "bucket">, domain: string): StoreCapabilities {
  return { remote: true, parallelRanges: true, presign: true, location: { domain, container: config.bucket } };
}

/**
 * Stores on one endpoint with the same credentials can copy between each other on the server:
 * they share this domain (a hash, so no key id shows in it).
 */
export function endpointDomainOf(config: Pick<S3StoreConfig, "endpoint" | "region" | "credentials">): string {
  const identity = [config.endpoint ?? "aws", config.region ?? "auto", config.credentials?.accessKeyId ?? "(default credentials)"].join(
    "\n",
  );
  return `s3:${createHash("sha256").update(identity).digest("hex").slice(0, 32)}`;
}
