/** Unit tests need no I/O; integration and end-to-end tests share one broker and one store per run. */
const shared = {
  rootDir: __dirname,
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  // Tests run the TypeScript sources of the workspace packages, not their build output.
  moduleNameMapper: { '^@wxp/([a-z-]+)$': '<rootDir>/packages/$1/src' },
  testPathIgnorePatterns: ['/node_modules/', '/dist/', '/.data/', '/.cache/'],
};

module.exports = {
  // Per-project testTimeout is not honoured; integration tests need the room, unit tests never use it.
  testTimeout: 60000,
  // On two cores every file runs in the one jest process: a handle some test leaves open would keep
  // the run alive after its result is known, up to CI's limit. Jest says so when it forces the exit.
  // (The one found so far was a consumer that failed to subscribe and kept its connections.)
  forceExit: true,
  reporters: ['default', '<rootDir>/test/infra/summary-reporter.cjs'],
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/**/test/**/*.unit.test.ts'] },
    {
      ...shared,
      displayName: 'integration',
      testMatch: ['<rootDir>/**/test/**/*.int.test.ts', '<rootDir>/**/test/**/*.e2e.test.ts'],
      globalSetup: '<rootDir>/test/infra/global-setup.cjs',
      globalTeardown: '<rootDir>/test/infra/global-teardown.cjs',
    },
  ],
};
