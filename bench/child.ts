/**
 * The emulator in a child process of the benchmark (so the benchmark's RSS measures the n8n side only), over IPC:
 * {id, cmd, args} → {id, result} | {id, error}. `startChild(script)` on the benchmark's side, `serveCommands(handle)`
 * in the child script (bench/emulator-child.ts, bench/graph-child.ts); `RssSampler` measures the peak RSS.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';

export class Child {
	private seq = 0;
	private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
	constructor(readonly proc: ChildProcess) {
		proc.on('message', (m: { id?: number; result?: unknown; error?: string }) => {
			if (m.id === undefined) return;
			const p = this.pending.get(m.id);
			if (!p) return;
			this.pending.delete(m.id);
			if (m.error) p.reject(new Error(m.error));
			else p.resolve(m.result);
		});
	}
	async call<T>(cmd: string, args?: Record<string, unknown>): Promise<T> {
		const id = ++this.seq;
		return await new Promise<T>((resolve, reject) => {
			this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
			this.proc.send({ id, cmd, args });
		});
	}
}

/** Forks `script` (a file in bench/) and waits for its ready message. */
export async function startChild(script: string): Promise<Child> {
	const proc = fork(path.join(__dirname, script), [], {
		execArgv: ['--require', 'ts-node/register/transpile-only'],
		stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
		env: process.env,
	});
	await new Promise<void>((resolve, reject) => {
		proc.once('message', () => resolve());
		proc.once('exit', (code) => reject(new Error(`emulator exited with ${code}`)));
	});
	return new Child(proc);
}

/** The child's side: answers each command with `handle`, then says it is ready. */
export function serveCommands(handle: (cmd: string, args?: Record<string, unknown>) => Promise<unknown>): void {
	process.on('message', (msg: { id: number; cmd: string; args?: Record<string, unknown> }) => {
		handle(msg.cmd, msg.args).then(
			(result) => process.send!({ id: msg.id, result }),
			(error: unknown) => process.send!({ id: msg.id, error: error instanceof Error ? error.message : String(error) }),
		);
	});
	process.send!({ ready: true });
}

/** Peak RSS of this process, sampled every 10 ms between start() and stop(). */
export class RssSampler {
	peak = 0;
	private timer?: NodeJS.Timeout;
	start(): void {
		this.peak = process.memoryUsage().rss;
		this.timer = setInterval(() => {
			this.peak = Math.max(this.peak, process.memoryUsage().rss);
		}, 10);
	}
	stop(): number {
		if (this.timer) clearInterval(this.timer);
		this.peak = Math.max(this.peak, process.memoryUsage().rss);
		return this.peak;
	}
}
