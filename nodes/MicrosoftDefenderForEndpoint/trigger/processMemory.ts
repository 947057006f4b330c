/**
 * The trigger's process-wide memory, in one place so tests (and a simulated n8n restart) can clear it:
 * the overlap guard's locks (trigger/pollLock.pure.ts), the start boundaries of streams primed by this process
 * (trigger/primed.pure.ts), the API clock estimates (transport/serverClock.ts) and the Graph origins that refused
 * `$orderby` (trigger/graphStream.pure.ts; asked again after a restart). Nothing here is a source of
 * truth that survives a restart: n8n's static data is. It only covers gaps of n8n's persistence within one process.
 */
import { serverClock } from '../transport/serverClock';
import { pollLocks } from './pollLock.pure';
import { primedStarts } from './primed.pure';

export { pollLocks, primedStarts, serverClock };

/**
 * The request in flight that learns an API origin's clock (its Date header), so triggers priming at the same time
 * send one, not one each. Settled entries are removed: the clock itself is in serverClock.
 */
const probes = new Map<string, Promise<unknown>>();
export const clockProbes = {
	has: (origin: string) => probes.has(origin),
	get: (origin: string) => probes.get(origin),
	start(origin: string, request: Promise<unknown>): Promise<unknown> {
		probes.set(origin, request);
		const done = () => {
			if (probes.get(origin) === request) probes.delete(origin);
		};
		request.then(done, done);
		return request;
	},
	/** a failed probe: the next tenant asks again */
	forget(origin: string, request: Promise<unknown>): void {
		if (probes.get(origin) === request) probes.delete(origin);
	},
	clear: () => probes.clear(),
};

/** API origins (base URLs) whose alert lists refused `$orderby`; bounded. */
const unorderedOrigins = new Set<string>();
const MAX_ORIGINS = 1000;
export const graphOrder = {
	memory(origin: string) {
		return {
			unordered: () => unorderedOrigins.has(origin),
			markUnordered: () => {
				if (unorderedOrigins.size >= MAX_ORIGINS) unorderedOrigins.clear();
				unorderedOrigins.add(origin);
			},
		};
	},
	clear: () => unorderedOrigins.clear(),
};

/** Forget everything (what a restart of the n8n process does). */
export function resetTriggerProcessMemory(): void {
	pollLocks.clear();
	primedStarts.clear();
	serverClock.clear();
	graphOrder.clear();
	clockProbes.clear();
}
