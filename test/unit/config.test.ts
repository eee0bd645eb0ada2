/** resolveConfig: flags > environment > defaults, and every error names its setting. Pure. */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type BackendConfig, type Config, ConfigError, resolveConfig } from "../../src/config/index.js";

const cwd = path.resolve("/work/project");
const SECRET = "s3cr3t-VALUE-never-shown";
const ACCESS = "AKID-visible-is-fine";

/** The minimum environment for the S3 backend. */
const s3Env = {
  R2_BUCKET: "env-bucket",
  R2_ENDPOINT_URL: "https://env.example.com",
  R2_ACCESS_KEY_ID: ACCESS,
  R2_SECRET_ACCESS_KEY: SECRET,
};

function serve(argv: string[], env: NodeJS.ProcessEnv = s3Env): Config {
  const action = resolveConfig(argv, env, cwd);
  if (action.action !== "serve") return expect.fail(`expected serve, got ${action.action}`);
  return action.config;
}

function s3(argv: string[], env: NodeJS.ProcessEnv = s3Env): Extract<BackendConfig, { kind: "s3" }> {
  const backend = serve(argv, env).backend;
  if (backend.kind !== "s3") return expect.fail("expected the s3 backend");
  return backend;
}

function configError(argv: string[], env: NodeJS.ProcessEnv): ConfigError {
  try {
    resolveConfig(argv, env, cwd);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    const message = (err as Error).message;
    // No secret, ever, in any configuration error.
    expect(message).not.toContain(SECRET);
    return err as ConfigError;
  }
  return expect.fail(`expected a ConfigError for ${JSON.stringify(argv)}`);
}

describe("resolveConfig: S3 backend", () => {
  it("takes everything from the environment, with defaults", () => {
    const config = serve([]);
    expect(config.backend).toEqual({
      kind: "s3",
      bucket: "env-bucket",
      endpoint: "https://env.example.com",
      region: "auto",
      accessKeyId: ACCESS,
      secretAccessKey: SECRET,
    });
    expect(config).toMatchObject({
      roots: [cwd],
      rootsExplicit: false,
      readOnly: false,
      allowPrefixes: [],
      logLevel: "warning",
      maxAttempts: 5,
    });
  });

  it("flags beat the environment", () => {
    const backend = s3(["--bucket", "flag-bucket", "--endpoint", "http://127.0.0.1:9000", "--region", "eu-west-1"], {
      ...s3Env,
      R2_REGION_NAME: "weur",
    });
    expect(backend).toMatchObject({ bucket: "flag-bucket", endpoint: "http://127.0.0.1:9000", region: "eu-west-1" });
  });

  it("R2_* beats AWS_*, and each list is read in its documented order", () => {
    const env = {
      R2_BUCKET: "r2-bucket",
      R2_BUCKET_NAME: "r2-bucket-name",
      R2_ENDPOINT_URL: "https://r2.example.com",
      AWS_ENDPOINT_URL_S3: "https://aws-s3.example.com",
      AWS_ENDPOINT_URL: "https://aws.example.com",
      R2_ACCESS_KEY_ID: "r2-id",
      AWS_ACCESS_KEY_ID: "aws-id",
      R2_SECRET_ACCESS_KEY: "r2-secret",
      AWS_SECRET_ACCESS_KEY: "aws-secret",
      R2_REGION_NAME: "r2-region",
      AWS_REGION: "aws-region",
      AWS_DEFAULT_REGION: "aws-default-region",
    };
    expect(s3([], env)).toEqual({
      kind: "s3",
      bucket: "r2-bucket",
      endpoint: "https://r2.example.com",
      region: "r2-region",
      accessKeyId: "r2-id",
      secretAccessKey: "r2-secret",
    });
    const without = (...names: (keyof typeof env)[]) => {
      const copy: NodeJS.ProcessEnv = { ...env };
      for (const n of names) delete copy[n];
      return copy;
    };
    expect(s3([], without("R2_BUCKET")).bucket).toBe("r2-bucket-name");
    expect(s3([], without("R2_ENDPOINT_URL")).endpoint).toBe("https://aws-s3.example.com");
    expect(s3([], without("R2_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3")).endpoint).toBe("https://aws.example.com");
    expect(s3([], without("R2_ACCESS_KEY_ID")).accessKeyId).toBe("aws-id");
    expect(s3([], without("R2_SECRET_ACCESS_KEY")).secretAccessKey).toBe("aws-secret");
    expect(s3([], without("R2_REGION_NAME")).region).toBe("aws-region");
    expect(s3([], without("R2_REGION_NAME", "AWS_REGION")).region).toBe("aws-default-region");
  });

  it("an empty environment variable counts as unset", () => {
    expect(s3([], { ...s3Env, R2_BUCKET: "", R2_BUCKET_NAME: "fallback-bucket" }).bucket).toBe("fallback-bucket");
    expect(s3([], { ...s3Env, R2_ACCESS_KEY_ID: "  ", AWS_ACCESS_KEY_ID: "aws-id" }).accessKeyId).toBe("aws-id");
  });

  it("R2_ACCOUNT_ID gives https://<id>.r2.cloudflarestorage.com; an explicit endpoint wins", () => {
    const env = { ...s3Env, R2_ENDPOINT_URL: undefined, R2_ACCOUNT_ID: "0123abcdef" };
    expect(s3([], env).endpoint).toBe("https://0123abcdef.r2.cloudflarestorage.com");
    expect(s3(["--endpoint", "https://flag.example.com"], env).endpoint).toBe("https://flag.example.com");
    expect(s3([], { ...env, AWS_ENDPOINT_URL: "https://aws.example.com" }).endpoint).toBe("https://aws.example.com");
    const bad = configError([], { ...env, R2_ACCOUNT_ID: "not/an.account" });
    expect(bad.message).toMatch(/R2_ACCOUNT_ID/);
  });

  it("refuses malformed endpoints, naming where they came from", () => {
    expect(configError(["--endpoint", "not a url"], s3Env).message).toMatch(/--endpoint/);
    expect(configError([], { ...s3Env, R2_ENDPOINT_URL: "ftp://x.example.com" }).message).toMatch(/R2_ENDPOINT_URL/);
    const withCredentials = configError(["--endpoint", `https://id:${SECRET}@x.example.com`], s3Env);
    expect(withCredentials.message).toMatch(/must not carry credentials/);
    expect(s3(["--endpoint", "https://x.example.com/"]).endpoint).toBe("https://x.example.com");
  });

  it("refuses a bucket name S3 would refuse", () => {
    expect(configError(["--bucket", "Bad_Bucket"], s3Env).message).toMatch(/--bucket/);
  });

  describe("a missing setting is a ConfigError naming every place it can come from", () => {
    it("bucket", () => {
      const message = configError([], { ...s3Env, R2_BUCKET: undefined }).message;
      for (const place of ["--bucket", "R2_BUCKET", "R2_BUCKET_NAME", "--local"]) expect(message).toContain(place);
    });
    it("endpoint", () => {
      const message = configError([], { ...s3Env, R2_ENDPOINT_URL: undefined }).message;
      for (const place of ["--endpoint", "R2_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL", "R2_ACCOUNT_ID"]) {
        expect(message).toContain(place);
      }
    });
    it("access key", () => {
      const message = configError([], { ...s3Env, R2_ACCESS_KEY_ID: undefined }).message;
      for (const place of ["R2_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"]) expect(message).toContain(place);
    });
    it("secret key", () => {
      const message = configError([], { ...s3Env, R2_SECRET_ACCESS_KEY: undefined }).message;
      for (const place of ["R2_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"]) expect(message).toContain(place);
    });
  });

  it("never puts the secret in any error message", () => {
    const broken: [string[], NodeJS.ProcessEnv][] = [
      [[], { R2_SECRET_ACCESS_KEY: SECRET }],
      [[], { ...s3Env, R2_ACCESS_KEY_ID: undefined }],
      [["--region", "Not A Region"], s3Env],
      [["--log-level", "chatty"], s3Env],
      [["--max-attempts", "0"], s3Env],
      [["--unknown-flag"], s3Env],
      [["--local", "dir", "--bucket", "b"], s3Env],
      [[], { ...s3Env, R2_MCP_READ_ONLY: "perhaps" }],
      [[], { ...s3Env, R2_ENDPOINT_URL: `https://user:${SECRET}@host.example.com` }],
      [[], { ...s3Env, R2_ENDPOINT_URL: `::${SECRET}` }],
    ];
    for (const [argv, env] of broken) configError(argv, env); // configError checks the message
  });
});

describe("resolveConfig: local backend", () => {
  it("--local DIR needs no account and resolves DIR against the working directory", () => {
    expect(serve(["--local", "data"], {}).backend).toEqual({ kind: "local", dir: path.join(cwd, "data") });
    expect(serve(["--local", "/abs/store"], {}).backend).toEqual({ kind: "local", dir: path.resolve("/abs/store") });
    expect(serve([], { R2_MCP_LOCAL_DIR: "env-store" }).backend).toEqual({ kind: "local", dir: path.join(cwd, "env-store") });
    expect(serve(["--local", "flag-store"], { R2_MCP_LOCAL_DIR: "env-store" }).backend).toEqual({
      kind: "local",
      dir: path.join(cwd, "flag-store"),
    });
  });

  it("--local with --bucket or --endpoint is an error", () => {
    expect(configError(["--local", "d", "--bucket", "my-bucket"], {}).message).toMatch(/--local.*--bucket/);
    expect(configError(["--local", "d", "--endpoint", "https://x.example.com"], {}).message).toMatch(/--endpoint/);
    expect(configError(["--local", ""], {}).message).toMatch(/--local/);
  });
});

describe("resolveConfig: the other settings", () => {
  it("--help and --version (long and short) win over everything, even a broken configuration", () => {
    expect(resolveConfig(["--help"], {}, cwd)).toEqual({ action: "help" });
    expect(resolveConfig(["-h"], {}, cwd)).toEqual({ action: "help" });
    expect(resolveConfig(["--version"], {}, cwd)).toEqual({ action: "version" });
    expect(resolveConfig(["-v"], {}, cwd)).toEqual({ action: "version" });
    expect(resolveConfig(["--local", "d", "--bucket", "b", "--help"], {}, cwd)).toEqual({ action: "help" });
  });

  it("an unknown flag or a positional argument is an error pointing at --help", () => {
    const unknown = configError(["--bucket", "b", "--frobnicate"], s3Env);
    expect(unknown.message).toMatch(/--frobnicate/);
    expect(unknown.message).toMatch(/--help/);
    expect(configError(["stray"], s3Env).message).toMatch(/--help/);
    expect(configError(["--bucket"], s3Env).message).toMatch(/--bucket/);
  });

  it("roots: the working directory by default; --root repeatable; R2_MCP_ROOTS; flags win", () => {
    expect(serve([])).toMatchObject({ roots: [cwd], rootsExplicit: false });
    expect(serve(["--root", "a", "--root", "/b"])).toMatchObject({
      roots: [path.join(cwd, "a"), path.resolve("/b")],
      rootsExplicit: true,
    });
    const envRoots = ["/data/x", "rel"].join(path.delimiter);
    expect(serve([], { ...s3Env, R2_MCP_ROOTS: envRoots })).toMatchObject({
      roots: [path.resolve("/data/x"), path.join(cwd, "rel")],
      rootsExplicit: true,
    });
    expect(serve(["--root", "flag"], { ...s3Env, R2_MCP_ROOTS: envRoots }).roots).toEqual([path.join(cwd, "flag")]);
    expect(configError(["--root", ""], s3Env).message).toMatch(/--root/);
  });

  it("read-only: --read-only or R2_MCP_READ_ONLY=1/true; 0 is off; anything else is an error", () => {
    expect(serve([]).readOnly).toBe(false);
    expect(serve(["--read-only"]).readOnly).toBe(true);
    for (const value of ["1", "true", "TRUE", "yes"]) expect(serve([], { ...s3Env, R2_MCP_READ_ONLY: value }).readOnly).toBe(true);
    for (const value of ["0", "false", ""]) expect(serve([], { ...s3Env, R2_MCP_READ_ONLY: value }).readOnly).toBe(false);
    expect(configError([], { ...s3Env, R2_MCP_READ_ONLY: "perhaps" }).message).toMatch(/R2_MCP_READ_ONLY/);
  });

  it("--allow-prefix is repeatable; R2_MCP_ALLOW_PREFIXES is comma separated; default all keys", () => {
    expect(serve([]).allowPrefixes).toEqual([]);
    expect(serve(["--allow-prefix", "runs/", "--allow-prefix", "shared/"]).allowPrefixes).toEqual(["runs/", "shared/"]);
    expect(serve([], { ...s3Env, R2_MCP_ALLOW_PREFIXES: "a/,b/" }).allowPrefixes).toEqual(["a/", "b/"]);
    expect(serve(["--allow-prefix", "x/"], { ...s3Env, R2_MCP_ALLOW_PREFIXES: "a/" }).allowPrefixes).toEqual(["x/"]);
    expect(configError(["--allow-prefix", ""], s3Env).message).toMatch(/--allow-prefix/);
  });

  it("log level: default warning, --log-level / R2_MCP_LOG_LEVEL, a bad one is an error", () => {
    expect(serve([]).logLevel).toBe("warning");
    expect(serve(["--log-level", "debug"]).logLevel).toBe("debug");
    expect(serve([], { ...s3Env, R2_MCP_LOG_LEVEL: "error" }).logLevel).toBe("error");
    expect(serve(["--log-level", "info"], { ...s3Env, R2_MCP_LOG_LEVEL: "error" }).logLevel).toBe("info");
    const bad = configError(["--log-level", "verbose"], s3Env).message;
    expect(bad).toMatch(/verbose/);
    expect(bad).toMatch(/--log-level/);
    expect(bad).toMatch(/R2_MCP_LOG_LEVEL/);
  });

  it("max attempts: default 5, 1..20 integers, anything else is an error", () => {
    expect(serve([]).maxAttempts).toBe(5);
    expect(serve(["--max-attempts", "1"]).maxAttempts).toBe(1);
    expect(serve([], { ...s3Env, R2_MCP_MAX_ATTEMPTS: "20" }).maxAttempts).toBe(20);
    for (const bad of ["0", "21", "-1", "1.5", "abc", "", " "]) {
      const message = configError(["--max-attempts", bad], s3Env).message;
      expect(message).toMatch(/--max-attempts/);
    }
  });

  it("region names are checked", () => {
    expect(configError(["--region", "Not A Region"], s3Env).message).toMatch(/--region/);
  });
});
