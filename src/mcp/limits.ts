/** Size limits shared by tools and resources. */

/** What get_object_bytes and resource reads return by default: about what one result of an assistant's context takes. */
export const DEFAULT_MAX_BYTES = 64 * 1024;
/** The most get_object_bytes returns at all (for scripts). */
export const HARD_MAX_BYTES = 4 * 1024 * 1024;
/** Lists in results are capped so a large transfer cannot flood an assistant's context. */
export const LISTED = 50;
