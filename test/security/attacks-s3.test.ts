/** The attack matrix of matrix.ts against the S3 backend (fauxqs on 127.0.0.1). */
import { attackMatrix } from "./matrix.js";

attackMatrix("s3");
