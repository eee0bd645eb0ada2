/**
 * Each tool's icon in tools/list: a small SVG as a data URI (no network, no files to ship). A tool
 * may name its picture (Tool.icon); otherwise its effect chooses one.
 */
import type { Icon } from "@modelcontextprotocol/server";
import type { Effect } from "./tool.js";

/** 24×24 line drawings, stroked in the current colour so hosts can theme them. */
const PATHS = {
  bucket: "M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3zm0 0 2 14c.2 1.2 2.8 2 6 2s5.8-.8 6-2l2-14",
  list: "M8 6h12M8 12h12M8 18h12M4 6h.01M4 12h.01M4 18h.01",
  read: "M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12zm10 3a3 3 0 1 0 0-6 3 3 0 0 0 0 6z",
  upload: "M12 16V4m0 0-5 5m5-5 5 5M4 20h16",
  download: "M12 4v12m0 0-5-5m5 5 5-5M4 20h16",
  delete: "M4 7h16M10 11v6M14 11v6M6 7l1 13h10l1-13M9 7V4h6v3",
  link: "M10 14a4 4 0 0 0 5.7 0l3-3a4 4 0 0 0-5.7-5.7l-1 1M14 10a4 4 0 0 0-5.7 0l-3 3a4 4 0 0 0 5.7 5.7l1-1",
  copy: "M9 9h11v11H9zM5 15H4V4h11v1",
  summary: "M4 20V10M10 20V4M16 20v-7M22 20H2",
} as const;

export type IconName = keyof typeof PATHS;

/** Tools whose picture says more than their effect. */
const BY_TOOL: Record<string, IconName> = {
  list_buckets: "bucket",
  list_objects: "list",
  summarize_prefix: "summary",
  upload_bytes: "upload",
  upload_file: "upload",
  upload_directory: "upload",
  download_file: "download",
  download_directory: "download",
  delete_object: "delete",
  delete_objects: "delete",
  copy_objects: "copy",
  presign_url: "link",
};

const BY_EFFECT: Record<Effect, IconName> = { read: "read", write: "upload", destructive: "delete" };

function svgIcon(name: IconName): Icon {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="${PATHS[name]}"/></svg>`;
  return { src: `data:image/svg+xml;base64,${Buffer.from(svg).toString("base64")}`, mimeType: "image/svg+xml", sizes: ["any"] };
}

/** The icons a tool is listed with. */
export function iconsOf(tool: { name: string; effect: Effect; icon?: IconName }): Icon[] {
  return [svgIcon(tool.icon ?? BY_TOOL[tool.name] ?? BY_EFFECT[tool.effect])];
}
