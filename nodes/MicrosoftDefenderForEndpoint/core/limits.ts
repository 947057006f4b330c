/**
 * Max Throttle Wait: how long HTTP 429 throttling may be waited out. One owner for its default, bounds and
 * parsing; the node descriptions, the parameter readers and the transport derive from here. No n8n types.
 *
 * One default for both nodes, 300 s. The action node needs minutes (an Update Many of thousands of items is worth
 * waiting out a throttle for). The trigger may use the same number safely because a poll never waits past its
 * time budget: the orchestrator gives each tenant min(Max Throttle Wait, time left to the poll's soft deadline)
 * (trigger/orchestrator.pure.ts), and the budget itself is below the poll interval (trigger/schedule.pure.ts). On
 * the default every-minute schedule that is under 54 s whatever the setting; on hourly polls it lets a throttled
 * poll wait up to a few minutes instead of failing after one. Only the maxima differ: the trigger's poll is bounded
 * by n8n's poll budget anyway, so more than an hour is never useful there.
 */
export interface ThrottleWaitLimits {
	/** default in seconds (the parameter's default) */
	defaultSeconds: number;
	/** largest value accepted, in seconds */
	maxSeconds: number;
}

/** The one default of Max Throttle Wait, in seconds (both nodes). */
export const DEFAULT_THROTTLE_WAIT_SECONDS = 300;

export const THROTTLE_WAIT: { action: ThrottleWaitLimits; trigger: ThrottleWaitLimits } = {
	action: { defaultSeconds: DEFAULT_THROTTLE_WAIT_SECONDS, maxSeconds: 24 * 3600 },
	trigger: { defaultSeconds: DEFAULT_THROTTLE_WAIT_SECONDS, maxSeconds: 3600 },
};

/** The transport's wait when a caller gives none (the nodes' default). */
export const DEFAULT_MAX_THROTTLE_WAIT_MS = DEFAULT_THROTTLE_WAIT_SECONDS * 1000;

export class LimitInputError extends Error {
	constructor(message: string) {
		super(message);
		this.name = 'LimitInputError';
	}
}

/** The Max Throttle Wait option (number, numeric string or unset) in milliseconds; throws LimitInputError. */
export function parseMaxThrottleWaitMs(raw: unknown, limits: ThrottleWaitLimits): number {
	const value = raw ?? limits.defaultSeconds;
	const seconds = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
	if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0 || seconds > limits.maxSeconds) {
		throw new LimitInputError(`Max Throttle Wait must be a number of seconds from 0 to ${limits.maxSeconds}, got "${String(value)}"`);
	}
	return Math.round(seconds * 1000);
}

/** The largest Limit of a Get Many (Return All has no limit). */
export const MAX_LIMIT = 100_000;
