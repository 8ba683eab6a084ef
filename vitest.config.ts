import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/yaml-loaded.ts'],
    // Safety nets, not expectations: tests wait on events (a line, a file, an exit), and on a loaded machine
    // (two busy processes beside the suite on two cores) a store setup or 50 concurrent clients took over 60 s.
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // Two cores: tests spawn git and node processes of their own.
    maxWorkers: 2,
  },
});
