/** Node filesystem errors on a local path, as the stable StorageError codes of SPEC.md "Errors". */
import { cancelledError, q, StorageError } from "../errors.js";

/** Maps a Node fs error on a local path to a StorageError naming that path. */
export function fromFsError(err: unknown, path: string, what = "local path"): StorageError {
  if (err instanceof StorageError) return err;
  const code = (err as { code?: string } | null)?.code;
  const opts = { path, cause: err };
  switch (code) {
    case "ENOENT":
      return new StorageError("not_found", `${what} ${q(path)} does not exist`, opts);
    case "EEXIST":
      return new StorageError("already_exists", `${what} ${q(path)} exists; pass overwrite: true to replace it`, opts);
    case "ENOTDIR":
      return new StorageError("not_a_directory", `a parent of ${what} ${q(path)} is not a directory`, opts);
    case "EISDIR":
      return new StorageError("invalid_argument", `${what} ${q(path)} is a directory; give a file path`, opts);
    case "EACCES":
    case "EPERM":
      return new StorageError("access_denied", `no permission for ${what} ${q(path)}`, opts);
    case "ENAMETOOLONG":
      return new StorageError("invalid_argument", `${what} ${q(path)} is too long for this filesystem`, opts);
    case "ABORT_ERR":
      return cancelledError(err);
    default:
      return new StorageError("internal", `${what} ${q(path)}: ${code ?? (err as Error)?.message ?? "error"}`, opts);
  }
}
