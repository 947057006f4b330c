/**
 * Client-side pacing under Defender's documented budgets, per (app, tenant, endpoint class), so a long workflow
 * never causes a 429 of its own making. Sliding windows, like the service's. Budgets are per app + tenant, so one
 * busy customer tenant never slows another. The budgets are in the Limitations section of each API page, e.g.
 * https://learn.microsoft.com/en-us/defender-endpoint/api/get-alerts and
 * https://learn.microsoft.com/en-us/defender-endpoint/api/batch-update-alerts.
 */
export type EndpointClass = 'alerts' | 'batchUpdate' | 'createByReference' | 'indicators' | 'indicatorImport' | 'machines' | 'machineActions' | 'packageUri' | 'graphAlerts' | 'hunting';

export interface Window {
	limit: number;
	windowMs: number;
}

export const DOCUMENTED_BUDGETS: Record<EndpointClass, Window[]> = {
	alerts: [
		{ limit: 100, windowMs: 60_000 },
		{ limit: 1500, windowMs: 3_600_000 },
	],
	batchUpdate: [
		{ limit: 10, windowMs: 60_000 },
		{ limit: 500, windowMs: 3_600_000 },
	],
	createByReference: [{ limit: 15, windowMs: 60_000 }],
	// Submit, list and delete indicators: https://learn.microsoft.com/en-us/defender-endpoint/api/post-ti-indicator
	indicators: [
		{ limit: 100, windowMs: 60_000 },
		{ limit: 1500, windowMs: 3_600_000 },
	],
	// Import indicators has its own budget, no hourly one stated: https://learn.microsoft.com/en-us/defender-endpoint/api/import-ti-indicators
	indicatorImport: [{ limit: 30, windowMs: 60_000 }],
	// Machines: list, get, find by IP/tag, tags, logon users, related alerts (one budget for all, the strictest reading):
	// https://learn.microsoft.com/en-us/defender-endpoint/api/get-machines
	machines: [
		{ limit: 100, windowMs: 60_000 },
		{ limit: 1500, windowMs: 3_600_000 },
	],
	// Machine actions (isolate, scan, …, cancel) and List/Get MachineActions, one budget for all of them:
	// https://learn.microsoft.com/en-us/defender-endpoint/api/isolate-machine, https://learn.microsoft.com/en-us/defender-endpoint/api/get-machineactions-collection
	machineActions: [
		{ limit: 100, windowMs: 60_000 },
		{ limit: 1500, windowMs: 3_600_000 },
	],
	// Get investigation package SAS URI: https://learn.microsoft.com/en-us/defender-endpoint/api/get-package-sas-uri
	packageUri: [
		{ limit: 2, windowMs: 60_000 },
		{ limit: 120, windowMs: 3_600_000 },
	],
	// Microsoft Graph security alerts_v2 (list, get, update, comments; every sub-request of a $batch counts): Graph's
	// throttling page documents 150 requests per minute per app and tenant for security detections
	// (https://learn.microsoft.com/en-us/graph/throttling-limits#security-detections-and-incidents-service-limits), a text
	// older than alerts_v2: paced under it, at 130, so one whole $batch of 20 fits in the headroom when the service
	// counts a batch a little later than we did (its window then still holds the previous batch).
	// Security incidents (/security/incidents: list, get, update, comments, backend/incidents.ts) use this class too:
	// the same page documents one budget for "security detections and incidents", so alerts and incidents share it.
	graphAlerts: [{ limit: 130, windowMs: 60_000 }],
	// Microsoft Graph advanced hunting (runHuntingQuery): "at least 45 calls per minute per tenant"
	// (https://learn.microsoft.com/en-us/graph/api/resources/security-api-overview,
	// https://learn.microsoft.com/en-us/defender-xdr/api-advanced-hunting): 45 per app and tenant in any 61 s, so the
	// service's 60 s window never holds 46 even when it counts our first call a little later than we sent it.
	hunting: [{ limit: 45, windowMs: 61_000 }],
};

/** The Graph security budget the pacing above stays under (per app and tenant, per minute). */
export const GRAPH_ALERTS_DOCUMENTED_PER_MINUTE = 150;

const MAX_KEYS = 10_000;

interface KeyState {
	/** send times, oldest first, at most max(limit) entries */
	sent: number[];
	/** no request before this time (set from a Retry-After) */
	blockedUntil: number;
}

export class Pacer {
	private readonly keys = new Map<string, KeyState>();
	private timeScale = 1;

	constructor(private readonly now: () => number = () => Date.now()) {}

	/**
	 * Shrink every window by a factor (benchmarks and tests run the documented budgets against an emulator whose
	 * windows are scaled the same way; production uses 1).
	 */
	setTimeScale(scale: number): void {
		if (!(scale > 0)) throw new Error('time scale must be positive');
		this.timeScale = scale;
	}

	reset(): void {
		this.keys.clear();
	}

	private windows(cls: EndpointClass): Window[] {
		return DOCUMENTED_BUDGETS[cls].map((w) => ({ limit: w.limit, windowMs: w.windowMs * this.timeScale }));
	}

	private state(key: string): KeyState {
		let s = this.keys.get(key);
		if (!s) {
			s = { sent: [], blockedUntil: 0 };
			this.keys.set(key, s);
			if (this.keys.size > MAX_KEYS) {
				const oldest = this.keys.keys().next().value;
				if (oldest !== undefined) this.keys.delete(oldest);
			}
		}
		return s;
	}

	/** Milliseconds to wait before the next request for this key may be sent (0 = now). */
	delayFor(key: string, cls: EndpointClass): number {
		const s = this.state(key);
		const t = this.now();
		let until = s.blockedUntil;
		for (const w of this.windows(cls)) {
			const inWindow = s.sent.filter((ts) => ts > t - w.windowMs);
			if (inWindow.length >= w.limit) {
				const freeAt = inWindow[inWindow.length - w.limit] + w.windowMs + 1;
				until = Math.max(until, freeAt);
			}
		}
		return Math.max(0, until - t);
	}

	/** Requests recorded for this key inside the class's shortest window (for diagnostics and tests). */
	recent(key: string, cls: EndpointClass): number {
		const t = this.now();
		const shortest = Math.min(...this.windows(cls).map((w) => w.windowMs));
		return (this.keys.get(key)?.sent ?? []).filter((ts) => ts > t - shortest).length;
	}

	/** Record that a request is being sent now. */
	record(key: string, cls: EndpointClass): void {
		const s = this.state(key);
		const t = this.now();
		s.sent.push(t);
		const longest = Math.max(...this.windows(cls).map((w) => w.windowMs));
		const maxKeep = Math.max(...this.windows(cls).map((w) => w.limit));
		while (s.sent.length > 0 && (s.sent[0] <= t - longest || s.sent.length > maxKeep)) s.sent.shift();
	}

	/** The service said 429 with Retry-After: hold every request for this key until then. */
	blockFor(key: string, ms: number): void {
		const s = this.state(key);
		s.blockedUntil = Math.max(s.blockedUntil, this.now() + ms);
	}
}

export const pacer = new Pacer();
