import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Two cores: ORT sessions use both, so files run one at a time.
    fileParallelism: false,
    setupFiles: ["test/setup.ts"],
  },
});
