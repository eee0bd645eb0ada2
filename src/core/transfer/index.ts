/** Moving files and directories between the local disk and a store. */
export { type DirectoryTransferOptions, downloadDirectory, uploadDirectory } from "./directories.js";
export { downloadFile, type TransferOptions, uploadFile } from "./files.js";
export type { DirectoryTransferResult } from "./plan.js";
export { checkMaxWorkers, DEFAULT_MAX_WORKERS, MAX_WORKERS, type TransferProgress } from "./run.js";
