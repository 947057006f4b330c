/**
 * A real n8n (2.41.1 by default) for end-to-end tests: throw-away instances, the community-package install the
 * way n8n does it, CLI import/execute/publish, `n8n start` with health checks, and the owner + API-key
 * provisioning that the public REST API needs.
 *
 * Typical use:
 *   const n8n = await createInstance({ name: 'ops' });
 *   await installPackage(n8n, await packTarball());
 *   await importCredentials(n8n, [{ id: 'cred1', name: 'MDE', type: 'microsoftDefenderForEndpointApi', data }]);
 *   const wfId = await importWorkflow(n8n, manualWorkflow('get', [defenderNode('Get alert', { resource: 'alert', operation: 'get', ... })]));
 *   const result = await execute(n8n, wfId);               // CLI `n8n execute`, no server needed
 *   nodeItems(result.run, 'Get alert');                      // -> [{...json}]
 *   await start(n8n);                                        // server; owner + API key are provisioned on first use
 *   await testCredential(n8n, 'cred1');                      // -> { status: 'OK' | 'Error', message }
 *   await stop(n8n); await disposeInstance(n8n);
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { INodeExecutionData, INodeTypeDescription, IRun, IWorkflowBase } from 'n8n-workflow';
import { E2E_WORK_DIR, N8N_VERSION, n8nBinScript, n8nInstallDir, node24Binary, PACKAGE_NAME, testCaPath } from './paths';
import { assertNoSentinels } from './secretScan';
import { getFreePort, killGroup, runChecked, runProcess, tail, trackChild, waitFor, type RunResult } from './proc';

export interface N8nOwner {
	email: string;
	password: string;
	firstName: string;
	lastName: string;
}

export interface N8nServer {
	process: ChildProcess;
	logFile: string;
	startedAt: number;
	/** ms from spawn until /healthz/readiness answered 200. */
	startupMs: number;
	exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Which n8n and which Node.js run an instance (default: the cached N8N_VERSION on Node 24; compat.e2e.ts uses others). */
export interface N8nRuntime {
	version: string;
	/** The n8n CLI entry script (`<install>/node_modules/n8n/bin/n8n`). */
	n8nScript: string;
	nodeBinary: string;
}

export interface N8nInstance {
	name: string;
	/** N8N_USER_FOLDER; n8n keeps its data in `<userFolder>/.n8n`. */
	userFolder: string;
	n8nFolder: string;
	port: number;
	/** Task broker port of the server (`n8n start`); CLI commands get their own. */
	brokerPort: number;
	baseUrl: string;
	encryptionKey: string;
	/** Environment every n8n process of this instance gets (a clean env, not the test runner's). */
	env: Record<string, string>;
	logDir: string;
	/** n8n's own JSON log file (N8N_LOG_OUTPUT includes `file`). */
	logFile: string;
	/** Output of every CLI command (import, execute, publish, npm). */
	cliLogFile: string;
	owner: N8nOwner;
	server?: N8nServer;
	session?: { cookie: string; browserId: string };
	apiKey?: string;
	/** Timings measured so far (ms), for reports. */
	timings: Record<string, number[]>;
	/** Another n8n / Node.js than the default (see N8nRuntime). */
	runtime?: N8nRuntime;
}

export interface CreateInstanceOptions {
	/** Folder name under .n8n-e2e/ (wiped first). */
	name: string;
	/** Extra or overriding environment variables for every n8n process (undefined removes one). */
	env?: Record<string, string | undefined>;
	/** Log level for `n8n start` and the import commands (default warn). */
	logLevel?: 'error' | 'warn' | 'info' | 'debug';
	/**
	 * Use this folder as N8N_USER_FOLDER instead of .n8n-e2e/<name>, and keep what is in it (npm run dev keeps its
	 * workflows, owner and database across runs). Pass `encryptionKey` with it: the credentials stay readable.
	 */
	userFolder?: string;
	encryptionKey?: string;
	/** The editor port (default: a free one). */
	port?: number;
	owner?: N8nOwner;
	runtime?: N8nRuntime;
}

function record(instance: N8nInstance, key: string, ms: number): void {
	(instance.timings[key] ??= []).push(ms);
}

/** Environment variables passed through from the test runner (everything else is dropped: NODE_ENV=test, jest vars…). */
const PASS_THROUGH = ['HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TMPDIR', 'SHELL', 'npm_config_cache', 'npm_config_registry', 'npm_config_nodedir'];

export async function createInstance(options: CreateInstanceOptions): Promise<N8nInstance> {
	const safeName = options.name.replace(/[^\w.-]+/g, '-');
	const userFolder = options.userFolder ?? join(E2E_WORK_DIR, safeName);
	if (!options.userFolder) rmSync(userFolder, { recursive: true, force: true });
	const n8nFolder = join(userFolder, '.n8n');
	const logDir = join(userFolder, 'logs');
	mkdirSync(n8nFolder, { recursive: true });
	mkdirSync(logDir, { recursive: true });
	const port = options.port ?? (await getFreePort());
	const brokerPort = await getFreePort();
	const encryptionKey = options.encryptionKey ?? randomBytes(24).toString('hex');
	const nodeBin = options.runtime?.nodeBinary ?? node24Binary();
	const env: Record<string, string> = {};
	for (const key of PASS_THROUGH) {
		const value = process.env[key];
		if (value !== undefined) env[key] = value;
	}
	Object.assign(env, {
		PATH: `${dirname(nodeBin)}:${process.env.PATH ?? '/usr/bin:/bin'}`,
		TZ: 'UTC',
		GENERIC_TIMEZONE: 'UTC',
		NO_COLOR: '1',
		N8N_USER_FOLDER: userFolder,
		N8N_ENCRYPTION_KEY: encryptionKey,
		N8N_HOST: '127.0.0.1',
		N8N_LISTEN_ADDRESS: '127.0.0.1',
		N8N_PROTOCOL: 'http',
		N8N_PORT: String(port),
		N8N_EDITOR_BASE_URL: `http://127.0.0.1:${port}`,
		N8N_RUNNERS_BROKER_PORT: String(brokerPort),
		N8N_RUNNERS_BROKER_LISTEN_ADDRESS: '127.0.0.1',
		N8N_SECURE_COOKIE: 'false',
		N8N_DIAGNOSTICS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
		N8N_TEMPLATES_ENABLED: 'false',
		N8N_PERSONALIZATION_ENABLED: 'false',
		N8N_HIRING_BANNER_ENABLED: 'false',
		N8N_COMMUNITY_PACKAGES_ENABLED: 'true',
		N8N_UNVERIFIED_PACKAGES_ENABLED: 'true',
		// Only loopback is reachable: switch off everything that calls n8n.io on its own (vetted-nodes list, MCP
		// server registry, banners, what's-new). Verified with strace: no other connect() remains.
		N8N_VERIFIED_PACKAGES_ENABLED: 'false',
		N8N_DISABLED_MODULES: 'mcp-registry',
		N8N_DYNAMIC_BANNERS_ENABLED: 'false',
		N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED: 'false',
		N8N_LOG_LEVEL: options.logLevel ?? 'warn',
		N8N_LOG_OUTPUT: 'console,file',
		N8N_LOG_FORMAT: 'json',
		N8N_LOG_FILE_LOCATION: join(logDir, 'n8n.log'),
		EXECUTIONS_DATA_SAVE_ON_SUCCESS: 'all',
		EXECUTIONS_DATA_SAVE_ON_ERROR: 'all',
	});
	const ca = testCaPath();
	if (existsSync(ca)) env.NODE_EXTRA_CA_CERTS = ca;
	for (const [key, value] of Object.entries(options.env ?? {})) {
		if (value === undefined) delete env[key];
		else env[key] = value;
	}
	const instance: N8nInstance = {
		name: safeName,
		userFolder,
		n8nFolder,
		port,
		brokerPort,
		baseUrl: `http://127.0.0.1:${port}`,
		encryptionKey,
		env,
		logDir,
		logFile: join(logDir, 'n8n.log'),
		cliLogFile: join(logDir, 'cli.log'),
		owner: options.owner ?? { email: 'owner@e2e.test', password: 'E2e-Passw0rd!', firstName: 'E2E', lastName: 'Owner' },
		timings: {},
		runtime: options.runtime,
	};
	saveInstanceInfo(instance);
	return instance;
}

function saveInstanceInfo(instance: N8nInstance): void {
	const info: Record<string, unknown> = { n8n: instance.runtime?.version ?? N8N_VERSION, n8nDir: instance.runtime?.n8nScript ?? n8nInstallDir(), ...instance };
	delete info.server;
	writeFileSync(join(instance.userFolder, 'instance.json'), `${JSON.stringify(info, null, 2)}\n`);
}

/** Stops the server if running and deletes the user folder unless E2E_KEEP=1. */
export async function disposeInstance(instance: N8nInstance): Promise<void> {
	if (instance.server) await stop(instance);
	try {
		// Before the folder goes: no sentinel secret in its database, logs or CLI output (test/e2e/lib/secretScan.ts).
		assertNoSentinels(instance.name, instance.userFolder);
	} finally {
		if (process.env.E2E_KEEP !== '1') rmSync(instance.userFolder, { recursive: true, force: true });
	}
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

export interface CliOptions {
	timeoutMs?: number;
	env?: Record<string, string>;
}

/**
 * Runs `n8n <args>` for this instance. Each call gets its own task-broker port, so a CLI command can run while
 * `n8n start` of the same instance is up (they share the SQLite database).
 */
export async function runCli(instance: N8nInstance, args: string[], options: CliOptions = {}): Promise<RunResult> {
	const env = { ...instance.env, N8N_RUNNERS_BROKER_PORT: String(await getFreePort()), ...options.env };
	const result = await runProcess(instance.runtime?.nodeBinary ?? node24Binary(), [instance.runtime?.n8nScript ?? n8nBinScript(), ...args], {
		cwd: instance.userFolder,
		env,
		timeoutMs: options.timeoutMs ?? 180_000,
		logFile: instance.cliLogFile,
	});
	record(instance, `cli:${args[0]}`, result.durationMs);
	return result;
}

async function runCliChecked(instance: N8nInstance, args: string[], options: CliOptions = {}): Promise<RunResult> {
	const result = await runCli(instance, args, options);
	if (result.code !== 0) {
		throw new Error(
			`n8n ${args.join(' ')} failed (exit ${result.code ?? result.signal}${result.timedOut ? ', timed out' : ''})\n` +
				`--- stdout (tail)\n${tail(result.stdout, 40)}\n--- stderr (tail)\n${tail(result.stderr, 40)}\n(full log: ${instance.cliLogFile})`,
		);
	}
	return result;
}

// ---------------------------------------------------------------------------------------------------------------
// Community package

/**
 * Installs a package tarball the way n8n's CommunityPackagesService.downloadPackage does: extract into
 * `<userFolder>/.n8n/nodes/node_modules/<name>`, drop dev/peer/optional dependencies from its package.json, then
 * `npm install --ignore-scripts --install-strategy=shallow --package-lock=false` inside it (runtime deps such as
 * @azure/msal-node come from the npm registry), and record it in the `.n8n/nodes/package.json` ledger.
 * Peer dependencies (n8n-workflow) resolve from n8n's own node_modules at run time.
 */
export async function installPackage(instance: N8nInstance, tgzPath: string): Promise<{ dir: string; version: string; durationMs: number }> {
	const started = Date.now();
	const nodesDir = join(instance.n8nFolder, 'nodes');
	const packageDir = join(nodesDir, 'node_modules', PACKAGE_NAME);
	rmSync(packageDir, { recursive: true, force: true });
	mkdirSync(packageDir, { recursive: true });
	await runChecked('tar', ['-xzf', tgzPath, '-C', packageDir, '--strip-components=1'], { logFile: instance.cliLogFile });
	const pkgPath = join(packageDir, 'package.json');
	const pkg = JSON.parse(readFileSync(pkgPath, 'utf8')) as Record<string, unknown>;
	delete pkg.devDependencies;
	delete pkg.peerDependencies;
	delete pkg.optionalDependencies;
	writeFileSync(pkgPath, JSON.stringify(pkg, null, 2), 'utf8');
	await runChecked(
		'npm',
		['install', '--audit=false', '--fund=false', '--bin-links=false', '--install-strategy=shallow', '--ignore-scripts=true', '--package-lock=false', '--loglevel=error'],
		// npm gets the test runner's own environment (not the n8n one): on these machines registry TLS relies on
		// NODE_EXTRA_CA_CERTS pointing at the system bundle, which the n8n env replaces with the test CA.
		{ cwd: packageDir, env: { ...process.env, PATH: instance.env.PATH, npm_config_update_notifier: 'false' }, timeoutMs: 240_000, logFile: instance.cliLogFile },
	);
	const ledgerPath = join(nodesDir, 'package.json');
	const ledger = existsSync(ledgerPath)
		? (JSON.parse(readFileSync(ledgerPath, 'utf8')) as { dependencies?: Record<string, string> })
		: { name: 'installed-nodes', private: true, dependencies: {} };
	ledger.dependencies = { ...ledger.dependencies, [PACKAGE_NAME]: String(pkg.version) };
	writeFileSync(ledgerPath, JSON.stringify(ledger, null, 2), 'utf8');
	const durationMs = Date.now() - started;
	record(instance, 'installPackage', durationMs);
	return { dir: packageDir, version: String(pkg.version), durationMs };
}

// ---------------------------------------------------------------------------------------------------------------
// Import / execute / publish

export interface CredentialImport {
	id: string;
	name: string;
	type: string;
	/** Plaintext credential data: `n8n import:credentials` encrypts it with the instance key. */
	data: Record<string, unknown>;
}

export async function importCredentials(instance: N8nInstance, credentials: CredentialImport[]): Promise<void> {
	const file = join(instance.userFolder, `credentials-${Date.now()}-${randomBytes(3).toString('hex')}.json`);
	writeFileSync(file, JSON.stringify(credentials, null, 2));
	try {
		await runCliChecked(instance, ['import:credentials', `--input=${file}`]);
	} finally {
		rmSync(file, { force: true });
	}
}

/** Imports one workflow (its `id` is kept; one is generated when missing) and returns the id. */
export async function importWorkflow(instance: N8nInstance, workflow: Partial<IWorkflowBase> & Pick<IWorkflowBase, 'name' | 'nodes' | 'connections'>): Promise<string> {
	const id = workflow.id ?? newWorkflowId();
	const file = join(instance.userFolder, `workflow-${id}.json`);
	writeFileSync(file, JSON.stringify({ active: false, settings: {}, ...workflow, id }, null, 2));
	await runCliChecked(instance, ['import:workflow', `--input=${file}`]);
	return id;
}

/** A 16-character alphanumeric id, the format n8n uses for workflows. */
export function newWorkflowId(): string {
	const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
	const bytes = randomBytes(16);
	return Array.from(bytes, (b) => alphabet[b % alphabet.length]).join('');
}

export interface LogEntry {
	level: string;
	message: string;
	metadata?: Record<string, unknown>;
}

/** Parses n8n's JSON log lines (N8N_LOG_FORMAT=json); other lines are returned as level 'raw'. */
export function parseLogLines(text: string): LogEntry[] {
	const entries: LogEntry[] = [];
	for (const line of text.split('\n')) {
		const trimmed = line.trim();
		if (!trimmed) continue;
		if (trimmed.startsWith('{')) {
			try {
				const parsed = JSON.parse(trimmed) as Partial<LogEntry>;
				if (typeof parsed.level === 'string' && typeof parsed.message === 'string') {
					entries.push({ level: parsed.level, message: parsed.message, metadata: parsed.metadata });
					continue;
				}
			} catch {
				/* not a log entry */
			}
		}
		entries.push({ level: 'raw', message: trimmed });
	}
	return entries;
}

export interface ExecuteResult {
	run: IRun;
	/** run.status ('success' | 'error' | …). */
	status: string;
	/** True when the run finished without a workflow error. */
	ok: boolean;
	/** The top-level error message of a failed run. */
	errorMessage?: string;
	exitCode: number | null;
	signal: NodeJS.Signals | null;
	/**
	 * True when the process died from a signal (seen: SIGSEGV) after printing the complete run. n8n 2.41.1 on
	 * Node 24 sometimes crashes during process exit while the expression-engine isolate pool (isolated-vm) refills;
	 * the run was already saved and printed by then.
	 */
	crashedAfterOutput: boolean;
	durationMs: number;
	log: LogEntry[];
	raw: RunResult;
}

/**
 * `n8n execute --id=<id> --rawOutput`: runs the workflow from its Manual Trigger in a fresh n8n process (mode
 * `cli`) and returns the parsed IRun. n8n prints the run through its logger at level info, so this command runs
 * with N8N_LOG_LEVEL=info and JSON log lines (which also keeps the run parseable when other lines are printed).
 * Throws, with the output, when no run could be read; a run that ended in a workflow error is returned (ok=false).
 */
export async function execute(instance: N8nInstance, workflowId: string, options: CliOptions = {}): Promise<ExecuteResult> {
	const raw = await runCli(instance, ['execute', `--id=${workflowId}`, '--rawOutput'], {
		...options,
		env: { N8N_LOG_LEVEL: 'info', N8N_LOG_FORMAT: 'json', ...options.env },
	});
	const log = parseLogLines(`${raw.stdout}\n${raw.stderr}`);
	let run: IRun | undefined;
	for (const entry of log) {
		if (entry.level === 'raw' || !entry.message.startsWith('{')) continue;
		try {
			const candidate = JSON.parse(entry.message) as Partial<IRun>;
			if (candidate?.data?.resultData) run = candidate as IRun;
		} catch {
			/* another JSON-looking message */
		}
	}
	if (!run) {
		throw new Error(
			`n8n execute --id=${workflowId} printed no run (exit ${raw.code ?? raw.signal}${raw.timedOut ? ', timed out' : ''})\n` +
				`--- output (tail)\n${tail(`${raw.stdout}\n${raw.stderr}`, 60)}\n--- n8n.log (tail)\n${readTail(instance.logFile, 30)}\n(full log: ${instance.cliLogFile})`,
		);
	}
	const error = run.data.resultData.error as { message?: string } | undefined;
	return {
		run,
		status: String(run.status),
		ok: !error && run.status === 'success',
		errorMessage: error?.message,
		exitCode: raw.code,
		signal: raw.signal,
		crashedAfterOutput: raw.signal !== null,
		durationMs: raw.durationMs,
		log,
		raw,
	};
}

/** The json of every item a node produced (run `runIndex`, output `outputIndex`). */
export function nodeItems(run: IRun, nodeName: string, runIndex = 0, outputIndex = 0): Array<INodeExecutionData['json']> {
	const taskData = run.data.resultData.runData[nodeName]?.[runIndex];
	if (!taskData) throw new Error(`Node "${nodeName}" did not run (ran: ${Object.keys(run.data.resultData.runData).join(', ')})`);
	return (taskData.data?.main?.[outputIndex] ?? []).map((item) => item.json);
}

/** The error a node ended with, if any (message, description, httpCode …). */
export function nodeError(run: IRun, nodeName: string, runIndex = 0): Record<string, unknown> | undefined {
	return run.data.resultData.runData[nodeName]?.[runIndex]?.error as unknown as Record<string, unknown> | undefined;
}

/**
 * Publishes (activates) a workflow. With the server running this goes through the public API (takes effect at
 * once); otherwise `n8n publish:workflow` (takes effect at the next `start`).
 */
export async function publish(instance: N8nInstance, workflowId: string): Promise<void> {
	if (instance.server) {
		await api(instance, 'POST', `/workflows/${workflowId}/publish`, {});
		return;
	}
	await runCliChecked(instance, ['publish:workflow', `--id=${workflowId}`]);
}

export async function unpublish(instance: N8nInstance, workflowId: string): Promise<void> {
	if (instance.server) {
		await api(instance, 'POST', `/workflows/${workflowId}/unpublish`);
		return;
	}
	await runCliChecked(instance, ['unpublish:workflow', `--id=${workflowId}`]);
}

// ---------------------------------------------------------------------------------------------------------------
// Server

export interface StartOptions {
	timeoutMs?: number;
	env?: Record<string, string>;
}

/** `n8n start` in the background; resolves once /healthz/readiness answers 200 (database migrated, server up). */
export async function start(instance: N8nInstance, options: StartOptions = {}): Promise<N8nServer> {
	if (instance.server) throw new Error(`n8n instance ${instance.name} is already running`);
	const startedAt = Date.now();
	const logFile = join(instance.logDir, `start-${new Date(startedAt).toISOString().replace(/[:.]/g, '-')}.log`);
	const out = createWriteStream(logFile, { flags: 'a' });
	const child = spawn(instance.runtime?.nodeBinary ?? node24Binary(), [instance.runtime?.n8nScript ?? n8nBinScript(), 'start'], {
		cwd: instance.userFolder,
		env: { ...instance.env, ...options.env },
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	trackChild(child);
	child.stdout.pipe(out);
	child.stderr.pipe(out);
	const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise) => {
		child.on('close', (code, signal) => {
			out.end();
			resolvePromise({ code, signal });
		});
	});
	let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
	void exited.then((info) => (exitInfo = info));
	const server: N8nServer = { process: child, logFile, startedAt, startupMs: 0, exited };
	try {
		await waitFor(
			async () => {
				if (exitInfo) throw new Error(`n8n start exited early (${exitInfo.code ?? exitInfo.signal})`);
				const response = await fetch(`${instance.baseUrl}/healthz/readiness`, { signal: AbortSignal.timeout(2000) });
				return response.status === 200;
			},
			{
				timeoutMs: options.timeoutMs ?? 180_000,
				intervalMs: 250,
				what: `n8n start (${instance.baseUrl}) to become ready`,
				describe: () => `--- ${logFile} (tail)\n${readTail(logFile, 40)}`,
			},
		);
	} catch (error) {
		killGroup(child, 'SIGKILL');
		await exited;
		throw error;
	}
	server.startupMs = Date.now() - startedAt;
	record(instance, 'start', server.startupMs);
	instance.server = server;
	return server;
}

/** Stops `n8n start` with SIGTERM (graceful shutdown), SIGKILL after `timeoutMs`. */
export async function stop(instance: N8nInstance, options: { timeoutMs?: number } = {}): Promise<{ code: number | null; signal: NodeJS.Signals | null; durationMs: number }> {
	const server = instance.server;
	if (!server) throw new Error(`n8n instance ${instance.name} is not running`);
	const started = Date.now();
	killGroup(server.process, 'SIGTERM');
	const timer = setTimeout(() => killGroup(server.process, 'SIGKILL'), options.timeoutMs ?? 30_000);
	const info = await server.exited;
	clearTimeout(timer);
	// The task runner child is in the same process group; make sure nothing of it survives.
	killGroup(server.process, 'SIGKILL');
	instance.server = undefined;
	const durationMs = Date.now() - started;
	record(instance, 'stop', durationMs);
	return { ...info, durationMs };
}

export async function restart(instance: N8nInstance, options: StartOptions = {}): Promise<N8nServer> {
	await stop(instance);
	return await start(instance, options);
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP: internal /rest (cookie session) and public /api/v1 (API key)

export interface HttpResult<T = unknown> {
	status: number;
	body: T;
	headers: Headers;
}

async function httpJson<T>(url: string, init: { method: string; headers?: Record<string, string>; body?: unknown }): Promise<HttpResult<T>> {
	const response = await fetch(url, {
		method: init.method,
		headers: { accept: 'application/json', ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
		body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
		signal: AbortSignal.timeout(60_000),
	});
	const text = await response.text();
	let body: unknown = text;
	try {
		body = text ? JSON.parse(text) : undefined;
	} catch {
		/* not JSON */
	}
	return { status: response.status, body: body as T, headers: response.headers };
}

function requireServer(instance: N8nInstance): void {
	if (!instance.server) throw new Error(`n8n instance ${instance.name} is not running: call start() first`);
}

/**
 * Creates the owner account on a fresh instance (POST /rest/owner/setup) or logs in (POST /rest/login), and keeps
 * the session cookie. n8n binds the session to a `browser-id` header, which is sent with every /rest call.
 */
export async function login(instance: N8nInstance): Promise<void> {
	requireServer(instance);
	const browserId = instance.session?.browserId ?? randomUUID();
	const headers = { 'browser-id': browserId };
	let response = await httpJson<unknown>(`${instance.baseUrl}/rest/owner/setup`, { method: 'POST', headers, body: instance.owner });
	if (response.status !== 200) {
		response = await httpJson<unknown>(`${instance.baseUrl}/rest/login`, {
			method: 'POST',
			headers,
			body: { emailOrLdapLoginId: instance.owner.email, password: instance.owner.password },
		});
	}
	const cookie = response.headers
		.getSetCookie()
		.map((c) => c.split(';')[0])
		.find((c) => c.startsWith('n8n-auth='));
	if (response.status !== 200 || !cookie) {
		throw new Error(`Could not set up or log in the owner (HTTP ${response.status}): ${JSON.stringify(response.body).slice(0, 500)}`);
	}
	instance.session = { cookie, browserId };
}

/** Internal REST API (`/rest/...`) as the owner; unwraps n8n's `{ data }` envelope. Throws on non-2xx. */
export async function rest<T = unknown>(instance: N8nInstance, method: string, path: string, body?: unknown): Promise<T> {
	requireServer(instance);
	if (!instance.session) await login(instance);
	const call = async (): Promise<HttpResult<{ data?: T }>> =>
		await httpJson<{ data?: T }>(`${instance.baseUrl}/rest${path}`, {
			method,
			headers: { cookie: instance.session!.cookie, 'browser-id': instance.session!.browserId },
			body,
		});
	let response = await call();
	if (response.status === 401) {
		await login(instance);
		response = await call();
	}
	if (response.status < 200 || response.status >= 300) {
		throw new Error(`${method} /rest${path} -> HTTP ${response.status}: ${JSON.stringify(response.body).slice(0, 800)}`);
	}
	return (response.body && typeof response.body === 'object' && 'data' in response.body ? response.body.data : response.body) as T;
}

/** Creates (once per instance) an owner API key with every scope the owner may have, for the public API. */
export async function ensureApiKey(instance: N8nInstance): Promise<string> {
	if (instance.apiKey) return instance.apiKey;
	const scopes = await rest<string[]>(instance, 'GET', '/api-keys/scopes');
	const created = await rest<{ rawApiKey: string }>(instance, 'POST', '/api-keys', { label: `e2e ${Date.now()}`, scopes, expiresAt: null });
	instance.apiKey = created.rawApiKey;
	saveInstanceInfo(instance);
	return instance.apiKey;
}

/** Public REST API (`/api/v1/...`) with the X-N8N-API-KEY header; returns status and body without throwing. */
export async function apiRequest<T = unknown>(instance: N8nInstance, method: string, path: string, body?: unknown): Promise<HttpResult<T>> {
	requireServer(instance);
	const key = await ensureApiKey(instance);
	return await httpJson<T>(`${instance.baseUrl}/api/v1${path}`, { method, headers: { 'X-N8N-API-KEY': key }, body });
}

/** Public REST API call that throws on non-2xx. */
export async function api<T = unknown>(instance: N8nInstance, method: string, path: string, body?: unknown): Promise<T> {
	const response = await apiRequest<T>(instance, method, path, body);
	if (response.status < 200 || response.status >= 300) {
		throw new Error(`${method} /api/v1${path} -> HTTP ${response.status}: ${JSON.stringify(response.body).slice(0, 800)}`);
	}
	return response.body;
}

/** An execution as returned by GET /api/v1/executions(/id) with includeData=true. */
export interface ApiExecution {
	id: string | number;
	finished: boolean;
	mode: string;
	status: string;
	startedAt: string;
	stoppedAt?: string | null;
	workflowId: string;
	data?: IRun['data'];
}

export async function getExecutions(
	instance: N8nInstance,
	workflowId: string,
	options: { includeData?: boolean; status?: 'canceled' | 'error' | 'running' | 'success' | 'waiting'; limit?: number } = {},
): Promise<ApiExecution[]> {
	const query = new URLSearchParams({ workflowId, includeData: String(options.includeData ?? true), limit: String(options.limit ?? 250) });
	if (options.status) query.set('status', options.status);
	const result = await api<{ data: ApiExecution[] }>(instance, 'GET', `/executions?${query.toString()}`);
	return result.data;
}

/** Waits until the workflow has at least `count` finished executions (newest first, as the API returns them). */
export async function waitForExecutions(instance: N8nInstance, workflowId: string, count: number, options: { timeoutMs?: number } = {}): Promise<ApiExecution[]> {
	return await waitFor(
		async () => {
			const executions = (await getExecutions(instance, workflowId)).filter((e) => e.status !== 'running' && e.status !== 'new');
			return executions.length >= count ? executions : undefined;
		},
		{ timeoutMs: options.timeoutMs ?? 120_000, intervalMs: 1000, what: `${count} execution(s) of workflow ${workflowId}`, describe: () => readTail(instance.server?.logFile ?? instance.logFile, 30) },
	);
}

/** POST /api/v1/credentials/{id}/test: n8n runs the credential type's test (including preAuthentication). */
export async function testCredential(instance: N8nInstance, credentialId: string): Promise<{ status: 'OK' | 'Error'; message: string }> {
	return await api<{ status: 'OK' | 'Error'; message: string }>(instance, 'POST', `/credentials/${credentialId}/test`);
}

/** Every node type the running instance serves to the editor (GET /types/nodes.json, owner session). */
export async function listNodeTypes(instance: N8nInstance): Promise<INodeTypeDescription[]> {
	return await typesFile<INodeTypeDescription[]>(instance, 'nodes.json');
}

/** Every credential type the running instance serves to the editor (GET /types/credentials.json). */
export async function listCredentialTypes(instance: N8nInstance): Promise<Array<{ name: string; displayName: string; properties: Array<{ name: string }>; supportedNodes?: string[] }>> {
	return await typesFile(instance, 'credentials.json');
}

async function typesFile<T>(instance: N8nInstance, file: string): Promise<T> {
	requireServer(instance);
	if (!instance.session) await login(instance);
	const response = await httpJson<T>(`${instance.baseUrl}/types/${file}`, {
		method: 'GET',
		headers: { cookie: instance.session!.cookie, 'browser-id': instance.session!.browserId },
	});
	if (response.status !== 200) throw new Error(`GET /types/${file} -> HTTP ${response.status}`);
	return response.body;
}

// ---------------------------------------------------------------------------------------------------------------
// Logs

export function readTail(file: string, lines: number): string {
	try {
		return tail(readFileSync(file, 'utf8'), lines);
	} catch {
		return `(no ${file})`;
	}
}

/** All log output of the instance so far: n8n.log (JSON), the CLI log and the output of every `n8n start`. */
export function readAllLogs(instance: N8nInstance): string {
	const files = [instance.logFile, instance.cliLogFile];
	if (existsSync(instance.logDir)) {
		for (const f of readdirSync(instance.logDir).sort()) if (f.startsWith('start-')) files.push(join(instance.logDir, f));
	}
	return files
		.filter((file) => existsSync(file))
		.map((file) => readFileSync(file, 'utf8'))
		.join('\n');
}

/** Known warnings of a stock n8n 2.41.1 in this environment that say nothing about the package under test. */
export const KNOWN_BENIGN_WARNINGS: RegExp[] = [
	/Failed to start Python task runner in internal mode/,
	/Migrations in progress, please do NOT stop the process/,
	/There are deprecations related to your n8n setup/,
];

/**
 * Warning/error log entries (and raw lines that look like errors) mentioning `needle` (default: the package name),
 * excluding KNOWN_BENIGN_WARNINGS. Entries seen in several logs (console capture and n8n.log) are listed once.
 */
export function logProblems(instance: N8nInstance, needle: string | RegExp = PACKAGE_NAME): LogEntry[] {
	const matches = (text: string): boolean => (typeof needle === 'string' ? text.includes(needle) : needle.test(text));
	const seen = new Set<string>();
	return parseLogLines(readAllLogs(instance)).filter((entry) => {
		if (entry.level === 'raw' && /^(=====|-----)/.test(entry.message)) return false; // runCli headers
		const text = `${entry.message} ${entry.metadata ? JSON.stringify(entry.metadata) : ''}`;
		if (KNOWN_BENIGN_WARNINGS.some((re) => re.test(text))) return false;
		const bad = entry.level === 'warn' || entry.level === 'error' || (entry.level === 'raw' && /\b(error|warn(ing)?|failed|exception)\b/i.test(text));
		if (!bad || !matches(text)) return false;
		const key = `${entry.level}|${entry.message}|${String(entry.metadata?.timestamp ?? '')}`;
		if (seen.has(key)) return false;
		seen.add(key);
		return true;
	});
}

