/**
 * Overlap guard: at most one poll of a trigger (workflow id + node id) in effect per process. n8n 2.41's standard
 * mode starts a poll on every cron tick without waiting for the previous one (packages/core/src/execution-engine/
 * active-workflow-triggers.ts registers `() => void executePollTrigger()`; triggers-and-pollers.ts only counts
 * overlapping polls in `inFlightPolls`), and both would read the same static data and emit the same alerts.
 *
 * RULES
 * - `acquire(key, now)` gives a lease when none is held, or when the held one is older than `staleMs` (a poll that
 *   hangs must not block its trigger for ever). Otherwise it answers undefined: the caller returns nothing and
 *   leaves the static data alone.
 * - `release(lease)` (in `finally`) frees the key only if the lease is still the current one.
 * - `isCurrent(lease)` is false once a newer poll took the key over after the stale timeout: the older poll must
 *   then discard its result (emit nothing, write no state), so even a hung poll that finally returns cannot
 *   overlap in effect.
 * - `staleMs` must be longer than the poll's own time budget (the caller passes budget + slack).
 * Pure: the clock is passed in; no n8n types.
 */

export interface PollLease {
	readonly key: string;
	readonly token: number;
	readonly acquiredAt: number;
	readonly staleAt: number;
}

export class PollLocks {
	private readonly held = new Map<string, PollLease>();
	private counter = 0;

	acquire(key: string, now: number, staleMs: number): PollLease | undefined {
		const current = this.held.get(key);
		if (current && now < current.staleAt) return undefined;
		const lease: PollLease = { key, token: ++this.counter, acquiredAt: now, staleAt: now + Math.max(0, staleMs) };
		this.held.set(key, lease);
		return lease;
	}

	isCurrent(lease: PollLease): boolean {
		return this.held.get(lease.key)?.token === lease.token;
	}

	release(lease: PollLease): void {
		if (this.isCurrent(lease)) this.held.delete(lease.key);
	}

	/** The lease currently held for `key` (tests, diagnostics). */
	holder(key: string): PollLease | undefined {
		return this.held.get(key);
	}

	clear(): void {
		this.held.clear();
	}
}

/** The process-wide guard of every trigger node in this n8n process. */
export const pollLocks = new PollLocks();

/** Key of one trigger: workflow id + node id (the same key n8n uses to count overlapping polls). */
export function pollKey(workflowId: string | undefined, nodeId: string | undefined): string {
	return `${workflowId ?? ''}:${nodeId ?? ''}`;
}
