/**
 * Small process helpers: spawn with a timeout and captured output, free loopback ports, polling.
 * Every child is started in its own process group so a timeout can end it together with its own children
 * (n8n starts a task-runner child), without touching anything else on the machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { createServer } from 'node:net';

export interface RunResult {
	command: string;
	code: number | null;
	signal: NodeJS.Signals | null;
	stdout: string;
	stderr: string;
	durationMs: number;
	timedOut: boolean;
}

export interface RunOptions {
	cwd?: string;
	env?: NodeJS.ProcessEnv;
	timeoutMs?: number;
	/** Appends a header, stdout and stderr of the command to this file. */
	logFile?: string;
}

export function describeCommand(cmd: string, args: string[]): string {
	return [cmd, ...args].map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(' ');
}

const liveGroups = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * Remembers a long-running child (n8n start, the emulator) so that its process group is killed if the test
 * process exits without stopping it (a failed beforeAll, jest's forceExit, Ctrl-C).
 */
export function trackChild(child: ChildProcess): void {
	liveGroups.add(child);
	child.on('close', () => liveGroups.delete(child));
	if (!exitHookInstalled) {
		exitHookInstalled = true;
		process.on('exit', () => {
			for (const c of liveGroups) killGroup(c, 'SIGKILL');
		});
	}
}

/** Ends a process group we started (negative pid); ignores groups that are already gone. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
	if (child.pid === undefined) return;
	try {
		process.kill(-child.pid, signal);
	} catch {
		try {
			child.kill(signal);
		} catch {
			/* already gone */
		}
	}
}

export async function runProcess(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
	const command = describeCommand(cmd, args);
	const started = Date.now();
	const child = spawn(cmd, args, {
		cwd: options.cwd,
		env: options.env,
		stdio: ['ignore', 'pipe', 'pipe'],
		detached: true,
	});
	let stdout = '';
	let stderr = '';
	child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
	child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
	let timedOut = false;
	const timer = options.timeoutMs
		? setTimeout(() => {
				timedOut = true;
				killGroup(child, 'SIGKILL');
			}, options.timeoutMs)
		: undefined;
	const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolvePromise, reject) => {
		child.on('error', reject);
		child.on('close', (c, s) => resolvePromise({ code: c, signal: s }));
	});
	if (timer) clearTimeout(timer);
	const result: RunResult = { command, code, signal, stdout, stderr, durationMs: Date.now() - started, timedOut };
	if (options.logFile) {
		appendFileSync(
			options.logFile,
			`\n===== ${new Date().toISOString()} $ ${command}\n===== exit ${code ?? signal} after ${result.durationMs} ms${timedOut ? ' (TIMED OUT)' : ''}\n` +
				`----- stdout\n${stdout}\n----- stderr\n${stderr}\n`,
		);
	}
	return result;
}

/** Like runProcess, but throws (with the output) unless the command exits 0. */
export async function runChecked(cmd: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
	const result = await runProcess(cmd, args, options);
	if (result.code !== 0) {
		throw new Error(
			`Command failed (exit ${result.code ?? result.signal}${result.timedOut ? ', timed out' : ''}): ${result.command}\n` +
				`--- stdout (tail)\n${tail(result.stdout, 40)}\n--- stderr (tail)\n${tail(result.stderr, 40)}`,
		);
	}
	return result;
}

export function tail(text: string, lines: number): string {
	const all = text.split('\n');
	return all.slice(Math.max(0, all.length - lines)).join('\n');
}

const handedOut = new Set<number>();

/** A loopback TCP port that is free now and that this process has not handed out before. */
export async function getFreePort(): Promise<number> {
	for (let attempt = 0; attempt < 50; attempt++) {
		const port = await new Promise<number>((resolvePromise, reject) => {
			const server = createServer();
			server.unref();
			server.on('error', reject);
			server.listen(0, '127.0.0.1', () => {
				const address = server.address();
				const p = typeof address === 'object' && address ? address.port : 0;
				server.close(() => resolvePromise(p));
			});
		});
		if (port > 0 && !handedOut.has(port)) {
			handedOut.add(port);
			return port;
		}
	}
	throw new Error('Could not find a free loopback port');
}

export const sleep = async (ms: number): Promise<void> => await new Promise((r) => setTimeout(r, ms));

/**
 * Polls `probe` until it returns a value other than undefined/false, or throws after `timeoutMs`.
 * `describe` is evaluated on timeout and added to the error (e.g. a log tail).
 */
export async function waitFor<T>(
	probe: () => Promise<T | undefined | false> | T | undefined | false,
	options: { timeoutMs: number; intervalMs?: number; what: string; describe?: () => string },
): Promise<T> {
	const deadline = Date.now() + options.timeoutMs;
	let lastError: unknown;
	for (;;) {
		try {
			const value = await probe();
			if (value !== undefined && value !== false) return value;
		} catch (error) {
			lastError = error;
		}
		if (Date.now() > deadline) {
			const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
			throw new Error(`Timed out after ${options.timeoutMs} ms waiting for ${options.what}${why}${options.describe ? `\n${options.describe()}` : ''}`);
		}
		await sleep(options.intervalMs ?? 500);
	}
}
