/**
 * Max Throttle Wait: how long HTTP 429 throttling may be waited out. One owner for its defaults, bounds and
 * parsing; the node descriptions, the parameter readers and the transport derive from here. No n8n types.
 *
 * The action node may wait long (an Update Many of thousands of items is worth a few minutes); the trigger waits
 * less, because a poll must end inside its poll interval.
 */
export interface ThrottleWaitLimits {
	/** default in seconds (the parameter's default) */
	defaultSeconds: number;
	/** largest value accepted, in seconds */
	maxSeconds: number;
}

export const THROTTLE_WAIT: { action: ThrottleWaitLimits; trigger: ThrottleWaitLimits } = {
	action: { defaultSeconds: 300, maxSeconds: 24 * 3600 },
	trigger: { defaultSeconds: 60, maxSeconds: 3600 },
};

/** The transport's wait when a caller gives none (the action node's default). */
export const DEFAULT_MAX_THROTTLE_WAIT_MS = THROTTLE_WAIT.action.defaultSeconds * 1000;

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
