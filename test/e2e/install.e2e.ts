/**
 * The README's install routes (README → Install in n8n), run as written:
 *   1. From a tarball: the README's shell block, verbatim, in a copy of this checkout (`npm ci && npm run build &&
 *      npm pack`, then `mkdir -p ~/.n8n/nodes`, `npm install --prefix ~/.n8n/nodes --omit=peer /path/to/<tgz>` with
 *      HOME pointing at a temporary folder and /path/to/ at the copy); then a real n8n 2.41.1 started on that
 *      folder (the "restart n8n") serves the node types, tests the credential and runs an operation.
 *   2. n8n in Docker (there is no Docker here): docker-compose.yml parses and says what the README says, the
 *      Dockerfile pins n8nio/n8n:2.41.1 and copies the tarball `npm pack --pack-destination docker` writes, and its
 *      install steps, run with /home/node and /opt mapped to a temporary folder, give an n8n 2.41.1 that loads the
 *      nodes. The README's upgrade command is the Dockerfile's own install command.
 * The tool variant of the action node is checked with N8N_COMMUNITY_PACKAGES_ALLOW_TOOL_USAGE unset.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
	commandLines,
	copyCheckout,
	createInstance,
	CREDENTIAL_TYPE,
	defenderNode,
	disposeInstance,
	emulatorCredential,
	execute,
	importCredentials,
	importWorkflow,
	listCredentialTypes,
	listNodeTypes,
	login,
	logProblems,
	manualWorkflow,
	N8N_VERSION,
	NODE_TYPE,
	nodeItems,
	PACKAGE_NAME,
	readmeSection,
	REPO_ROOT,
	runProcess,
	shellBlocks,
	start,
	startEmulatorProcess,
	tail,
	testCredential,
	TRIGGER_TYPE,
	type EmulatorProcess,
	type N8nInstance,
} from './lib';

const TOOL_TYPE = `${PACKAGE_NAME}.microsoftDefenderForEndpointTool`;
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { name: string; version: string };
const TGZ = `${pkg.name}-${pkg.version}.tgz`;

/** npm with the machine's own cache and user config, whatever HOME the README's commands run with. */
const npmEnv = (home: string): NodeJS.ProcessEnv => ({
	...process.env,
	HOME: home,
	npm_config_cache: process.env.npm_config_cache ?? join(homedir(), '.npm'),
	npm_config_userconfig: process.env.npm_config_userconfig ?? join(homedir(), '.npmrc'),
	npm_config_update_notifier: 'false',
});

async function bash(script: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<number> {
	const result = await runProcess('bash', ['-euo', 'pipefail', '-c', script], { cwd, env, timeoutMs });
	if (result.code !== 0) {
		throw new Error(`README commands failed (exit ${result.code ?? result.signal})\n${script}\n--- stdout\n${tail(result.stdout, 30)}\n--- stderr\n${tail(result.stderr, 30)}`);
	}
	return result.durationMs;
}

/** Starts n8n 2.41.1 on a user folder and returns the node and credential types it serves. */
async function startOn(name: string, userFolder: string): Promise<{ n8n: N8nInstance; nodes: string[]; credentials: string[] }> {
	const n8n = await createInstance({ name, userFolder, env: { HOME: userFolder, N8N_COMMUNITY_PACKAGES_ALLOW_TOOL_USAGE: undefined } });
	expect(n8n.env.N8N_COMMUNITY_PACKAGES_ALLOW_TOOL_USAGE).toBeUndefined();
	await start(n8n);
	await login(n8n);
	const nodes = (await listNodeTypes(n8n)).map((t) => t.name);
	const credentials = (await listCredentialTypes(n8n)).map((t) => t.name);
	return { n8n, nodes, credentials };
}

function installedPackages(nodesDir: string): string[] {
	const root = join(nodesDir, 'node_modules');
	return readdirSync(root).flatMap((entry) => (entry.startsWith('@') ? readdirSync(join(root, entry)).map((sub) => `${entry}/${sub}`) : entry.startsWith('.') ? [] : [entry]));
}

/** The checkout's package.json and lockfile, to prove the README's npm commands never touched them. */
const checkoutFingerprint = (): string =>
	['package.json', 'package-lock.json'].map((f) => createHash('sha256').update(readFileSync(join(REPO_ROOT, f))).digest('hex')).join(' ');

describe('the README install routes', () => {
	let clone: string;
	const instances: N8nInstance[] = [];
	let emulator: EmulatorProcess | undefined;
	const fingerprint = checkoutFingerprint();
	const temps: string[] = [];

	beforeAll(() => {
		// A copy of the checkout with no node_modules: `npm ci` really installs.
		clone = copyCheckout(mkdtempSync(join(tmpdir(), 'mde-install-clone-')));
	});

	afterAll(async () => {
		for (const n8n of instances) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
		if (process.env.E2E_KEEP !== '1') for (const dir of [clone, ...temps]) if (dir) rmSync(dir, { recursive: true, force: true });
	});

	afterEach(() => {
		// npm installs into the nearest folder with a package.json above the current one unless told where
		// (--prefix): make sure nothing here ever installed into the checkout.
		expect(checkoutFingerprint()).toBe(fingerprint);
	});

	it('from a tarball: the README block in a clone, then n8n loads the nodes from ~/.n8n/nodes and runs them', async () => {
		const section = readmeSection('### From a tarball (self-hosted n8n)');
		const [block] = shellBlocks(section);
		expect(commandLines(block)).toEqual(['npm ci && npm run build && npm pack', 'mkdir -p ~/.n8n/nodes', `npm install --prefix ~/.n8n/nodes --omit=peer /path/to/${TGZ}`]);
		expect(section).toMatch(/restart n8n/i);

		const home = mkdtempSync(join(tmpdir(), 'mde-install-home-'));
		temps.push(home);
		const took = await bash(block.replaceAll('/path/to/', `${clone}/`), clone, npmEnv(home), 20 * 60_000);
		console.log(`[e2e] README tarball commands (npm ci, build, pack, install into ~/.n8n/nodes) took ${took} ms`);
		expect(existsSync(join(clone, TGZ))).toBe(true);
		const nodesDir = join(home, '.n8n', 'nodes');
		const installed = installedPackages(nodesDir);
		expect(installed).toEqual(expect.arrayContaining([PACKAGE_NAME, '@azure/msal-node']));
		// --omit=peer: n8n's own n8n-workflow is used, no second copy.
		expect(installed).not.toContain('n8n-workflow');
		console.log(`[e2e] ${installed.length} packages in ~/.n8n/nodes/node_modules`);

		const { n8n, nodes, credentials } = await startOn('install-tarball', home);
		instances.push(n8n);
		expect(nodes).toEqual(expect.arrayContaining([NODE_TYPE, TRIGGER_TYPE, TOOL_TYPE]));
		expect(credentials).toContain(CREDENTIAL_TYPE);

		// The installed package works: credential test and one operation against the emulator.
		emulator = await startEmulatorProcess({ noRateLimits: true });
		await importCredentials(n8n, [emulatorCredential(emulator.state)]);
		expect(await testCredential(n8n, 'mdeEmulatorCred1')).toMatchObject({ status: 'OK' });
		const id = await importWorkflow(n8n, manualWorkflow('install: get alerts', [defenderNode('Alerts', { resource: 'alert', operation: 'getAll', limit: 2 })]));
		const result = await execute(n8n, id);
		expect(result.errorMessage).toBeUndefined();
		expect(nodeItems(result.run, 'Alerts')).toHaveLength(2);
		expect(logProblems(n8n)).toEqual([]);
	});

	it('n8n in Docker: the compose file and the Dockerfile say what the README says, and the Dockerfile installs a package n8n loads', async () => {
		const section = readmeSection('### n8n in Docker');
		const [build, upgrade] = shellBlocks(section);
		const [packLine, upLine] = commandLines(build);
		expect(packLine).toBe('npm ci && npm run build && npm pack --pack-destination docker');
		expect(upLine).toBe('docker compose -f docker/docker-compose.yml up -d --build');

		// docker-compose.yml (YAML parsed with the `yaml` package already in node_modules).
		const composeText = readFileSync(join(clone, 'docker', 'docker-compose.yml'), 'utf8');
		const compose = parseYaml(composeText) as {
			services: Record<string, { build: { context: string; dockerfile: string }; ports: string[]; environment: string[]; volumes: string[] }>;
			volumes: Record<string, unknown>;
		};
		const service = compose.services.n8n;
		expect(service.build).toEqual({ context: '.', dockerfile: 'Dockerfile' });
		expect(service.ports).toEqual(['127.0.0.1:5678:5678']);
		expect(service.environment).toContain('N8N_COMMUNITY_PACKAGES_ALLOW_TOOL_USAGE=true');
		expect(service.volumes).toEqual(['n8n_data:/home/node/.n8n']);
		expect(Object.keys(compose.volumes)).toEqual(['n8n_data']);
		// The compose file's and the Dockerfile's own usage comments are the README's commands.
		const dockerfileText = readFileSync(join(clone, 'docker', 'Dockerfile'), 'utf8');
		for (const text of [composeText, dockerfileText]) {
			expect(text).toContain(`#   ${packLine}\n#   ${upLine}\n`);
		}

		// The Dockerfile, instruction by instruction.
		const instructions = dockerfileText
			.replace(/\\\n/g, ' ')
			.split('\n')
			.map((line) => line.trim())
			.filter((line) => line !== '' && !line.startsWith('#'))
			.map((line) => {
				const [op, ...rest] = line.split(/\s+/);
				return { op: op.toUpperCase(), args: rest.join(' ') };
			});
		expect(instructions.map((i) => i.op)).toEqual(['FROM', 'ARG', 'COPY', 'USER', 'RUN']);
		expect(instructions[0].args).toBe(`n8nio/n8n:${N8N_VERSION}`);
		expect(N8N_VERSION).toBe('2.41.1');
		expect(instructions[1].args).toBe(`PACKAGE_TGZ=${TGZ}`);
		expect(instructions[2].args).toBe('${PACKAGE_TGZ} /opt/n8n-nodes-defender-endpoint/');
		expect(instructions[3].args).toBe('node');
		const run = instructions[4].args;
		expect(run).toContain('npm install --prefix /home/node/.n8n/nodes --omit=peer');
		// The README's upgrade command runs the same install command inside the container.
		const upgradeLines = commandLines(upgrade);
		expect(upgradeLines).toEqual([
			`docker compose -f docker/docker-compose.yml run --rm --entrypoint sh n8n -c '${run.replace('${PACKAGE_TGZ}', TGZ)}'`,
			'docker compose -f docker/docker-compose.yml restart n8n',
		]);

		// The README's pack step writes the tarball into the build context (the first test built the clone).
		await bash(packLine.replace(/^npm ci && npm run build && /, ''), clone, npmEnv(homedir()), 120_000);
		expect(existsSync(join(clone, 'docker', TGZ))).toBe(true);

		// Build the image's file system the Dockerfile way: COPY, then RUN as the user node (HOME /home/node).
		const root = mkdtempSync(join(tmpdir(), 'mde-install-docker-'));
		temps.push(root);
		const mapPath = (text: string): string => text.replaceAll('/home/node', join(root, 'home', 'node')).replaceAll('/opt/', `${join(root, 'opt')}/`);
		const home = join(root, 'home', 'node');
		mkdirSync(join(home, '.n8n'), { recursive: true });
		mkdirSync(join(root, 'opt', 'n8n-nodes-defender-endpoint'), { recursive: true });
		copyFileSync(join(clone, 'docker', TGZ), join(root, 'opt', 'n8n-nodes-defender-endpoint', TGZ));
		const took = await bash(mapPath(run), home, { ...npmEnv(home), PACKAGE_TGZ: TGZ }, 240_000);
		console.log(`[e2e] the Dockerfile's RUN (install into /home/node/.n8n/nodes) took ${took} ms`);
		const installed = installedPackages(join(home, '.n8n', 'nodes'));
		expect(installed).toEqual(expect.arrayContaining([PACKAGE_NAME, '@azure/msal-node']));
		expect(installed).not.toContain('n8n-workflow');

		const { n8n, nodes, credentials } = await startOn('install-docker', home);
		instances.push(n8n);
		expect(nodes).toEqual(expect.arrayContaining([NODE_TYPE, TRIGGER_TYPE, TOOL_TYPE]));
		expect(credentials).toContain(CREDENTIAL_TYPE);
		expect(logProblems(n8n)).toEqual([]);
	});
});
