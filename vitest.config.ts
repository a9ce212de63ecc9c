import { defineConfig } from 'vitest/config'

// Workspace packages export their build (dist/) to Node; under vitest they resolve to their
// TypeScript sources through the `@ringside/source` export condition, so a test always runs the
// code as it is now, built or not (ARCHITECTURE.md, "Packaging").
const conditions = ['@ringside/source']

// One run over every package's tests and the cross-package suites in tests/.
export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    include: ['packages/*/test/**/*.test.ts', 'apps/*/test/**/*.test.ts', 'tests/**/*.test.ts'],
    // Worker-thread and SQLite tests are real and sometimes slow on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    fileParallelism: true,
    maxWorkers: 2,
  },
})
