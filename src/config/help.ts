/** The text of r2-mcp --help: every flag with the environment variables that set it. */
export const HELP = `r2-mcp — MCP stdio server for Cloudflare R2 and any S3-compatible store (no silent overwrites)

Usage:
  r2-mcp --local DIR                      embedded local store: objects are files under DIR, no account
  r2-mcp --bucket NAME --endpoint URL     S3 / R2 (credentials from R2_ACCESS_KEY_ID, R2_SECRET_ACCESS_KEY)
  r2-mcp --config FILE                    several buckets, on other endpoints or accounts (JSON, see README)
  r2-mcp [options] [ROOT...]              local folders given last are roots, like --root

Options (flags win over environment):
  --bucket NAME         R2_BUCKET, R2_BUCKET_NAME (repeatable; the variables take a comma-separated list)
  --config FILE         R2_MCP_CONFIG (buckets with their own endpoint, credentials variables and policy)
  --endpoint URL        R2_ENDPOINT_URL, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, or R2_ACCOUNT_ID
  --region NAME         R2_REGION_NAME, AWS_REGION, AWS_DEFAULT_REGION (default: auto)
  --local DIR           R2_MCP_LOCAL_DIR (beside S3 buckets it is the bucket named "local")
  --root DIR            R2_MCP_ROOTS (repeatable; default: the working directory, unless it is /
                        or the home directory: then none); DIRs after the
                        options are roots too
  --read-only           R2_MCP_READ_ONLY=1 (every bucket read-only; no write tool is registered)
  --allow-prefix P      R2_MCP_ALLOW_PREFIXES (repeatable; narrows every bucket; default: all keys)
  --confirm MODE        R2_MCP_CONFIRM: ask the person before data is destroyed (a delete, an overwrite that
                        replaces): auto (when the client can ask; default), always (refuse when it
                        cannot), never
  --log-level LEVEL     R2_MCP_LOG_LEVEL (debug, info, notice, warning, error; default: warning)
  --max-attempts N      R2_MCP_MAX_ATTEMPTS (attempts per S3 request, 1-20; default: 5)
  -h, --help            print this help and exit
  -v, --version         print the version and exit

Credentials: R2_ACCESS_KEY_ID / R2_SECRET_ACCESS_KEY (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
`;
