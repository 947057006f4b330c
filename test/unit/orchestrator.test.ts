/**
 * trigger/orchestrator.pure.ts against fakes: an in-memory alert API per tenant (honours `ge`, ascending order,
 * $top/$skip like Defender), an injected clock, and recorded openTenant calls. No n8n, no HTTP.
 */
import type { AlertListQuery, AlertRecord } from '../../nodes/MicrosoftDefenderForEndpoint/backend/types';
import {
	MAX_RETAINED_STREAMS,
	type OpenTenant,
	runTriggerPoll,
	STATE_VERSION,
	StateRecoveryError,
	type TenantApi,
	type TriggerPlan,
	type TriggerState,
	writeTriggerState,
} from '../../nodes/MicrosoftDefenderForEndpoint/trigger/orchestrator.pure';
import { createStreamState, type StreamState } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/poller';
import type { TenantEntry } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/tenants';

const START = '2025-01-01T00:00:00.0000000Z';
/** `s` seconds after START, canonical 7 digits (lexical order = time order). */
const at = (s: number) => `2025-01-01T00:${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}.0000000Z`;
const alert = (id: string, s: number): AlertRecord => ({ id, alertCreationTime: at(s) });

/** The credential's tenant (what '' opens). */
const CRED = '99999999-9999-9999-9999-999999999999';
const T = (n: number) => `${String(n).repeat(8)}-1111-2222-3333-444444444444`.slice(0, 36);

interface FakeTenant {
	alerts: AlertRecord[];
	/** openTenant rejects with this */
	openError?: Error;
	/** the n-th listAlerts call (1-based) rejects with this */
	failOnCall?: { call: number; error: Error };
	/** runs before each listAlerts answer (moves the clock, waits…) */
	onList?: (call: number) => void | Promise<void>;
}

class World {
	clock = 0;
	readonly tenants = new Map<string, FakeTenant>();
	/** openTenant calls in order */
	readonly opened: Array<{ tenantId: string; maxThrottleWaitMs: number }> = [];
	readonly queries: Array<{ tenantId: string; query: AlertListQuery }> = [];
	inFlight = 0;
	maxInFlight = 0;

	add(tenantId: string, t: Partial<FakeTenant> = {}): this {
		this.tenants.set(tenantId, { alerts: [], ...t });
		return this;
	}

	readonly now = () => this.clock;

	readonly openTenant: OpenTenant = async (entry, maxThrottleWaitMs) => {
		const tenantId = entry.tenantId || CRED;
		this.opened.push({ tenantId, maxThrottleWaitMs });
		const t = this.tenants.get(tenantId);
		if (!t) throw new Error(`no fake tenant ${tenantId}`);
		if (t.openError) throw t.openError;
		let calls = 0;
		const api: TenantApi = {
			tenantId,
			portalUrl: (id) => `https://portal.example/${tenantId}/${id}`,
			listAlerts: async (query) => {
				calls++;
				this.queries.push({ tenantId, query });
				this.inFlight++;
				this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
				try {
					await t.onList?.(calls);
					if (t.failOnCall?.call === calls) throw t.failOnCall.error;
					const from = /alertCreationTime ge (\S+?)\)/.exec(query.filter ?? '')?.[1] ?? '';
					return t.alerts
						.filter((a) => String(a.alertCreationTime) >= from)
						.sort((a, b) => (String(a.alertCreationTime) < String(b.alertCreationTime) ? -1 : 1))
						.slice(query.skip ?? 0, (query.skip ?? 0) + query.top)
						.map((a) => ({ ...a }));
				} finally {
					this.inFlight--;
				}
			},
		};
		return api;
	};

	deps(extra: { maxRetainedStreams?: number } = {}) {
		return { openTenant: this.openTenant, now: this.now, ...extra };
	}
}

const single = (o: Partial<TriggerPlan> = {}): TriggerPlan => ({
	kind: 'created',
	tenants: [{ tenantId: '' }],
	multiTenant: false,
	includeEvidence: false,
	watchFields: [],
	maxItems: 100,
	overlapMs: 0,
	pageSize: 100,
	concurrency: 5,
	maxThrottleWaitMs: 60_000,
	startFrom: { mode: 'date', at: START },
	budgetMs: 300_000,
	...o,
});
const multi = (tenants: TenantEntry[], o: Partial<TriggerPlan> = {}): TriggerPlan => single({ tenants, multiTenant: true, ...o });
const entries = (...ids: string[]): TenantEntry[] => ids.map((tenantId) => ({ tenantId, label: `L-${tenantId.slice(0, 1)}` }));
const emittedIds = (r: { alerts: Array<{ emitted: { alert: AlertRecord }; api: TenantApi }> }) => r.alerts.map((a) => `${a.api.tenantId}:${a.emitted.alert.id}`);
const sleep = async (ms: number): Promise<void> => await new Promise((r) => setTimeout(r, ms));
const stream = (cursorS: number, seen: Record<string, number> = {}): StreamState => ({
	v: 1,
	kind: 'created',
	cursor: at(cursorS),
	floor: START,
	seen: Object.fromEntries(Object.entries(seen).map(([id, s]) => [id, at(s)])),
});

describe('pool', () => {
	test('never more than `concurrency` tenants in flight; every tenant is polled once', async () => {
		const ids = [1, 2, 3, 4, 5, 6, 7].map(T);
		const w = new World();
		for (const id of ids) w.add(id, { alerts: [alert(`a-${id.slice(0, 1)}`, 10)], onList: async () => await sleep(15) });
		const r = await runTriggerPoll(multi(entries(...ids), { concurrency: 3 }), {}, w.deps());
		expect(w.maxInFlight).toBe(3);
		expect(w.opened.map((o) => o.tenantId)).toEqual(ids);
		expect(emittedIds(r)).toEqual(ids.map((id) => `${id}:a-${id.slice(0, 1)}`));
		expect(r.failures).toEqual([]);
		expect(Object.keys(r.state.streams)).toEqual(ids.map((id) => `created:${id}`));
	});

	test('concurrency 1 polls one tenant after the other', async () => {
		const ids = [1, 2, 3].map(T);
		const w = new World();
		for (const id of ids) w.add(id, { onList: async () => await sleep(5) });
		await runTriggerPoll(multi(entries(...ids), { concurrency: 1 }), {}, w.deps());
		expect(w.maxInFlight).toBe(1);
	});

	test('the query: `ge` the stream\'s lower bound, ascending, the server filter ANDed, evidence as asked', async () => {
		const w = new World().add(CRED);
		await runTriggerPoll(single({ serverFilter: "severity eq 'High'", includeEvidence: true, pageSize: 250 }), {}, w.deps());
		expect(w.queries).toEqual([
			{
				tenantId: CRED,
				query: {
					filter: `(alertCreationTime ge ${START}) and (severity eq 'High')`,
					stream: { field: 'alertCreationTime', from: START },
					orderBy: 'alertCreationTime asc',
					top: 250,
					skip: 0,
					expandEvidence: true,
				},
			},
		]);
	});
});

describe('time budget', () => {
	// budget 10 s: soft deadline at 8 s (a fifth, at least 2 s, left), hard deadline at 9 s (a tenth, at least 250 ms)
	const budgetMs = 10_000;

	test('tenants not started before the soft deadline are skipped; the first skipped one goes first next poll', async () => {
		const [a, b, c, d] = [1, 2, 3, 4].map(T);
		const w = new World();
		for (const id of [a, b, c, d]) w.add(id, { onList: () => void (w.clock += 3000) });
		const plan = multi(entries(a, b, c, d), { concurrency: 1, budgetMs });

		const p1 = await runTriggerPoll(plan, {}, w.deps());
		// a at 0 s, b at 3 s, c at 6 s; d's turn at 9 s is past the soft deadline
		expect(w.opened).toEqual([
			{ tenantId: a, maxThrottleWaitMs: 8000 },
			{ tenantId: b, maxThrottleWaitMs: 5000 },
			{ tenantId: c, maxThrottleWaitMs: 2000 },
		]);
		expect(p1.state.resumeAt).toBe(`created:${d}`);
		// the skipped tenant has no stream yet (its GUID, the key, is known once it is opened), no failure
		expect(p1.state.streams[`created:${d}`]).toBeUndefined();
		expect(p1.failures).toEqual([]);

		w.clock = 100_000;
		w.opened.length = 0;
		const p2 = await runTriggerPoll(plan, JSON.parse(JSON.stringify(p1.state)) as TriggerState, w.deps());
		expect(w.opened.map((o) => o.tenantId)).toEqual([d, a, b]);
		expect(p2.state.resumeAt).toBe(`created:${c}`);

		w.opened.length = 0;
		const p3 = await runTriggerPoll(plan, p2.state, w.deps());
		expect(w.opened.map((o) => o.tenantId)).toEqual([c, d, a]);
		expect(p3.state.resumeAt).toBe(`created:${b}`);
	});

	test('the first tenant always starts, even with no budget; resumeAt is dropped once nothing is skipped', async () => {
		const [a, b] = [1, 2].map(T);
		const w = new World().add(a).add(b);
		const p1 = await runTriggerPoll(multi(entries(a, b), { budgetMs: 0 }), {}, w.deps());
		expect(w.opened).toEqual([{ tenantId: a, maxThrottleWaitMs: 1000 }]);
		expect(p1.state.resumeAt).toBe(`created:${b}`);
		const p2 = await runTriggerPoll(multi(entries(a, b)), p1.state, w.deps());
		expect(p2.state).not.toHaveProperty('resumeAt');
		const target: Partial<TriggerState> = { ...p1.state };
		writeTriggerState(target, p2.state);
		expect(target).toEqual({ v: STATE_VERSION, streams: p2.state.streams });
	});

	test('Max Throttle Wait caps the wait a tenant may spend', async () => {
		const w = new World().add(CRED);
		await runTriggerPoll(single({ maxThrottleWaitMs: 1500 }), {}, w.deps());
		expect(w.opened).toEqual([{ tenantId: CRED, maxThrottleWaitMs: 1500 }]);
	});

	test('a stream that has only re-read processed alerts may go on to the hard deadline; one that progressed stops at the soft one', async () => {
		// page 1 (2 alerts) ends at 8.5 s: past the soft deadline, before the hard one
		const alerts = [alert('a1', 1), alert('a2', 2), alert('a3', 3), alert('a4', 4)];
		const previous: TriggerState = { v: 1, streams: { [`created:${CRED}`]: stream(2, { a1: 1, a2: 2 }) } };
		const w = new World().add(CRED, { alerts, onList: (call) => void (w.clock = call === 1 ? 8500 : 8600) });
		const r = await runTriggerPoll(single({ pageSize: 2, budgetMs, overlapMs: 3_600_000 }), previous, w.deps());
		// page 1: a1 a2 (seen: no progress) → page 2 at 8.5 s still allowed: a2 a3 (a3 new) → 8.6 s, progressed: stop
		expect(w.queries).toHaveLength(2);
		expect(emittedIds(r)).toEqual([`${CRED}:a3`]);

		const w2 = new World().add(CRED, { alerts, onList: () => void (w2.clock = 8500) });
		const r2 = await runTriggerPoll(single({ pageSize: 2, budgetMs }), {}, w2.deps());
		// page 1 held new alerts: no second page after the soft deadline
		expect(w2.queries).toHaveLength(1);
		expect(emittedIds(r2)).toEqual([`${CRED}:a1`, `${CRED}:a2`]);
	});
});

describe('failures (multi-tenant)', () => {
	test('a failing tenant keeps its previous state and gives one failure; the others emit and advance', async () => {
		const [a, b, c] = [1, 2, 3].map(T);
		const previous: TriggerState = { v: 1, streams: { [`created:${a}`]: stream(5), [`created:${b}`]: stream(5, { b0: 5 }), [`created:${c}`]: stream(5) } };
		const frozen = JSON.parse(JSON.stringify(previous)) as TriggerState;
		const consent = new Error('not consented');
		const w = new World()
			.add(a, { alerts: [alert('a1', 10)] })
			.add(b, { alerts: [alert('b1', 10)], openError: consent })
			.add(c, { alerts: [alert('c1', 10), alert('c2', 11)] });
		const r = await runTriggerPoll(multi(entries(a, b, c)), previous, w.deps());
		expect(emittedIds(r)).toEqual([`${a}:a1`, `${c}:c1`, `${c}:c2`]);
		expect(r.alerts.map((x) => x.tenant.label)).toEqual(['L-1', 'L-3', 'L-3']);
		expect(r.failures).toEqual([{ tenant: { tenantId: b, label: 'L-2' }, tenantId: b, error: consent, alertsEmitted: 0 }]);
		expect(r.fatal).toBeUndefined();
		expect(r.state.streams[`created:${b}`]).toEqual(frozen.streams[`created:${b}`]);
		expect(r.state.streams[`created:${a}`].cursor).toBe(at(10));
		expect(r.state.streams[`created:${c}`].cursor).toBe(at(11));
	});

	test('a tenant whose 2nd page fails: its first page is emitted, the failure counts it, the state moves past it only', async () => {
		const [a, b] = [1, 2].map(T);
		const http500 = new Error('HTTP 500');
		const w = new World()
			.add(a, { alerts: [alert('a1', 10), alert('a2', 11), alert('a3', 12)], failOnCall: { call: 2, error: http500 } })
			.add(b, { alerts: [alert('b1', 10)] });
		const r = await runTriggerPoll(multi(entries(a, b), { pageSize: 2 }), {}, w.deps());
		expect(emittedIds(r)).toEqual([`${a}:a1`, `${a}:a2`, `${b}:b1`]);
		expect(r.failures).toEqual([{ tenant: { tenantId: a, label: 'L-1' }, tenantId: a, error: http500, alertsEmitted: 2 }]);
		// a1 lies below the new floor (no overlap): pruned from seen
		expect(r.state.streams[`created:${a}`]).toEqual({ v: 2, kind: 'created', cursor: at(11), floor: at(11), seen: { a2: '0' } });
	});

	test('a tenant with no previous stream that fails gets a fresh one at Start From', async () => {
		const a = T(1);
		const w = new World().add(a, { failOnCall: { call: 1, error: new Error('HTTP 503') } });
		const r = await runTriggerPoll(multi(entries(a)), {}, w.deps());
		expect(r.state.streams).toEqual({ [`created:${a}`]: createStreamState('created', START) });
		expect(r.failures.map((f) => [f.tenantId, (f.error as Error).message, f.alertsEmitted])).toEqual([[a, 'HTTP 503', 0]]);
	});
});

describe('single tenant: error policy', () => {
	test('a failure with no alerts is fatal (no Tenant Failures); the state is returned unchanged', async () => {
		const previous: TriggerState = { v: 1, streams: { [`created:${CRED}`]: stream(5, { x: 5 }) } };
		const http401 = new Error('HTTP 401');
		const w = new World().add(CRED, { alerts: [alert('a1', 10)], failOnCall: { call: 1, error: http401 } });
		const r = await runTriggerPoll(single(), previous, w.deps());
		expect(r.alerts).toEqual([]);
		expect(r.failures).toEqual([]);
		expect(r.fatal).toEqual({ tenant: { tenantId: '' }, tenantId: CRED, error: http401, alertsEmitted: 0 });
		expect(r.dropped).toBeUndefined();
		expect(r.state).toEqual({ v: STATE_VERSION, streams: { [`created:${CRED}`]: stream(5, { x: 5 }) } });
	});

	test('a backend that cannot be opened is fatal too', async () => {
		const secret = new Error('rejected the client secret');
		const w = new World().add(CRED, { openError: secret });
		const r = await runTriggerPoll(single(), {}, w.deps());
		expect(r.fatal?.error).toBe(secret);
		expect(r.failures).toEqual([]);
	});

	test('a failure after some alerts: the alerts are delivered, the failure is dropped (for the log), not an output', async () => {
		const http429 = new Error('HTTP 429');
		const w = new World().add(CRED, { alerts: [alert('a1', 10), alert('a2', 11), alert('a3', 12)], failOnCall: { call: 2, error: http429 } });
		const r = await runTriggerPoll(single({ pageSize: 2 }), {}, w.deps());
		expect(emittedIds(r)).toEqual([`${CRED}:a1`, `${CRED}:a2`]);
		expect(r.failures).toEqual([]);
		expect(r.fatal).toBeUndefined();
		expect(r.dropped).toEqual({ tenant: { tenantId: '' }, tenantId: CRED, error: http429, alertsEmitted: 2 });
		expect(r.state.streams[`created:${CRED}`].cursor).toBe(at(11));
	});

	test('multi-tenant never has fatal or dropped, even when every tenant fails', async () => {
		const a = T(1);
		const w = new World().add(a, { openError: new Error('down') });
		const r = await runTriggerPoll(multi(entries(a)), {}, w.deps());
		expect([r.fatal, r.dropped, r.failures.length]).toEqual([undefined, undefined, 1]);
	});
});

describe('state', () => {
	test('single tenant: a stream under the legacy key "<kind>:" is continued under "<kind>:<tenant>" and the old key dropped', async () => {
		const legacy = stream(10, { a1: 10 });
		const w = new World().add(CRED, { alerts: [alert('a0', 3), alert('a1', 10), alert('a2', 12)] });
		const r = await runTriggerPoll(single(), { v: 1, streams: { 'created:': legacy, 'updated:': { ...legacy, kind: 'updated' } } }, w.deps());
		// a0 and a1 are below the cursor / already seen: only a2 (no replay, no re-priming)
		expect(emittedIds(r)).toEqual([`${CRED}:a2`]);
		expect(Object.keys(r.state.streams)).toEqual([`created:${CRED}`, 'updated:']);
		expect(r.state.streams[`created:${CRED}`].cursor).toBe(at(12));
	});

	test('single tenant: the tenant\'s own key wins over the legacy key', async () => {
		const w = new World().add(CRED, { alerts: [alert('a1', 10), alert('a2', 12)] });
		const r = await runTriggerPoll(single(), { v: 1, streams: { 'created:': stream(0), [`created:${CRED}`]: stream(11, { a1: 10 }) } }, w.deps());
		expect(emittedIds(r)).toEqual([`${CRED}:a2`]);
		expect(Object.keys(r.state.streams)).toEqual([`created:${CRED}`]);
	});

	test('multi-tenant: the legacy key is not read (the tenant starts at Start From) but is retained', async () => {
		const a = T(1);
		const legacy = stream(10, { a1: 10 });
		const w = new World().add(a, { alerts: [alert('a1', 10), alert('a2', 12)] });
		const r = await runTriggerPoll(multi(entries(a)), { v: 1, streams: { 'created:': legacy } }, w.deps());
		expect(emittedIds(r)).toEqual([`${a}:a1`, `${a}:a2`]);
		expect(r.state.streams['created:']).toBe(legacy);
		expect(Object.keys(r.state.streams)).toEqual([`created:${a}`, 'created:']);
	});

	test('a state of an unknown version, or a stream of the other kind under a key, is not replayed from Start From: it resumes after its cursor and is reported', async () => {
		const w = new World().add(CRED, { alerts: [alert('a1', 10), alert('a2', 25)] });
		const r1 = await runTriggerPoll(single(), { v: 3, streams: { [`created:${CRED}`]: { ...stream(20, { a1: 10 }), v: 3 } } }, w.deps());
		expect(emittedIds(r1)).toEqual([`${CRED}:a2`]);
		expect(r1.state.v).toBe(STATE_VERSION);
		expect(r1.failures.map((f) => [f.kind, f.tenantId, (f.error as StateRecoveryError).resumedFrom])).toEqual([['state', '', '2025-01-01T00:00:20.0000001Z']]);
		const r2 = await runTriggerPoll(single(), { v: 1, streams: { [`created:${CRED}`]: { ...stream(20, { a1: 10 }), kind: 'updated' } } }, w.deps());
		expect(emittedIds(r2)).toEqual([`${CRED}:a2`]);
		expect(r2.failures.map((f) => [f.kind, f.tenantId, (f.error as Error).message])).toEqual([['state', CRED, expect.stringMatching(/could not be read; resumed from 2025-01-01T00:00:20.0000001Z/)]]);
		// a stream of the other kind is never used for this one (and an unknown version's readable v2 stream is)
		const r3 = await runTriggerPoll(single(), { v: 3, streams: { [`created:${CRED}`]: stream(20, { a1: 10 }) } }, w.deps());
		expect(emittedIds(r3)).toEqual([`${CRED}:a2`]);
		expect(r3.failures).toHaveLength(1);
	});

	test('streams of tenants no longer listed are kept unchanged, the first maxRetainedStreams of them', async () => {
		const a = T(1);
		const unlisted = Object.fromEntries([2, 3, 4, 5, 6].map((n) => [`created:${T(n)}`, stream(n)]));
		const w = new World().add(a, { alerts: [alert('a1', 10)] });
		const r = await runTriggerPoll(multi(entries(a)), { v: 1, streams: { ...unlisted, [`created:${a}`]: stream(1) } }, w.deps({ maxRetainedStreams: 3 }));
		expect(Object.keys(r.state.streams)).toEqual([`created:${a}`, `created:${T(2)}`, `created:${T(3)}`, `created:${T(4)}`]);
		expect(r.state.streams[`created:${T(3)}`]).toBe(unlisted[`created:${T(3)}`]);
	});

	test(`by default at most MAX_RETAINED_STREAMS (${MAX_RETAINED_STREAMS}) unlisted streams are kept`, async () => {
		const streams: Record<string, StreamState> = {};
		for (let i = 0; i < MAX_RETAINED_STREAMS + 25; i++) streams[`created:tenant-${i}.example.com`] = stream(1);
		const w = new World().add(CRED);
		const r = await runTriggerPoll(single(), { v: 1, streams }, w.deps());
		const keys = Object.keys(r.state.streams);
		expect(keys).toHaveLength(MAX_RETAINED_STREAMS + 1);
		expect(keys[0]).toBe(`created:${CRED}`);
		expect(keys.at(-1)).toBe(`created:tenant-${MAX_RETAINED_STREAMS - 1}.example.com`);
	});

	test('keys are lower case, from the tenant the backend reports', async () => {
		const upper = 'AAAAAAAA-1111-2222-3333-444444444444';
		const w = new World().add(upper, { alerts: [alert('a1', 10)] });
		const r = await runTriggerPoll(multi([{ tenantId: upper }]), {}, w.deps());
		expect(Object.keys(r.state.streams)).toEqual([`created:${upper.toLowerCase()}`]);
	});
});
