export { R2Client, type R2ClientOptions, type R2Object, type ProgressOptions } from "./core/client.js";
export { StorageError, ERROR_CODES, type ErrorCode, isStorageError } from "./core/errors.js";
export { LocalStore } from "./core/local-store.js";
export { S3Store, createS3Client, type S3StoreConfig } from "./core/s3-store.js";
export type {
  ObjectStore,
  ObjectInfo,
  ListOptions,
  ListPage,
  PutMode,
  PutBody,
  PutOptions,
  PutResult,
  ByteRange,
  GetResult,
} from "./core/store.js";
export type { TransferProgress, DirectoryTransferResult } from "./core/transfer.js";
