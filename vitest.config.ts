// Test runner config. pool 'forks' with isolation: every test file runs in its own process,
// because DPDK's EAL initialises once per process.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    isolate: true,
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // The JSON report lets .ci/run print a plain 'N passed, N failed' line.
    reporters: ['default', ['json', { outputFile: 'build/test-results.json' }]],
    // PALLAS_COVERAGE=1 (CI): line coverage of the TypeScript, as a figure (not a gate). Code run in
    // child processes (the CLI, agents) is not counted.
    coverage: {
      enabled: process.env.PALLAS_COVERAGE === '1',
      provider: 'v8',
      include: ['lib/**/*.ts', 'bench/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'build/coverage/ts',
    },
  },
});
