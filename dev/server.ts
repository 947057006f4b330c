/**
 * `npm run dev`: the nodes of this checkout in a real n8n editor, in one command.
 *
 *   1. starts the Defender + Entra emulator (HTTPS on 127.0.0.1, local CA trusted by n8n via NODE_EXTRA_CA_CERTS);
 *   2. compiles the package with `tsc --watch` straight into the dev n8n's community-package folder
 *      (<DEV_DIR>/.n8n/nodes/node_modules/n8n-nodes-defender-endpoint) and installs its runtime dependencies there;
 *   3. imports the credential "Defender (MSSP app)" pointed at the emulator (every run: the emulator's port
 *      changes) and the workflows in examples/ and dev/workflows/ (once, and again when a file changed);
 *   4. starts the cached n8n with N8N_DEV_RELOAD=true, creates the owner, publishes the trigger workflow;
 *   5. prints the URL, the login, the command that adds alerts and how to stop; then recompiles on every change
 *      (n8n reloads the package by itself and says so in its log, which is echoed here).
 * Ctrl-C (SIGINT), SIGTERM or SIGHUP stop n8n, the emulator and the compiler; a second Ctrl-C kills them at once.
 *
 * Env: DEV_DIR (default .cache/n8n-dev), DEV_PORT (editor, default 5678 or a free port), DEV_EMULATOR_PORT.
 * `npm run dev -- --fresh` deletes DEV_DIR first (a new database, owner and imports).
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { createServer } from 'node:net';
import { join, relative } from 'node:path';
import type { IWorkflowBase } from 'n8n-workflow';
import { startEmulatorProcess, type EmulatorProcess } from '../test/e2e/lib/emulator';
import {
	createInstance,
	ensureApiKey,
	apiRequest,
	login,
	newWorkflowId,
	publish,
	readTail,
	runCli,
	start,
	stop,
	type N8nInstance,
} from '../test/e2e/lib/n8n';
import { N8N_VERSION, PACKAGE_NAME, REPO_ROOT } from '../test/e2e/lib/paths';
import { getFreePort, killGroup } from '../test/e2e/lib/proc';
import { emulatorCredential } from '../test/e2e/lib/workflows';
import { DEV_CREDENTIAL, DEV_DIR, DEV_OWNER, readJson, SETTINGS_FILE, STATE_FILE, WORKFLOW_DIRS, writeJson, type DevSettings, type DevState } from './config';
import { Compiler, copyAssets, preparePackageDir, type CompileResult } from './package';

const say = (text = ''): void => {
	process.stdout.write(`${text}\n`);
};
const note = (text: string): void => say(`[dev] ${text}`);
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

async function portIsFree(port: number): Promise<boolean> {
	return await new Promise((resolvePromise) => {
		const server = createServer();
		server.once('error', () => resolvePromise(false));
		server.listen(port, '127.0.0.1', () => server.close(() => resolvePromise(true)));
	});
}

async function editorPort(): Promise<number> {
	if (process.env.DEV_PORT) return Number(process.env.DEV_PORT);
	return (await portIsFree(5678)) ? 5678 : await getFreePort();
}

interface WorkflowFile {
	file: string;
	rel: string;
	sha256: string;
	workflow: Partial<IWorkflowBase> & Pick<IWorkflowBase, 'name' | 'nodes' | 'connections'>;
	active: boolean;
}

function workflowFiles(): WorkflowFile[] {
	return WORKFLOW_DIRS.flatMap((dir) =>
		existsSync(dir)
			? readdirSync(dir)
					.filter((f) => f.endsWith('.workflow.json'))
					.sort()
					.map((f) => {
						const file = join(dir, f);
						const text = readFileSync(file, 'utf8');
						const workflow = JSON.parse(text) as WorkflowFile['workflow'] & { active?: boolean };
						const active = workflow.active === true;
						delete workflow.active;
						return { file, rel: relative(REPO_ROOT, file), sha256: createHash('sha256').update(text).digest('hex'), workflow, active };
					})
			: [],
	);
}

async function cli(instance: N8nInstance, args: string[]): Promise<void> {
	const result = await runCli(instance, args);
	if (result.code !== 0) throw new Error(`n8n ${args[0]} failed (exit ${result.code ?? result.signal}); see ${instance.cliLogFile}\n${result.stderr.slice(-1500)}`);
}

/** Calls `onLine` for every line appended to `file` (n8n's log) while dev mode runs. */
function followLog(file: string, onLine: (line: string) => void): () => void {
	let offset = existsSync(file) ? statSync(file).size : 0;
	let rest = '';
	const timer = setInterval(() => {
		if (!existsSync(file)) return;
		const size = statSync(file).size;
		if (size < offset) offset = 0;
		if (size === offset) return;
		const buffer = Buffer.alloc(size - offset);
		const fd = openSync(file, 'r');
		try {
			readSync(fd, buffer, 0, buffer.length, offset);
		} finally {
			closeSync(fd);
		}
		offset = size;
		const lines = (rest + buffer.toString('utf8')).split('\n');
		rest = lines.pop() ?? '';
		for (const line of lines) onLine(line);
	}, 500);
	return () => clearInterval(timer);
}

function isRunning(pid: number | undefined): boolean {
	if (!pid) return false;
	try {
		process.kill(pid, 0);
		return true;
	} catch {
		return false;
	}
}

export async function runDev(argv: string[]): Promise<void> {
	const started = Date.now();
	const unknown = argv.filter((a) => a !== '--fresh');
	if (unknown.length > 0) {
		process.stderr.write(`dev: unknown argument ${unknown.join(' ')}; usage: npm run dev [-- --fresh]\n`);
		process.exit(2);
	}
	const running = readJson<DevState>(STATE_FILE);
	if (running && running.pids.dev !== process.pid && isRunning(running.pids.dev)) {
		process.stderr.write(`dev: npm run dev is already running for ${DEV_DIR} (pid ${running.pids.dev}, ${running.editorUrl}); stop it with Ctrl-C first.\n`);
		process.exit(1);
	}
	if (argv.includes('--fresh')) {
		note(`--fresh: deleting ${DEV_DIR}`);
		rmSync(DEV_DIR, { recursive: true, force: true });
	}
	mkdirSync(DEV_DIR, { recursive: true });
	const settings: DevSettings = readJson<DevSettings>(SETTINGS_FILE) ?? { encryptionKey: randomBytes(24).toString('hex'), imported: {} };
	writeJson(SETTINGS_FILE, settings);

	let emulator: EmulatorProcess | undefined;
	let compiler: Compiler | undefined;
	let instance: N8nInstance | undefined;
	let stopFollowing: (() => void) | undefined;
	const assetWatchers: FSWatcher[] = [];
	let stopping = false;

	const shutdown = async (reason: string, code: number): Promise<never> => {
		if (stopping) process.exit(code);
		stopping = true;
		note(`${reason}: stopping n8n, the emulator and the compiler …`);
		for (const w of assetWatchers) w.close();
		stopFollowing?.();
		compiler?.stop();
		const tasks: Array<Promise<unknown>> = [];
		if (instance?.server) tasks.push(stop(instance, { timeoutMs: 20_000 }).catch(() => undefined));
		if (emulator) tasks.push(emulator.stop().catch(() => undefined));
		await Promise.all(tasks);
		if (compiler) killGroup(compiler.process, 'SIGKILL');
		rmSync(STATE_FILE, { force: true });
		note('stopped.');
		process.exit(code);
	};
	for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
		process.on(signal, () => {
			if (stopping) {
				// A second Ctrl-C: no more waiting.
				if (instance?.server) killGroup(instance.server.process, 'SIGKILL');
				if (emulator) killGroup(emulator.process, 'SIGKILL');
				if (compiler) killGroup(compiler.process, 'SIGKILL');
				process.exit(130);
			}
			void shutdown(signal === 'SIGINT' ? 'Ctrl-C' : signal, 0);
		});
	}

	try {
		note(`n8n ${N8N_VERSION} + n8n-nodes-defender-endpoint from ${REPO_ROOT}; data in ${relative(process.cwd(), DEV_DIR) || DEV_DIR}`);
		const port = await editorPort();
		const editorUrl = `http://localhost:${port}`;
		instance = await createInstance({
			name: 'dev',
			userFolder: DEV_DIR,
			encryptionKey: settings.encryptionKey,
			port,
			owner: DEV_OWNER,
			logLevel: 'info',
			env: {
				N8N_DEV_RELOAD: 'true',
				N8N_LOG_FORMAT: 'text',
				N8N_HOST: 'localhost',
				N8N_EDITOR_BASE_URL: editorUrl,
				// Some n8n releases offer community nodes as AI-agent tools only with this (2.41.1 has no such setting).
				N8N_COMMUNITY_PACKAGES_ALLOW_TOOL_USAGE: 'true',
			},
		});
		const n8n = instance;

		// Emulator and compiler start together; the first compilation takes about 7 s.
		const t0 = Date.now();
		const pkg = await preparePackageDir(n8n.n8nFolder);
		if (pkg.installedDependencies) note(`installed the package's runtime dependencies from the npm registry (${secs(Date.now() - t0)})`);
		const onCompiled = (result: CompileResult): void => {
			const errors = result.errors.length ? `, ${result.errors.length} type error(s):\n  ${result.errors.slice(0, 10).join('\n  ')}` : '';
			note(`recompiled in ${secs(result.durationMs)}${errors}; n8n reloads the package`);
		};
		compiler = new Compiler(join(pkg.dir, 'dist'), onCompiled);
		const emulatorPort = process.env.DEV_EMULATOR_PORT ? Number(process.env.DEV_EMULATOR_PORT) : undefined;
		const [compiled, emu] = await Promise.all([compiler.ready(), startEmulatorProcess({ port: emulatorPort })]);
		emulator = emu;
		copyAssets(pkg.dir);
		note(`compiled into ${relative(DEV_DIR, pkg.dir)}/dist in ${secs(compiled.durationMs)}${compiled.errors.length ? ` (${compiled.errors.length} type errors, see above)` : ''}`);
		for (const e of compiled.errors.slice(0, 10)) say(`  ${e}`);
		note(`emulator on ${emulator.url}`);
		emulator.process.on('close', () => {
			if (!stopping) void shutdown('the emulator exited', 1);
		});

		// Credential (every run) and workflows (new or changed files), before n8n starts.
		const state = emulator.state;
		await importCredential(n8n, state);
		const files = workflowFiles();
		const toImport = files.filter((f) => settings.imported[f.rel]?.sha256 !== f.sha256);
		if (toImport.length > 0) {
			const dir = mkdtempSync(join(n8n.userFolder, 'import-'));
			for (const f of toImport) {
				const id = settings.imported[f.rel]?.id ?? newWorkflowId();
				writeFileSync(join(dir, `${id}.json`), JSON.stringify({ settings: {}, ...f.workflow, id, active: false }, null, 2));
				settings.imported[f.rel] = { id, sha256: f.sha256 };
			}
			await cli(n8n, ['import:workflow', '--separate', `--input=${dir}`]);
			rmSync(dir, { recursive: true, force: true });
			writeJson(SETTINGS_FILE, settings);
			note(`imported ${toImport.map((f) => `"${f.workflow.name}"`).join(', ')}`);
		}

		const server = await start(n8n, { timeoutMs: 180_000 });
		server.process.on('close', () => {
			if (!stopping) {
				say(readTail(server.logFile, 30));
				void shutdown('n8n exited', 1);
			}
		});
		await login(n8n);
		if (settings.apiKey) {
			n8n.apiKey = settings.apiKey;
			if ((await apiRequest(n8n, 'GET', '/workflows?limit=1')).status === 401) n8n.apiKey = undefined;
		}
		settings.apiKey = await ensureApiKey(n8n);
		writeJson(SETTINGS_FILE, settings);

		const workflows: DevState['workflows'] = [];
		for (const f of files) {
			const id = settings.imported[f.rel].id;
			const existing = await apiRequest<{ active?: boolean }>(n8n, 'GET', `/workflows/${id}`);
			if (existing.status === 404) continue; // deleted in the editor: left alone
			if (f.active && existing.body.active !== true) await publish(n8n, id);
			workflows.push({ id, name: f.workflow.name, file: f.rel, active: f.active });
		}

		// Icons and codex files are not TypeScript: copy them when they change (n8n reloads on the copy).
		for (const folder of ['icons', 'nodes', 'credentials']) {
			const path = join(REPO_ROOT, folder);
			if (!existsSync(path)) continue;
			assetWatchers.push(
				watch(path, { recursive: true }, (_event, name) => {
					if (name && /\.svg$|\.node\.json$/.test(String(name))) {
						const copied = copyAssets(pkg.dir);
						if (copied.length) note(`copied ${copied.join(', ')}; n8n reloads the package`);
					}
				}),
			);
		}
		// n8n's log file is JSON lines (level, message): echo the reloads and the package's warnings and errors.
		stopFollowing = followLog(n8n.logFile, (line) => {
			let entry: { level?: string; message?: string } = {};
			try {
				entry = JSON.parse(line) as typeof entry;
			} catch {
				return;
			}
			const message = String(entry.message ?? '').trim();
			if (/^Hot reload (triggered|failed)/.test(message)) note(`n8n: ${message}`);
			else if ((entry.level === 'error' || entry.level === 'warn') && message.includes(PACKAGE_NAME)) note(`n8n ${entry.level}: ${message}`);
		});

		const devState: DevState = {
			startedAt: new Date(started).toISOString(),
			n8nVersion: N8N_VERSION,
			editorUrl,
			owner: { email: DEV_OWNER.email, password: DEV_OWNER.password },
			apiKey: settings.apiKey,
			emulator: {
				url: state.url,
				caPath: state.caPath,
				controlUrl: `${state.url}/_emulator`,
				tenants: state.tenants.filter((t) => t.domain).map((t) => ({ id: t.id, name: t.name, domain: t.domain })),
			},
			workflows,
			pids: { dev: process.pid, n8n: server.process.pid, emulator: emulator.process.pid, compiler: compiler.process.pid },
			logFile: n8n.logFile,
			consoleLogFile: server.logFile,
		};
		writeJson(STATE_FILE, devState);
		printBanner(devState, Date.now() - started);
	} catch (error) {
		const message = error instanceof Error ? error.message : String(error);
		say(`\nnpm run dev failed: ${message}`);
		if (instance) say(`n8n logs: ${instance.logDir}`);
		await shutdown('setup failed', 1);
	}
}

async function importCredential(instance: N8nInstance, state: EmulatorProcess['state']): Promise<void> {
	const credential = emulatorCredential(state, { ...DEV_CREDENTIAL, tenantId: String(state.homeTenantId ?? state.tenants[0].id) });
	const file = join(instance.userFolder, 'credential-import.json');
	writeFileSync(file, JSON.stringify([credential]), { mode: 0o600 });
	try {
		await cli(instance, ['import:credentials', `--input=${file}`]);
	} finally {
		rmSync(file, { force: true });
	}
}

function printBanner(state: DevState, tookMs: number): void {
	const contoso = state.emulator.tenants[0];
	const rel = (p: string): string => relative(process.cwd(), p) || p;
	const curl =
		`curl --cacert ${rel(state.emulator.caPath)} -H 'content-type: application/json' -d '{"count":5}' ` + `${state.emulator.controlUrl}/tenants/${contoso?.id ?? '<tenant>'}/alerts`;
	const lines = [
		'',
		`n8n ${state.n8nVersion} is running with n8n-nodes-defender-endpoint from this checkout (ready in ${secs(tookMs)}).`,
		'',
		`  Editor      ${state.editorUrl}`,
		`  Log in      ${state.owner.email}  /  ${state.owner.password}`,
		`  Workflows   ${state.workflows.map((w) => `"${w.name}"${w.active ? ' (published)' : ''}`).join('\n              ')}`,
		`  Credential  "${DEV_CREDENTIAL.name}" → the emulator (${state.emulator.url}; tenants ${state.emulator.tenants.map((t) => t.name).join(', ')})`,
		'',
		`  Add alerts  npm run dev:alerts -- 5        (5 new alerts in ${contoso?.name ?? 'the first tenant'}; --tenant fabrikam, --severity High)`,
		`              or: ${curl}`,
		'              The trigger workflow polls every minute (n8n\'s shortest interval): its execution appears in the',
		'              editor under Executions within a minute.',
		'  Rebuild     automatic: saving a file under nodes/, credentials/ or icons/ recompiles it into n8n,',
		'              which reloads the package (reload the browser tab to see a changed node panel).',
		`  Logs        ${rel(state.logFile)} (n8n's console output: ${rel(state.consoleLogFile)})`,
		'  Stop        Ctrl-C (stops n8n, the emulator and the compiler)',
		'',
	];
	say(lines.join('\n'));
}
