import type { ToolDefinition } from "./define.js";
import { deleteObject } from "./delete-object.js";
import { downloadDirectory } from "./download-directory.js";
import { downloadFile } from "./download-file.js";
import { getObjectBytes } from "./get-object-bytes.js";
import { headObject } from "./head-object.js";
import { listObjects } from "./list-objects.js";
import { presignUrl } from "./presign-url.js";
import { uploadBytes } from "./upload-bytes.js";
import { uploadDirectory } from "./upload-directory.js";
import { uploadFile } from "./upload-file.js";

export const allTools: ToolDefinition[] = [
  listObjects,
  headObject,
  getObjectBytes,
  uploadBytes,
  uploadFile,
  uploadDirectory,
  downloadFile,
  downloadDirectory,
  deleteObject,
  presignUrl,
];
