/**
 * jest with ts-jest. tsconfig's isolatedModules makes ts-jest transpile without type checking
 * (fast); `npm test` type-checks everything with tsc first. The tests synthesize with bundling
 * skipped (test/helpers.ts), so no cargo runs.
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }],
  },
  setupFilesAfterEnv: ['aws-cdk-lib/testhelpers/jest-autoclean'],
  // Synthesizing a stack takes a few seconds on 2 cores.
  testTimeout: 60000,
};
