/**
 * End-to-end tests against a real n8n process (scripts/e2e.sh prepares n8n, Chromium, certificates and the build).
 * Run: npm run test:e2e   (or, prepared: npx jest -c test/e2e/jest.e2e.config.js --runInBand)
 * @type {import('jest').Config}
 */
const { join } = require('node:path');

module.exports = {
	rootDir: join(__dirname, '..', '..'),
	testEnvironment: 'node',
	roots: ['<rootDir>/test/e2e'],
	testMatch: ['**/*.e2e.ts'],
	transform: {
		'^.+\\.ts$': ['ts-jest', { diagnostics: false, tsconfig: '<rootDir>/tsconfig.json' }],
	},
	moduleFileExtensions: ['ts', 'js', 'json'],
	testTimeout: 15 * 60 * 1000,
	maxWorkers: 1,
	verbose: true,
	// n8n children are ended in afterAll; this only guards against a hung handle keeping jest alive.
	forceExit: true,
};
