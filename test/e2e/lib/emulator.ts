/**
 * Runs the Defender + Entra HTTPS emulator (test/emulator/cli.ts) as its own process, the way the demo and the
 * e2e suite use it, and talks to its JSON control API (`<url>/_emulator/...`) with the test CA pinned explicitly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { E2E_WORK_DIR, node24Binary, REPO_ROOT, testCaPath } from './paths';
import { killGroup, tail, trackChild, waitFor } from './proc';
import { registerSentinel } from './secretScan';

export interface EmulatorTenant {
	id: string;
	domain: string;
	name: string;
	[key: string]: unknown;
}

/** The JSON the emulator CLI writes to --state-file (and prints as one line). */
export interface EmulatorState {
	url: string;
	proxyUrl?: string;
	caPath: string;
	controlUrl?: string;
	clientId: string;
	clientSecret: string;
	homeTenantId?: string;
	tenants: EmulatorTenant[];
	pid?: number;
	[key: string]: unknown;
}

export interface EmulatorProcess {
	state: EmulatorState;
	url: string;
	process: ChildProcess;
	stateFile: string;
	logFile: string;
	/** Calls the control API: `control('GET', '/requests')` → `<url>/_emulator/requests`. Throws on non-2xx. */
	control<T = unknown>(method: string, path: string, body?: unknown): Promise<T>;
	/** Any HTTPS request against the emulator (status + parsed body), trusting only the test CA. */
	request<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
	stop(): Promise<void>;
}

export interface StartEmulatorOptions {
	port?: number;
	proxyPort?: number;
	seedFile?: string;
	secret?: string;
	latencyMs?: number;
	noRateLimits?: boolean;
	extraArgs?: string[];
	timeoutMs?: number;
}

export async function startEmulatorProcess(options: StartEmulatorOptions = {}): Promise<EmulatorProcess> {
	mkdirSync(E2E_WORK_DIR, { recursive: true });
	const dir = mkdtempSync(join(E2E_WORK_DIR, 'emulator-'));
	const stateFile = join(dir, 'state.json');
	const logFile = join(dir, 'emulator.log');
	const args = ['--require', 'ts-node/register/transpile-only', join(REPO_ROOT, 'test', 'emulator', 'cli.ts'), '--state-file', stateFile];
	if (options.port !== undefined) args.push('--port', String(options.port));
	if (options.proxyPort !== undefined) args.push('--proxy-port', String(options.proxyPort));
	if (options.seedFile) args.push('--seed-file', options.seedFile);
	if (options.secret) args.push('--secret', options.secret);
	if (options.latencyMs !== undefined) args.push('--latency', String(options.latencyMs));
	if (options.noRateLimits) args.push('--no-rate-limits');
	args.push(...(options.extraArgs ?? []));
	const out = createWriteStream(logFile, { flags: 'a' });
	const child = spawn(node24Binary(), args, {
		cwd: REPO_ROOT,
		env: { ...process.env, TS_NODE_PROJECT: join(REPO_ROOT, 'tsconfig.json') },
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	trackChild(child);
	child.stdout.pipe(out);
	child.stderr.pipe(out);
	let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
	const exitedPromise = new Promise<void>((resolvePromise) =>
		child.on('close', (code, signal) => {
			exited = { code, signal };
			resolvePromise();
		}),
	);
	const readLog = (): string => (existsSync(logFile) ? tail(readFileSync(logFile, 'utf8'), 40) : '');
	let state: EmulatorState;
	try {
		state = await waitFor(
			() => {
				if (exited) throw new Error(`emulator exited early (${exited.code ?? exited.signal})`);
				if (!existsSync(stateFile)) return undefined;
				const parsed = JSON.parse(readFileSync(stateFile, 'utf8')) as EmulatorState;
				return parsed.url ? parsed : undefined;
			},
			{ timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 200, what: 'the emulator state file', describe: () => `--- ${logFile}\n${readLog()}` },
		);
	} catch (error) {
		killGroup(child, 'SIGKILL');
		throw error;
	}
	// The app's client secret must never reach an n8n database, log or output (checked when each instance is disposed).
	registerSentinel('the emulator app\'s client secret', state.clientSecret);
	const ca = readFileSync(existsSync(state.caPath) ? state.caPath : testCaPath());
	const httpsRequest = async <T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> =>
		await new Promise((resolvePromise, reject) => {
			const url = new URL(path, state.url);
			const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
			const req = request(
				url,
				{
					method,
					ca,
					headers: { accept: 'application/json', ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
					timeout: 30_000,
				},
				(res) => {
					let text = '';
					res.setEncoding('utf8');
					res.on('data', (chunk: string) => (text += chunk));
					res.on('end', () => {
						let parsed: unknown = text;
						try {
							parsed = text ? JSON.parse(text) : undefined;
						} catch {
							/* not JSON */
						}
						resolvePromise({ status: res.statusCode ?? 0, body: parsed as T });
					});
				},
			);
			req.on('timeout', () => req.destroy(new Error(`${method} ${url.href} timed out`)));
			req.on('error', reject);
			if (payload !== undefined) req.write(payload);
			req.end();
		});
	return {
		state,
		url: state.url,
		process: child,
		stateFile,
		logFile,
		request: httpsRequest,
		async control<T>(method: string, path: string, body?: unknown): Promise<T> {
			const response = await httpsRequest<T>(method, `/_emulator${path.startsWith('/') ? path : `/${path}`}`, body);
			if (response.status < 200 || response.status >= 300) {
				throw new Error(`emulator control ${method} ${path} -> HTTP ${response.status}: ${JSON.stringify(response.body).slice(0, 500)}`);
			}
			return response.body;
		},
		/** Stops the emulator; its folder (state file, log) is deleted unless E2E_KEEP=1. */
		async stop(): Promise<void> {
			if (!exited) {
				killGroup(child, 'SIGTERM');
				const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 10_000);
				await exitedPromise;
				clearTimeout(timer);
			}
			if (process.env.E2E_KEEP !== '1') rmSync(dir, { recursive: true, force: true });
		},
	};
}

/** A temp folder outside the repo, for seed files and the like. */
export function tempDir(prefix = 'mde-e2e-'): string {
	return mkdtempSync(join(tmpdir(), prefix));
}
