/**
 * A poll's time budget from the trigger's poll times (issue 10 item 1): a poll must end before the next one is
 * due, or the two overlap.
 *
 * RULE
 *   interval = the shortest time between two polls the node's `pollTimes` allow (see pollIntervalMs);
 *   budget   = min(n8n's budget, interval − max(5 s, interval / 10))
 * where n8n's budget is `getPollBudgetMs()` (n8n ≥ 2.41: 5 minutes in standard mode, min(poll timeout, lease) minus a
 * margin under the scheduler, packages/cli/src/workflows/triggers/trigger-execution-context.factory.ts), or 5
 * minutes on n8n versions without it. Every minute (the default and n8n's shortest interval): 54 s.
 *
 * `pollTimes` is the fixedCollection n8n's loader adds to every polling node (packages/core/src/nodes-loader/
 * constants.ts `commonPollingParameters`); each item is turned into a cron expression by toCronExpression
 * (packages/workflow/src/cron.ts), with a random second, so every mode but `custom` has a fixed period. The interval
 * is a lower bound: unknown shapes count as one minute, n8n's minimum (a shorter budget is safe, a longer is not).
 * Pure.
 */

export const DEFAULT_BUDGET_MS = 5 * 60_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Shortest cyclic gap between the multiples of `step` in [0, cycle). */
function stepGap(step: number, cycle: number): number {
	const s = Math.trunc(step);
	if (!Number.isFinite(s) || s <= 0) return 1;
	if (s >= cycle) return cycle;
	const last = Math.floor((cycle - 1) / s) * s;
	return Math.min(s, cycle - last);
}

function customInterval(expression: unknown): number {
	if (typeof expression !== 'string') return MINUTE;
	const fields = expression.trim().split(/\s+/);
	const f = fields.length === 6 ? fields.slice(1) : fields;
	if (f.length !== 5) return MINUTE;
	const [minute, hour] = f;
	const fixed = (x: string) => /^\d+$/.test(x);
	// A fixed minute: at most once an hour; a fixed minute and hour: at most once a day (whatever the day fields say).
	if (!fixed(minute)) return MINUTE;
	return fixed(hour) ? DAY : HOUR;
}

function itemInterval(item: Record<string, unknown>): number {
	switch (item.mode) {
		case 'everyMinute':
			return MINUTE;
		case 'everyHour':
			return HOUR;
		case 'everyX': {
			const value = Number(item.value);
			if (item.unit === 'hours') return stepGap(value, 24) * HOUR;
			return stepGap(value, 60) * MINUTE;
		}
		case 'everyDay':
			return DAY;
		case 'everyWeek':
			return 7 * DAY;
		case 'everyMonth':
			return 28 * DAY;
		case 'custom':
			return customInterval(item.cronExpression);
		default:
			return MINUTE;
	}
}

/** Shortest time between two polls, or undefined when `pollTimes` is absent (not loaded by n8n's loader). */
export function pollIntervalMs(pollTimes: unknown): number | undefined {
	const items = (pollTimes as { item?: unknown } | undefined)?.item;
	if (!Array.isArray(items) || items.length === 0) return undefined;
	const each = items.map((i) => (i && typeof i === 'object' ? itemInterval(i as Record<string, unknown>) : MINUTE));
	// Two schedules can fire close together (minute 0 of one, minute 1 of the other): count them as one minute apart.
	return each.length === 1 ? each[0] : Math.min(MINUTE, ...each);
}

/** The poll's time budget (RULE above). */
export function pollBudgetMs(options: { n8nBudgetMs?: number; intervalMs?: number }): number {
	const n8n = typeof options.n8nBudgetMs === 'number' && Number.isFinite(options.n8nBudgetMs) && options.n8nBudgetMs >= 0 ? options.n8nBudgetMs : DEFAULT_BUDGET_MS;
	const interval = options.intervalMs;
	if (interval === undefined || !Number.isFinite(interval) || interval <= 0) return n8n;
	return Math.max(0, Math.min(n8n, interval - Math.max(5000, interval / 10)));
}

/**
 * How long a held overlap lock counts as alive (trigger/pollLock.pure.ts): longer than the budget by one request's
 * timeout and its retries, so only a hung poll ever loses its lock.
 */
export function staleLockMs(budgetMs: number): number {
	return budgetMs + 5 * 60_000;
}
