/** resolveConfig: flags > environment > defaults, and every error names its setting. Pure. */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { type BucketConfig, type Config, ConfigError, resolveConfig } from "../../src/config/index.js";

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

function s3(argv: string[], env: NodeJS.ProcessEnv = s3Env): Extract<BucketConfig, { kind: "s3" }> {
  const backend = serve(argv, env).buckets[0];
  if (backend?.kind !== "s3") return expect.fail("expected the s3 backend");
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
    expect(config.buckets).toHaveLength(1);
    expect(config.buckets[0]).toEqual({
      name: "env-bucket",
      readOnly: false,
      allowPrefixes: [],
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
      confirm: "auto",
      maxAttempts: 5,
    });
  });

  it("--confirm (or R2_MCP_CONFIRM) is auto, always or never; anything else names both", () => {
    expect(serve(["--confirm", "always"]).confirm).toBe("always");
    expect(serve([], { ...s3Env, R2_MCP_CONFIRM: "never" }).confirm).toBe("never");
    expect(serve(["--confirm", "auto"], { ...s3Env, R2_MCP_CONFIRM: "never" }).confirm).toBe("auto");
    const err = configError(["--confirm", "sometimes"], s3Env);
    expect(err.message).toContain("--confirm");
    expect(err.message).toContain("R2_MCP_CONFIRM");
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
      name: "r2-bucket",
      readOnly: false,
      allowPrefixes: [],
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
    const local = (dir: string) => ({ name: "local", readOnly: false, allowPrefixes: [], kind: "local", dir });
    expect(serve(["--local", "data"], {}).buckets).toEqual([local(path.join(cwd, "data"))]);
    expect(serve(["--local", "/abs/store"], {}).buckets).toEqual([local(path.resolve("/abs/store"))]);
    expect(serve([], { R2_MCP_LOCAL_DIR: "env-store" }).buckets).toEqual([local(path.join(cwd, "env-store"))]);
    expect(serve(["--local", "flag-store"], { R2_MCP_LOCAL_DIR: "env-store" }).buckets).toEqual([local(path.join(cwd, "flag-store"))]);
  });

  it("--local beside --bucket serves both (the local store named local, last); --endpoint needs --bucket", () => {
    const both = serve(["--local", "d", "--bucket", "my-bucket"]);
    expect(both.buckets.map((b) => [b.name, b.kind])).toEqual([
      ["my-bucket", "s3"],
      ["local", "local"],
    ]);
    expect(configError(["--local", "d", "--endpoint", "https://x.example.com"], {}).message).toMatch(/--endpoint.*--bucket/);
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

  it("an unknown flag or a flag without its value is an error pointing at --help", () => {
    const unknown = configError(["--bucket", "b", "--frobnicate"], s3Env);
    expect(unknown.message).toMatch(/--frobnicate/);
    expect(unknown.message).toMatch(/--help/);
    expect(configError(["--bucket"], s3Env).message).toMatch(/--bucket/);
  });

  it("directories after the options are roots beside --root; blank ones (an unfilled host setting) are ignored", () => {
    expect(serve(["a", "/b"])).toMatchObject({ roots: [path.join(cwd, "a"), path.resolve("/b")], rootsExplicit: true });
    expect(serve(["--root", "r", "p"]).roots).toEqual([path.join(cwd, "r"), path.join(cwd, "p")]);
    expect(serve(["", "  "])).toMatchObject({ roots: [cwd], rootsExplicit: false });
  });

  it("the working directory is the default root unless it is / or the home directory itself", () => {
    const at = (dir: string, env: NodeJS.ProcessEnv) => {
      const action = resolveConfig([], { ...s3Env, ...env }, dir);
      if (action.action !== "serve") return expect.fail("expected serve");
      return action.config;
    };
    expect(at(cwd, { HOME: "/home/me" })).toMatchObject({ roots: [cwd], rootsExplicit: false });
    expect(at("/", { HOME: "/home/me" })).toMatchObject({ roots: [], rootsExplicit: false });
    expect(at("/home/me", { HOME: "/home/me/" })).toMatchObject({ roots: [], rootsExplicit: false });
    expect(at("/home/me/work", { HOME: "/home/me" }).roots).toEqual([path.resolve("/home/me/work")]);
    expect(at("/home", { HOME: "/home/me" }).roots).toEqual([path.resolve("/home")]);
    expect(resolveConfig(["--root", "/"], s3Env, "/")).toMatchObject({ config: { roots: [path.resolve("/")], rootsExplicit: true } });
  });

  it("a user_config placeholder a bundle host left unfilled counts as unset", () => {
    const unfilled = (key: string) => `\${user_config.${key}}`;
    const env = { ...s3Env, R2_BUCKET: unfilled("buckets"), R2_BUCKET_NAME: "second", R2_MCP_READ_ONLY: unfilled("read_only") };
    expect(s3([], env).bucket).toBe("second");
    expect(serve([], env).readOnly).toBe(false);
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

describe("resolveConfig: several buckets", () => {
  const labEnv = { ...s3Env, LAB_KEY_ID: "lab-id", LAB_SECRET: "lab-secret-value" };
  const files = new Map<string, string>();
  const withFile = (argv: string[], content: unknown, env: NodeJS.ProcessEnv = labEnv) => {
    const file = path.join(cwd, "r2-mcp.json");
    files.set(file, typeof content === "string" ? content : JSON.stringify(content));
    return resolveConfig(["--config", "r2-mcp.json", ...argv], env, cwd, (f) => {
      const text = files.get(f);
      if (text === undefined) throw Object.assign(new Error("missing"), { code: "ENOENT" });
      return text;
    });
  };
  const served = (action: ReturnType<typeof resolveConfig>): Config => {
    if (action.action !== "serve") return expect.fail("expected serve");
    return action.config;
  };
  const fileError = (content: unknown, env: NodeJS.ProcessEnv = labEnv): string => {
    try {
      withFile([], content, env);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const message = (err as Error).message;
      expect(message).not.toContain("lab-secret-value");
      expect(message).not.toContain(SECRET);
      return message;
    }
    return expect.fail("expected a ConfigError");
  };

  it("--bucket is repeatable and R2_BUCKET takes a comma-separated list, all on the one endpoint", () => {
    expect(serve(["--bucket", "one", "--bucket", "two"]).buckets.map((b) => b.name)).toEqual(["one", "two"]);
    const fromEnv = serve([], { ...s3Env, R2_BUCKET: "alpha, beta" }).buckets;
    expect(fromEnv.map((b) => b.name)).toEqual(["alpha", "beta"]);
    expect(fromEnv.every((b) => b.kind === "s3" && b.endpoint === "https://env.example.com")).toBe(true);
  });

  it("a config file adds buckets on other endpoints and accounts, with their own policy, before --bucket and --local", () => {
    const config = served(
      withFile(["--bucket", "scratch-bucket", "--local", "store"], {
        buckets: [
          {
            name: "lab",
            bucket: "lab-data",
            account_id: "abc123",
            access_key_id_env: "LAB_KEY_ID",
            secret_access_key_env: "LAB_SECRET",
            read_only: true,
            allow_prefixes: ["datasets/"],
          },
          { name: "archive", local: "archive-dir" },
        ],
      }),
    );
    expect(config.buckets.map((b) => b.name)).toEqual(["lab", "archive", "scratch-bucket", "local"]);
    expect(config.buckets[0]).toEqual({
      name: "lab",
      kind: "s3",
      bucket: "lab-data",
      endpoint: "https://abc123.r2.cloudflarestorage.com",
      region: "auto",
      accessKeyId: "lab-id",
      secretAccessKey: "lab-secret-value",
      readOnly: true,
      allowPrefixes: ["datasets/"],
    });
    expect(config.buckets[1]).toMatchObject({ kind: "local", dir: path.join(cwd, "archive-dir"), readOnly: false });
    expect(config.buckets[2]).toMatchObject({ kind: "s3", accessKeyId: ACCESS, endpoint: "https://env.example.com" });
  });

  it("server-wide --read-only and --allow-prefix narrow every bucket, never widen one", () => {
    const content = { buckets: [{ name: "lab", bucket: "lab-data", allow_prefixes: ["datasets/", "shared/"] }] };
    const narrowed = served(withFile(["--read-only", "--allow-prefix", "datasets/mnist/"], content)).buckets[0];
    expect(narrowed).toMatchObject({ readOnly: true, allowPrefixes: ["datasets/mnist/"] });
    const wider = served(withFile(["--allow-prefix", "data"], content)).buckets[0];
    expect(wider?.allowPrefixes).toEqual(["datasets/"]);
    expect(() => withFile(["--allow-prefix", "other/"], content)).toThrow(/no key in common/);
  });

  it("refuses a file that holds a secret, naming the setting and what to do instead", () => {
    for (const key of ["secret_access_key", "access_key_id", "password", "session_token"]) {
      const message = fileError({ buckets: [{ name: "lab", bucket: "lab-data", [key]: "lab-secret-value" }] });
      expect(message).toContain(key);
      expect(message).toMatch(/environment variables/);
    }
  });

  it("refuses malformed files and entries with one clear line each", () => {
    expect(fileError("{not json")).toMatch(/not valid JSON/);
    expect(fileError({ bucket: [] })).toMatch(/"buckets" array/);
    expect(fileError({ buckets: [{ bucket: "lab-data" }] })).toMatch(/needs a "name"/);
    expect(fileError({ buckets: [{ name: "Lab!", bucket: "lab-data" }] })).toMatch(/must be 1-63/);
    expect(fileError({ buckets: [{ name: "lab" }] })).toMatch(/"bucket" .* or "local"/);
    expect(fileError({ buckets: [{ name: "lab", bucket: "lab-data", colour: "red" }] })).toMatch(/unknown setting "colour"/);
    expect(fileError({ buckets: [{ name: "lab", local: "d", region: "auto" }] })).toMatch(/only to S3 buckets/);
    expect(fileError({ buckets: [{ name: "lab", bucket: "lab-data", access_key_id_env: "LAB_KEY_ID" }] })).toMatch(/give both/);
    expect(
      fileError({ buckets: [{ name: "lab", bucket: "lab-data", access_key_id_env: "NOPE", secret_access_key_env: "LAB_SECRET" }] }),
    ).toMatch(/NOPE .*is not set/);
    expect(
      fileError({
        buckets: [
          { name: "lab", local: "a" },
          { name: "lab", local: "b" },
        ],
      }),
    ).toMatch(/two buckets are named "lab"/);
    expect(fileError({ buckets: [{ name: "lab", bucket: "lab-data", read_only: "yes" }] })).toMatch(/read_only must be true or false/);
    expect(() =>
      resolveConfig(["--config", "missing.json"], s3Env, cwd, () => {
        throw Object.assign(new Error("no"), { code: "ENOENT" });
      }),
    ).toThrow(/--config .*missing\.json cannot be read \(ENOENT\)/);
  });
});
