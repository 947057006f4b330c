/**
 * Where `npm run dev` keeps things, and the two JSON files it shares with `npm run dev:alerts` and the e2e test:
 *   <DEV_DIR>/dev-settings.json  kept across runs: encryption key, API key, which workflow files were imported
 *   <DEV_DIR>/dev-state.json     while it runs: editor URL, login, emulator, workflow IDs, process IDs
 * DEV_DIR defaults to .cache/n8n-dev (gitignored); it is also n8n's N8N_USER_FOLDER, so n8n's own data (database,
 * installed package, logs) lives in <DEV_DIR>/.n8n and <DEV_DIR>/logs.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { REPO_ROOT } from '../test/e2e/lib/paths';

export const DEV_DIR = resolve(process.env.DEV_DIR ?? join(REPO_ROOT, '.cache', 'n8n-dev'));
export const SETTINGS_FILE = join(DEV_DIR, 'dev-settings.json');
export const STATE_FILE = join(DEV_DIR, 'dev-state.json');

/** The editor login npm run dev creates (a local, loopback-only n8n). */
export const DEV_OWNER = { email: 'dev@example.com', password: 'Dev-Passw0rd!', firstName: 'Dev', lastName: 'Owner' };

/** The credential every imported workflow uses: the example's ID and name, pointed at the emulator. */
export const DEV_CREDENTIAL = { id: 'mdeMsspCredential', name: 'Defender (MSSP app)' };

/** Folders whose workflow files (*.workflow.json) are imported; a file with `"active": true` is published. */
export const WORKFLOW_DIRS = [join(REPO_ROOT, 'examples'), join(REPO_ROOT, 'dev', 'workflows')];

export interface DevSettings {
	encryptionKey: string;
	apiKey?: string;
	/** Imported workflow files (path relative to the repo) → workflow ID and the file's SHA-256 at import. */
	imported: Record<string, { id: string; sha256: string }>;
}

export interface DevState {
	startedAt: string;
	n8nVersion: string;
	editorUrl: string;
	owner: { email: string; password: string };
	apiKey: string;
	emulator: { url: string; caPath: string; controlUrl: string; tenants: Array<{ id: string; name: string; domain: string }> };
	workflows: Array<{ id: string; name: string; file: string; active: boolean }>;
	/** Process IDs (each the leader of its own process group, except `dev`). */
	pids: { dev: number; n8n?: number; emulator?: number; compiler?: number };
	/** n8n's JSON log, and its console output of this run. */
	logFile: string;
	consoleLogFile: string;
}

export function readJson<T>(file: string): T | undefined {
	if (!existsSync(file)) return undefined;
	return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/** Writes through a temp file, so a reader never sees half a file. */
export function writeJson(file: string, value: unknown): void {
	writeFileSync(`${file}.tmp`, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
	renameSync(`${file}.tmp`, file);
}

/** The running dev instance, or a one-line explanation of why there is none. */
export function readState(): DevState {
	const state = readJson<DevState>(STATE_FILE);
	if (!state) throw new Error(`npm run dev is not running (no ${STATE_FILE}); start it first: npm run dev`);
	return state;
}
