/** Jest runs TypeScript through ts-jest (transpile only: `npm run typecheck` type-checks). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  // Middy 7 is ESM-only and its `exports` only has an `import` condition.
  moduleNameMapper: { '^@middy/([a-z-]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  transform: { '^.+\\.[tj]sx?$': ['ts-jest', { tsconfig: { allowJs: true } }] },
  transformIgnorePatterns: ['/node_modules/(?!@middy/)'],
  // The service's logs are kept and checked for secrets, not printed (LOG_TESTS=1 prints them).
  setupFiles: ['<rootDir>/test/setup/env.ts'],
  setupFilesAfterEnv: ['<rootDir>/test/setup/logs.ts', '<rootDir>/test/setup/processes.ts'],
  // Nothing the tests start may outlive the run: a marker every process the suite starts
  // inherits, and a check after the run that none carrying it still runs (test/helpers/processes.ts).
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 20000,
  // Two workers on this machine's two cores (the default keeps one for itself): the slow files
  // (end to end, the fault matrix) wait mostly on child processes and timers.
  maxWorkers: 2,
};
