/** The processes below a process (from /proc, Linux), for checking that stopping something leaves no orphan. */
import { readdirSync, readFileSync } from 'node:fs';

function parentOf(pid: number): number | undefined {
	try {
		// /proc/<pid>/stat: "pid (comm) state ppid …"; comm may contain spaces and parentheses.
		const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
		return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
	} catch {
		return undefined;
	}
}

export function descendants(root: number): number[] {
	const children = new Map<number, number[]>();
	for (const name of readdirSync('/proc')) {
		if (!/^\d+$/.test(name)) continue;
		const pid = Number(name);
		const parent = parentOf(pid);
		if (parent !== undefined) children.set(parent, [...(children.get(parent) ?? []), pid]);
	}
	const out: number[] = [];
	const queue = [...(children.get(root) ?? [])];
	while (queue.length) {
		const pid = queue.shift()!;
		out.push(pid);
		queue.push(...(children.get(pid) ?? []));
	}
	return out;
}

export function isAlive(pid: number): boolean {
	try {
		process.kill(pid, 0);
		// A zombie has exited; only its parent has not collected it yet.
		return !/^\S+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
	} catch {
		return false;
	}
}

export function commandLine(pid: number): string {
	try {
		return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
	} catch {
		return '';
	}
}
