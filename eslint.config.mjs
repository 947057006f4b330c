// n8n's community-node lint stack (the same rules `n8n-node lint` applies), in its "without n8n Cloud" variant.
//
// Why not the strict Cloud variant: the product owner chose @azure/msal-node for the OAuth client-credentials
// exchange. msal-node is a runtime dependency and reads environment variables internally, which n8n Cloud and
// the verified-community-node scanner forbid (no runtime dependencies, only allow-listed imports, no
// `process`/timers). The Cloud-only rules `no-restricted-imports` / `no-restricted-globals` are therefore not
// part of this variant, and the two rules below are switched off for the same reason. Everything else applies.
import { n8nCommunityNodesPlugin } from '@n8n/eslint-plugin-community-nodes';
import { configWithoutCloudSupport } from '@n8n/node-cli/eslint';

// Pure modules (no n8n node context by design: they are unit/property-tested on their own and shared with the
// credential) throw their own typed errors; the transport turns every one of them into a NodeOperationError or
// NodeApiError with the item index at the boundary (backend/index.ts, transport/request.ts, backend/mde.ts).
const pureModules = [
	'nodes/MicrosoftDefenderForEndpoint/core/*.ts',
	'nodes/MicrosoftDefenderForEndpoint/transport/tokens.ts',
	'nodes/MicrosoftDefenderForEndpoint/transport/pacer.ts',
	'nodes/MicrosoftDefenderForEndpoint/helpers/timestamps.ts',
	'nodes/MicrosoftDefenderForEndpoint/trigger/poller.ts',
	'nodes/MicrosoftDefenderForEndpoint/trigger/*.pure.ts',
];

export default [
	...configWithoutCloudSupport,
	{ ignores: ['dist/**', 'node_modules/**', '.cache/**', '.n8n-e2e/**', 'artifacts/**', 'coverage/**', '**/*.js', '**/*.mjs'] },
	{
		files: ['package.json'],
		rules: {
			// msal-node must be installed with the package (n8n installs community packages' runtime dependencies).
			'@n8n/community-nodes/no-runtime-dependencies': 'off',
		},
	},
	{
		// Tests, the emulator, benchmarks and scripts are not shipped and are not community nodes: n8n's
		// node-package rules (spawning processes, raw errors, tool usage of test-only nodes…) do not apply to them.
		files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts', 'demo/**/*.ts', 'dev/**/*.ts'],
		rules: {
			...Object.fromEntries(Object.keys(n8nCommunityNodesPlugin.rules).map((rule) => [`@n8n/community-nodes/${rule}`, 'off'])),
			'no-console': 'off',
			'@typescript-eslint/no-explicit-any': 'off',
			'@typescript-eslint/no-non-null-assertion': 'off',
		},
	},
	{ files: pureModules, rules: { '@n8n/community-nodes/require-node-api-error': 'off' } },
];
