/** Generated test data: random bytes (nothing compresses or dedups), lower-case names. */
import { randomFillSync } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";

/** `files` files of `size` bytes spread over up to 10 sub-directories d00..d09 of `dir`. */
export async function makeDirectory(dir: string, files: number, size: number): Promise<string> {
  const buf = Buffer.alloc(size);
  const perDir = Math.max(1, Math.ceil(files / 10));
  for (let i = 0; i < files; i++) {
    const sub = path.join(dir, `d${String(Math.floor(i / perDir)).padStart(2, "0")}`);
    if (i % perDir === 0) await fs.mkdir(sub, { recursive: true });
    randomFillSync(buf);
    await fs.writeFile(path.join(sub, `f${String(i).padStart(5, "0")}.bin`), buf);
  }
  return dir;
}

/** One file of `size` random bytes, written 8 MiB at a time. */
export async function makeFile(file: string, size: number): Promise<string> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const handle = await fs.open(file, "w");
  try {
    const chunk = Buffer.alloc(8 * 1024 * 1024);
    for (let done = 0; done < size; ) {
      const n = Math.min(chunk.length, size - done);
      randomFillSync(chunk, 0, n);
      await handle.write(chunk, 0, n, done);
      done += n;
    }
  } finally {
    await handle.close();
  }
  return file;
}
