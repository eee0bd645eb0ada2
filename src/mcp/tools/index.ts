import type { Tool } from "../tool.js";
import { cancelTransfer } from "./cancel-transfer.js";
import { compareDirectory } from "./compare-directory.js";
import { copyObjects } from "./copy-objects.js";
import { deleteObject } from "./delete-object.js";
import { deleteObjects } from "./delete-objects.js";
import { downloadDirectory } from "./download-directory.js";
import { downloadFile } from "./download-file.js";
import { getObjectBytes } from "./get-object-bytes.js";
import { headObject } from "./head-object.js";
import { listBuckets } from "./list-buckets.js";
import { listObjects } from "./list-objects.js";
import { presignUrl } from "./presign-url.js";
import { summarizePrefix } from "./summarize-prefix.js";
import { transferStatus } from "./transfer-status.js";
import { uploadBytes } from "./upload-bytes.js";
import { uploadDirectory } from "./upload-directory.js";
import { uploadFile } from "./upload-file.js";

/** Every tool, in the order tools/list shows them. */
export const allTools: Tool[] = [
  listBuckets,
  listObjects,
  headObject,
  summarizePrefix,
  getObjectBytes,
  uploadBytes,
  uploadFile,
  uploadDirectory,
  downloadFile,
  downloadDirectory,
  compareDirectory,
  copyObjects,
  deleteObject,
  deleteObjects,
  presignUrl,
  transferStatus,
  cancelTransfer,
];
