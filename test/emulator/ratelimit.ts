/**
 * Sliding-window rate limits per (clientId, tenantId, endpoint class) (the Limitations sections of the API pages). A request is admitted
 * only if every rule of its class has room; admitted requests consume one slot of every rule; 429s consume nothing.
 * Windows run on real monotonic time, independent of the emulator clock.
 */
import type { EndpointClass, RateLimitConfig, RateLimitRule, ThrottleCount } from './types';

export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
	alerts: [
		{ limit: 100, windowMs: 60_000 },
		{ limit: 1500, windowMs: 3_600_000 },
	],
	batchUpdate: [
		{ limit: 10, windowMs: 60_000 },
		{ limit: 500, windowMs: 3_600_000 },
	],
	createByReference: [{ limit: 15, windowMs: 60_000 }],
	// Submit, list, delete indicators; import has its own (https://learn.microsoft.com/en-us/defender-endpoint/api/import-ti-indicators).
	indicators: [
		{ limit: 100, windowMs: 60_000 },
		{ limit: 1500, windowMs: 3_600_000 },
	],
	indicatorImport: [{ limit: 30, windowMs: 60_000 }],
	// Machines and machine actions (https://learn.microsoft.com/en-us/defender-endpoint/api/get-machines,
	// https://learn.microsoft.com/en-us/defender-endpoint/api/isolate-machine), package download link (get-package-sas-uri).
	machines: [
		{ limit: 100, windowMs: 60_000 },
		{ limit: 1500, windowMs: 3_600_000 },
	],
	machineActions: [
		{ limit: 100, windowMs: 60_000 },
		{ limit: 1500, windowMs: 3_600_000 },
	],
	packageUri: [
		{ limit: 2, windowMs: 60_000 },
		{ limit: 120, windowMs: 3_600_000 },
	],
	// Microsoft Graph security alerts_v2, every $batch sub-request counting: 150 per minute per app and tenant
	// (https://learn.microsoft.com/en-us/graph/throttling-limits#security-detections-and-incidents-service-limits).
	graphAlerts: [{ limit: 150, windowMs: 60_000 }],
};

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number; rule: RateLimitRule };

function validateRules(cls: string, rules: RateLimitRule[]): RateLimitRule[] {
	if (!Array.isArray(rules)) throw new Error(`Rate limit rules for '${cls}' must be an array`);
	return rules.map((r) => {
		if (!Number.isInteger(r.limit) || r.limit < 1 || !(r.windowMs > 0)) {
			throw new Error(`Invalid rate limit rule for '${cls}': ${JSON.stringify(r)} (limit ≥ 1 integer, windowMs > 0)`);
		}
		return { limit: r.limit, windowMs: r.windowMs };
	});
}

export class RateLimiter {
	private config: RateLimitConfig;
	private enabled: boolean;
	/** key → one sorted timestamp list per rule */
	private readonly hits = new Map<string, number[][]>();
	private readonly throttled = new Map<string, ThrottleCount>();

	constructor(initial: Partial<RateLimitConfig> | false | undefined, private readonly now: () => number = () => performance.now()) {
		this.config = structuredClone(DEFAULT_RATE_LIMITS);
		this.enabled = initial !== false;
		if (initial) this.set(initial);
	}

	set(partial: Partial<RateLimitConfig>): void {
		for (const [cls, rules] of Object.entries(partial) as Array<[EndpointClass, RateLimitRule[] | undefined]>) {
			if (!(cls in DEFAULT_RATE_LIMITS)) throw new Error(`Unknown endpoint class '${cls}' (alerts, batchUpdate, createByReference)`);
			if (rules === undefined) continue;
			this.config[cls] = validateRules(cls, rules);
			for (const key of [...this.hits.keys()]) if (key.endsWith(`|${cls}`)) this.hits.delete(key);
		}
		this.enabled = true;
	}

	disable(): void {
		this.enabled = false;
	}

	enable(): void {
		this.enabled = true;
	}

	/** Forget consumed budget (and, with `counts`, the 429 counters). */
	reset(counts = false): void {
		this.hits.clear();
		if (counts) this.throttled.clear();
	}

	restoreDefaults(): void {
		this.config = structuredClone(DEFAULT_RATE_LIMITS);
		this.hits.clear();
		this.enabled = true;
	}

	current(): { enabled: boolean; rules: RateLimitConfig } {
		return { enabled: this.enabled, rules: structuredClone(this.config) };
	}

	check(clientId: string, tenantId: string, cls: EndpointClass): RateDecision {
		if (!this.enabled) return { ok: true };
		const rules = this.config[cls];
		const key = `${clientId}|${tenantId}|${cls}`;
		let lists = this.hits.get(key);
		if (!lists || lists.length !== rules.length) {
			lists = rules.map(() => []);
			this.hits.set(key, lists);
		}
		const now = this.now();
		let waitMs = 0;
		let violated: RateLimitRule | undefined;
		rules.forEach((rule, i) => {
			const list = lists[i];
			let drop = 0;
			while (drop < list.length && list[drop] <= now - rule.windowMs) drop++;
			if (drop > 0) list.splice(0, drop);
			if (list.length >= rule.limit) {
				const freesAt = list[list.length - rule.limit] + rule.windowMs;
				if (freesAt - now > waitMs || !violated) {
					waitMs = Math.max(waitMs, freesAt - now);
					violated = rule;
				}
			}
		});
		if (violated) {
			const counter = this.throttled.get(key) ?? { clientId, tenantId, endpointClass: cls, count: 0 };
			counter.count += 1;
			this.throttled.set(key, counter);
			return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)), rule: violated };
		}
		for (const list of lists) list.push(now);
		return { ok: true };
	}

	throttleCounts(): ThrottleCount[] {
		return [...this.throttled.values()].map((c) => ({ ...c }));
	}
}
