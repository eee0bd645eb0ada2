/**
 * The wire form of every listing cursor (the stores' page tokens and list_objects' resume points):
 * a JSON object in base64url. Opaque to callers; each kind of cursor checks what it binds to.
 */
import { StorageError } from "./errors.js";

export function encodeToken(payload: object): string {
  return Buffer.from(JSON.stringify(payload), "utf8").toString("base64url");
}

/**
 * The object a token carries, with the fields its `bound` check accepts; anything else (not
 * base64url JSON, not an object, bound to another listing) is `invalid_argument` saying `advice`.
 */
export function decodeToken<T extends object>(token: string, bound: (payload: Partial<T>) => boolean, advice: string): Partial<T> {
  const bad = () => new StorageError("invalid_argument", `cursor was not produced by this listing; ${advice}`);
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    throw bad();
  }
  if (typeof payload !== "object" || payload === null || !bound(payload as Partial<T>)) throw bad();
  return payload as Partial<T>;
}
