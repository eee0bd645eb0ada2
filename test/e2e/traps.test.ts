/**
 * Answers that used to look like success (issue 16, item 5), over the real stdio transport: a
 * download of a prefix holding nothing, a link to a missing key, and keys the local store cannot
 * hold, which used to answer already_exists even with overwrite: true.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { uploadBytes } from "../../src/mcp/tools/upload-bytes.js";
import { callError, callOk } from "../helpers/calls.js";
import { BACKENDS } from "../helpers/start-client.js";
import { useToolsServer } from "../helpers/tools-server.js";

describe.each(BACKENDS)("no trap that looks like success over stdio, %s backend", (backend) => {
  const fx = useToolsServer(backend);

  it("download_directory of a prefix holding no objects is not_found, naming the nearest parent prefix, and creates nothing", async () => {
    await callOk(fx.client, uploadBytes, { key: "trap/runs/42/a.csv", data: "a" });
    const target = path.join(fx.root, "trap-out", "runs42x");
    for (const dry_run of [false, true]) {
      const err = await callError(fx.client, "download_directory", { prefix: "trap/runs/42x", local_dir: target, dry_run });
      expect(err.text).toBe(
        'not_found: no objects under "trap/runs/42x/"; the nearest prefix holding objects is "trap/runs/" (list_objects with that prefix and recursive: false shows what is there). Nothing was downloaded or created',
      );
      expect(existsSync(path.join(fx.root, "trap-out"))).toBe(false);
    }
  });

  if (backend === "s3")
    it("presign_url GET of a missing key is not_found; PUT to a new key still works", async () => {
      const err = await callError(fx.client, "presign_url", { key: "trap/missing.csv" });
      expect(err.text).toMatch(/^not_found: "trap\/missing.csv" does not exist/);
      const put = await fx.server.call("presign_url", { key: "trap/missing.csv", method: "PUT" });
      expect(put.isError).toBeFalsy();
    });

  if (backend === "local")
    it("keys the local store cannot hold are unsupported, with or without overwrite, saying what to do", async () => {
      await callOk(fx.client, uploadBytes, { key: "trap/runs/metrics.csv", data: "a,b" });
      for (const overwrite of [false, true]) {
        const under = await callError(fx.client, "upload_bytes", { key: "trap/runs/metrics.csv/x", data: "x", overwrite });
        expect(under.text).toMatch(
          /^unsupported: the local store cannot hold "trap\/runs\/metrics.csv\/x": "trap\/runs\/metrics.csv" is an object, so it cannot also be a prefix\..*overwrite: true does not change this: choose another key/,
        );
        const long = await callError(fx.client, "upload_bytes", { key: `trap/${"s".repeat(256)}`, data: "x", overwrite });
        expect(long.text).toMatch(/^unsupported: the local store cannot hold .* is 256 bytes.* at most 255 bytes\. Shorten/);
      }
      expect(await fx.getText("trap/runs/metrics.csv")).toBe("a,b");
    });
});
