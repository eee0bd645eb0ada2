/** Node filesystem errors on a local path, as the stable StorageError codes of SPEC.md "Errors". */
import { cancelledError, q, StorageError } from "../errors.js";

/** Maps a Node fs error on a local path to a StorageError naming that path, with what to do. */
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
    case "ENOTEMPTY":
      return new StorageError("invalid_argument", `${what} ${q(path)} is a folder that is not empty; give a file path`, opts);
    case "EACCES":
    case "EPERM":
      return new StorageError("access_denied", `no permission for ${what} ${q(path)}`, opts);
    case "EROFS":
      return new StorageError("access_denied", `${what} ${q(path)} is on a read-only filesystem; choose a writable folder`, opts);
    case "ENAMETOOLONG":
      return new StorageError("invalid_argument", `${what} ${q(path)} is too long for this filesystem`, opts);
    case "ELOOP":
      return new StorageError(
        "invalid_argument",
        `${what} ${q(path)} goes through a symlink loop, or is a symlink where none is followed; use the real path`,
        opts,
      );
    case "EMFILE":
    case "ENFILE":
      return new StorageError(
        "unavailable",
        `too many open files while opening ${what} ${q(path)} (${code}); lower max_workers, or raise the open-file limit (ulimit -n) of the server, then repeat the call`,
        opts,
      );
    case "ENOSPC":
    case "EDQUOT":
      return new StorageError("unavailable", `no space left for ${what} ${q(path)} (${code}); free some space, then repeat the call`, opts);
    case "EAGAIN":
    case "EBUSY":
    case "ETXTBSY":
    case "ESTALE":
    case "EINTR":
      return new StorageError(
        "unavailable",
        `${what} ${q(path)} was busy or changed while the call ran (${code}); repeat the call once nothing else is using it`,
        opts,
      );
    case "EIO":
      return new StorageError(
        "unavailable",
        `the disk reported an I/O error on ${what} ${q(path)} (EIO); check the disk, then repeat the call`,
        opts,
      );
    case "EXDEV":
      return new StorageError(
        "unsupported",
        `${what} ${q(path)} would need a move across filesystems, which is not done; use a path on one filesystem`,
        opts,
      );
    case "EINVAL":
      return new StorageError("invalid_argument", `${what} ${q(path)} is not valid here (EINVAL)`, opts);
    case "ABORT_ERR":
      return cancelledError(err);
    default:
      return new StorageError("internal", `${what} ${q(path)}: ${code ?? (err as Error)?.message ?? "error"}`, opts);
  }
}
