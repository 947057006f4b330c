/**
 * The package installs the way n8n installs community packages (npm pack → extract → npm install of its runtime
 * dependencies), a real n8n 2.41.1 starts with it, serves both node types and the credential type to the editor,
 * serves the icons, and logs no warning or error about the package.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
	builtInOnlyWorkflow,
	createInstance,
	CREDENTIAL_DISPLAY_NAME,
	CREDENTIAL_TYPE,
	disposeInstance,
	execute,
	importWorkflow,
	installPackage,
	listCredentialTypes,
	listNodeTypes,
	login,
	logProblems,
	NODE_DISPLAY_NAME,
	NODE_TYPE,
	nodeItems,
	packTarball,
	PACKAGE_NAME,
	start,
	TRIGGER_DISPLAY_NAME,
	TRIGGER_TYPE,
	type N8nInstance,
} from './lib';

describe('community package load in a real n8n', () => {
	let n8n: N8nInstance;

	beforeAll(async () => {
		const tgz = await packTarball();
		n8n = await createInstance({ name: 'load' });
		const installed = await installPackage(n8n, tgz);
		console.log(`[e2e] installed ${PACKAGE_NAME}@${installed.version} in ${installed.durationMs} ms`);
		await start(n8n);
		console.log(`[e2e] n8n start → healthy in ${n8n.server?.startupMs} ms`);
		await login(n8n);
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
	});

	it('is installed under .n8n/nodes/node_modules with its runtime dependencies and without dev/peer deps', () => {
		const dir = join(n8n.n8nFolder, 'nodes', 'node_modules', PACKAGE_NAME);
		expect(existsSync(join(dir, 'dist', 'index.js')) || existsSync(join(dir, 'package.json'))).toBe(true);
		const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
		expect(pkg.devDependencies).toBeUndefined();
		expect(pkg.peerDependencies).toBeUndefined();
		for (const dep of Object.keys((pkg.dependencies as Record<string, string>) ?? {})) {
			expect(existsSync(join(dir, 'node_modules', dep, 'package.json'))).toBe(true);
		}
	});

	it('serves both node types under the community package name', async () => {
		const types = await listNodeTypes(n8n);
		const action = types.find((t) => t.name === NODE_TYPE);
		const trigger = types.find((t) => t.name === TRIGGER_TYPE);
		expect(action?.displayName).toBe(NODE_DISPLAY_NAME);
		expect(trigger?.displayName).toBe(TRIGGER_DISPLAY_NAME);
		expect(types.some((t) => t.name.startsWith('CUSTOM.'))).toBe(false);
		// The action node's parameters the editor shows first.
		const names = (action?.properties ?? []).map((p) => p.name);
		expect(names).toEqual(expect.arrayContaining(['resource', 'operation', 'region']));
		// Polling trigger: the loader injected pollTimes.
		expect((trigger?.properties ?? []).map((p) => p.name)).toContain('pollTimes');
		expect(trigger?.polling).toBe(true);
	});

	it('serves the node icons as SVG', async () => {
		const types = await listNodeTypes(n8n);
		const action = types.find((t) => t.name === NODE_TYPE);
		const iconUrl = action?.iconUrl;
		const urls = typeof iconUrl === 'string' ? [iconUrl] : [iconUrl?.light, iconUrl?.dark];
		expect(urls.filter(Boolean).length).toBeGreaterThan(0);
		for (const url of urls.filter((u): u is string => typeof u === 'string')) {
			const response = await fetch(`${n8n.baseUrl}/${url}`, { headers: { cookie: n8n.session!.cookie, 'browser-id': n8n.session!.browserId } });
			expect(response.status).toBe(200);
			expect(await response.text()).toMatch(/<svg[\s>]/);
		}
	});

	it('serves the credential type with its fields', async () => {
		const credentialTypes = await listCredentialTypes(n8n);
		const credential = credentialTypes.find((c) => c.name === CREDENTIAL_TYPE);
		expect(credential?.displayName).toBe(CREDENTIAL_DISPLAY_NAME);
		expect(credential?.properties.map((p) => p.name)).toEqual(
			expect.arrayContaining(['cloud', 'tenantId', 'clientId', 'clientSecret', 'authorityHost', 'apiBaseUrl', 'scope', 'accessToken']),
		);
	});

	it('logs no warning or error that mentions the package', () => {
		const problems = logProblems(n8n);
		expect(problems.map((p) => `${p.level}: ${p.message.slice(0, 300)}`)).toEqual([]);
		// Also nothing about failing to load any community package at all.
		const loadFailures = logProblems(n8n, /community package|Failed to load|could not be loaded|n8nNodesApiVersion/i);
		expect(loadFailures.map((p) => `${p.level}: ${p.message.slice(0, 300)}`)).toEqual([]);
	});

	it('still runs workflows from the CLI next to the running server (n8n execute)', async () => {
		const id = await importWorkflow(n8n, builtInOnlyWorkflow());
		const result = await execute(n8n, id);
		console.log(`[e2e] n8n execute took ${result.durationMs} ms (exit ${result.exitCode ?? result.signal})`);
		expect(result.ok).toBe(true);
		expect(nodeItems(result.run, 'No Operation')).toEqual([{}]);
	});
});
