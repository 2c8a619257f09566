import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no privileges; `privileged` loads BPF and builds
// network namespaces (root, CI=true makes a missing capability a failure).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'privileged',
          include: ['test/bpf/**/*.test.ts', 'test/netns/**/*.test.ts'],
          environment: 'node',
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          pool: 'forks',
        },
      },
    ],
  },
});
