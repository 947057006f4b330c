/**
 * Long-running helper processes (a compiler in watch mode, `npm run dev` under test): spawned in their own process
 * group, remembered by trackChild so they are killed if this process exits without stopping them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { trackChild } from './proc';

export function spawnBackground(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): ChildProcess {
	const child = spawn(cmd, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
	trackChild(child);
	return child;
}
