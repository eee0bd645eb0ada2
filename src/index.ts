export type { DifferentFile, DirectoryComparison } from "./core/compare.js";
export { ERROR_CODES, type ErrorCode, isStorageError, StorageError } from "./core/errors.js";
export { GuardedStore, type StorePolicy } from "./core/guarded-store.js";
export { LocalStore } from "./core/local/store.js";
export { createS3Client, type S3StoreConfig } from "./core/s3/client.js";
export { S3Store } from "./core/s3/store.js";
export type {
  ByteRange,
  CopyOptions,
  CopyResult,
  CopySource,
  GetResult,
  ListOptions,
  ListPage,
  ObjectInfo,
  ObjectStore,
  PutBody,
  PutMode,
  PutOptions,
  PutResult,
  StoreLocation,
} from "./core/store.js";
export type { CopyObjectsResult, DirectoryTransferResult, TransferProgress } from "./core/transfer/index.js";
export { type ProgressOptions, R2Client, type R2ClientOptions, type R2Object } from "./library/r2-client.js";
