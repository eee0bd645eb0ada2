/** Moving files and directories between the local disk and a store. */

export { type CopyObjectsOptions, type CopyObjectsResult, copyObjects, prepareCopyObjects } from "./copy.js";
export {
  type DirectoryTransferOptions,
  downloadDirectory,
  prepareDownloadDirectory,
  prepareUploadDirectory,
  uploadDirectory,
} from "./directories.js";
export { downloadFile, prepareDownloadFile, prepareUploadFile, type Replaced, type TransferOptions, uploadFile } from "./files.js";
export type { DirectoryTransferResult } from "./plan.js";
export {
  checkMaxWorkers,
  DEFAULT_MAX_WORKERS,
  MAX_WORKERS,
  type PreparedTransfer,
  type RunOptions,
  type TransferProgress,
} from "./run.js";
