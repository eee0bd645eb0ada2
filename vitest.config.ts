import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own servers on 127.0.0.1 (port 0), so files can run in parallel.
    pool: "forks",
  },
});
