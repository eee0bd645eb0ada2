/** The instructions the server sends an assistant at start-up. */
import { q } from "../core/errors.js";
import type { Buckets } from "./buckets.js";

const BASE = `r2-mcp moves data between this machine and an object store (Cloudflare R2 or any S3-compatible bucket, or a local directory store).
- Nothing is ever overwritten silently: every write (upload_*, download_*) takes overwrite, default false; an existing destination is an already_exists error and nothing changes. Only pass overwrite: true when the user asked to replace data.
- To look at an object, check its size first (head_object or list_objects). get_object_bytes returns at most max_bytes (64 KiB by default): read large objects in ranges (offset/length) or save them with download_file instead of pulling them into the conversation.
- list_objects returns one page; pass next_cursor to continue. recursive=false shows one level, like folders. Filter it (glob such as "**/*.ckpt", min_size/max_size, modified_after/modified_before) rather than paging through everything. summarize_prefix answers "how big, what is in it, what changed" without listing everything.
- delete_object deletes one key; delete_objects deletes a whole folder prefix or a list of keys in one call (run it with dry_run: true first and tell the user what would go).
- Directory transfers check every destination before writing; repeating an interrupted call finishes it (identical files are skipped). Use dry_run to preview.
- Long transfers (upload_file, upload_directory, download_file, download_directory, copy_objects, delete_objects) take background. With background: true the call checks its arguments and conflicts as usual (a conflict is still its own error), starts a job and returns job_id at once: use it for transfers you expect to take over a minute, or when you want to keep working (or answer the user) meanwhile. Follow up with transfer_status {job_id} (files and bytes done; once finished, the result the call would have returned), stop with cancel_transfer. Jobs live as long as the server: if one was cut short, repeat the original call (identical files are skipped).
- Errors start with a stable code (already_exists, not_found, too_large, outside_roots, ...) followed by what to do next.`;

/** Where local paths may lead, as the server starts (client roots may replace a default). */
export interface RootsInForce {
  roots: readonly string[];
  /** From --root or R2_MCP_ROOTS: a client's roots do not replace them. */
  explicit: boolean;
}

export function rootsLine(roots: RootsInForce): string {
  const replaced = roots.explicit ? "" : " (roots your client offers replace these)";
  if (roots.roots.length === 0) {
    return `- Local files: none may be read or written${replaced}: the server started in / or the home directory without --root, so local paths are outside_roots until it is restarted with --root DIR.`;
  }
  return `- Local files must be inside ${roots.roots.map(q).join(", ")}${replaced}; a leading ~/ is the home directory. list_buckets shows the roots in force.`;
}

export function instructionsFor(buckets: Buckets, roots: RootsInForce): string {
  const lines = [BASE, rootsLine(roots)];
  if (buckets.size > 1) {
    lines.push(
      `- Buckets (pass bucket to choose; default ${q(buckets.default.store.name)}): ${buckets.list
        .map((b) => `${q(b.store.name)}${b.store.readOnly ? " (read-only)" : ""}`)
        .join(", ")}. list_buckets describes them.`,
    );
  }
  if (!buckets.anyWritable) lines.push("- This server is read-only: it offers no tool that changes a bucket.");
  for (const b of buckets.list) {
    if (b.store.allowPrefixes.length > 0) {
      const where = buckets.size > 1 ? ` in bucket ${q(b.store.name)}` : "";
      lines.push(`- Only keys under these prefixes may be used${where}: ${b.store.allowPrefixes.map(q).join(", ")}.`);
    }
  }
  return lines.join("\n");
}
