import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Each file starts its own servers on 127.0.0.1 (port 0), so files can run in parallel. Most of
    // a file's time is spent waiting on the processes it starts, so two files run at once even on a
    // 2-core machine (vitest's default there is one).
    pool: "forks",
    maxWorkers: 2,
  },
});
