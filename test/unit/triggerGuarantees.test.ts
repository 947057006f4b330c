/**
 * The pure pieces behind issue 10: the overlap guard (trigger/pollLock.pure.ts), the API clock
 * (transport/serverClock.ts), the primed-boundary memory (trigger/primed.pure.ts), reading old and damaged state
 * (trigger/state.pure.ts), and the orchestrator's start boundary, `persist` flag and GUID keys.
 */
import type { AlertListQuery, AlertRecord } from '../../nodes/MicrosoftDefenderForEndpoint/backend/types';
import { ServerClock } from '../../nodes/MicrosoftDefenderForEndpoint/transport/serverClock';
import {
	autoPageSize,
	HOST_CLOCK_MARGIN_MS,
	type PrimedMemory,
	runTriggerPoll,
	START_MARGIN_MS,
	type TenantApi,
	type TriggerDeps,
	type TriggerPlan,
} from '../../nodes/MicrosoftDefenderForEndpoint/trigger/orchestrator.pure';
import { PollLocks, pollKey } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/pollLock.pure';
import { createStreamState } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/poller';
import { PrimedStarts } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/primed.pure';
import { readStoredState, recoveredBoundary } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/state.pure';

describe('overlap guard', () => {
	test('one lease per key; released in finally; a stale lease is taken over and the old holder is no longer current', () => {
		const locks = new PollLocks();
		const key = pollKey('wf1', 'node1');
		const a = locks.acquire(key, 1000, 60_000)!;
		expect(a).toBeDefined();
		expect(locks.acquire(key, 1100, 60_000)).toBeUndefined(); // the overlapping poll does nothing
		expect(locks.acquire(pollKey('wf1', 'node2'), 1100, 60_000)).toBeDefined(); // another trigger is independent
		locks.release(a);
		const b = locks.acquire(key, 2000, 60_000)!;
		expect(b).toBeDefined();
		const c = locks.acquire(key, 2000 + 60_000, 60_000)!; // b hung past its stale timeout
		expect(c).toBeDefined();
		expect(locks.isCurrent(b)).toBe(false); // b's late result is discarded by the node
		locks.release(b); // does not free c's lock
		expect(locks.holder(key)?.token).toBe(c.token);
	});
});

describe('server clock', () => {
	test('offset from the Date header per origin; never ahead of the server; unknown origins answer undefined', () => {
		let host = Date.parse('2026-03-01T10:02:00.000Z'); // host 2 min ahead of the API
		const clock = new ServerClock(() => host);
		clock.record('https://api.security.microsoft.com/api/alerts?x=1', 'Sun, 01 Mar 2026 10:00:00 GMT');
		expect(clock.now('https://API.security.microsoft.com/other')).toBe(Date.parse('2026-03-01T10:00:00.000Z'));
		host += 30_000;
		expect(clock.now('https://api.security.microsoft.com')).toBe(Date.parse('2026-03-01T10:00:30.000Z'));
		expect(clock.now('https://eu.api.security.microsoft.com')).toBeUndefined();
		clock.record('https://eu.api.security.microsoft.com', undefined);
		clock.record('https://eu.api.security.microsoft.com', 'not a date');
		expect(clock.now('https://eu.api.security.microsoft.com')).toBeUndefined();
	});
});

describe('primed boundaries', () => {
	test('remembered per trigger and stream until forgotten; bounded', () => {
		const p = new PrimedStarts();
		p.set('wf:n', 'created:a', '2026-01-01T00:00:00.0000000Z');
		expect(p.get('wf:n', 'created:a')).toBe('2026-01-01T00:00:00.0000000Z');
		expect(p.get('wf:other', 'created:a')).toBeUndefined();
		p.forget('wf:n', 'created:a');
		expect(p.get('wf:n', 'created:a')).toBeUndefined();
	});
});

describe('stored state', () => {
	const cursor = '2026-01-01T10:00:00.0000000Z';
	test('empty static data is fresh, not a problem', () => {
		expect(readStoredState({})).toMatchObject({ fresh: true });
		expect(readStoredState({}).problem).toBeUndefined();
		expect(readStoredState(undefined)).toMatchObject({ fresh: true });
	});
	test('versions 1 and 2 are readable; an unknown version is a problem, its streams are salvaged when valid', () => {
		const s1 = readStoredState({ v: 1, streams: { 'created:x': { v: 1, kind: 'created', cursor, floor: cursor, seen: {} } } });
		expect([s1.problem, [...s1.valid.keys()]]).toEqual([undefined, ['created:x']]);
		const s9 = readStoredState({ v: 9, streams: { 'created:x': createStreamState('created', cursor), 'created:y': { cursor: 'garbage' } } });
		expect(s9.problem).toMatch(/format version 9/);
		expect([...s9.valid.keys()]).toEqual(['created:x']);
		expect([...s9.damaged.keys()]).toEqual(['created:y']);
	});
	test('recovery: just after the damaged stream\'s own cursor, else the newest cursor of its kind anywhere, else any kind', () => {
		const s = readStoredState({
			v: 2,
			streams: {
				'created:a': { v: 2, kind: 'created', cursor, floor: cursor, seen: 'lost' },
				'created:b': { broken: true },
				'updated:c': createStreamState('updated', '2026-02-01T00:00:00.0000000Z'),
			},
		});
		expect(recoveredBoundary(s, 'created', 'created:a')).toBe('2026-01-01T10:00:00.0000001Z');
		expect(recoveredBoundary(s, 'created', 'created:b')).toBe('2026-01-01T10:00:00.0000001Z');
		expect(recoveredBoundary(readStoredState({ junk: { deep: { cursor } } }), 'updated')).toBe('2026-01-01T10:00:00.0000001Z');
		expect(readStoredState({ junk: 1 }).problem).toMatch(/not in this node's format/);
		expect(recoveredBoundary(readStoredState({ junk: 1 }), 'created')).toBeUndefined();
	});
});

describe('orchestrator: start boundary, persist, identity, page size', () => {
	const GUID = 'aaaaaaaa-1111-2222-3333-444444444444';
	const plan = (o: Partial<TriggerPlan> = {}): TriggerPlan => ({
		kind: 'created',
		tenants: [{ tenantId: '' }],
		multiTenant: false,
		includeEvidence: false,
		watchFields: [],
		maxItems: 100,
		overlapMs: 0,
		concurrency: 5,
		maxThrottleWaitMs: 60_000,
		startFrom: { mode: 'now' },
		budgetMs: 300_000,
		...o,
	});
	const api = (tenantId: string, alerts: AlertRecord[] = [], queries: AlertListQuery[] = []): TenantApi => ({
		tenantId,
		portalUrl: (id) => id,
		tenantGuid: async () => GUID,
		listAlerts: async (q) => {
			queries.push(q);
			const from = /ge (\S+?)\)/.exec(q.filter ?? '')?.[1] ?? '';
			return alerts.filter((a) => String(a.alertCreationTime) >= from).slice(q.skip ?? 0, (q.skip ?? 0) + q.top);
		},
	});
	const memory = (): PrimedMemory & { map: Map<string, string> } => {
		const map = new Map<string, string>();
		return { map, get: (k) => map.get(k), set: (k, v) => void map.set(k, v), forget: (k) => void map.delete(k) };
	};
	const deps = (o: Partial<TriggerDeps> & { tenant?: TenantApi }): TriggerDeps => ({
		openTenant: async () => o.tenant ?? api('contoso.onmicrosoft.com'),
		now: () => 0,
		...o,
	});

	test('Start From = Now: the API clock minus START_MARGIN_MS; only without it the host clock minus HOST_CLOCK_MARGIN_MS', async () => {
		const server = Date.parse('2026-03-01T10:00:00.000Z');
		const r = await runTriggerPoll(plan(), {}, deps({ serverNow: async () => ({ ms: server, fromApi: true }) }));
		expect(r.state.streams[`created:${GUID}`].cursor).toBe(new Date(server - START_MARGIN_MS).toISOString().replace('Z', '0000Z'));
		const h = await runTriggerPoll(plan({ startFrom: { mode: 'hoursBack', hours: 1 } }), {}, deps({ serverNow: async () => ({ ms: server, fromApi: false }) }));
		expect(h.state.streams[`created:${GUID}`].cursor).toBe(new Date(server - HOST_CLOCK_MARGIN_MS - 3_600_000).toISOString().replace('Z', '0000Z'));
	});

	test('a primed boundary missing from the next state is reused and persisted; staged state (durable cursors) persists every priming', async () => {
		const m = memory();
		const clock = { ms: Date.parse('2026-03-01T10:00:00.000Z'), fromApi: true };
		const first = await runTriggerPoll(plan(), {}, deps({ primed: m, serverNow: async () => clock }));
		expect(first.persist).toBe(false); // standard mode: n8n saves the activation poll's state itself
		const primed = first.state.streams[`created:${GUID}`].cursor;
		clock.ms += 60_000;
		const again = await runTriggerPoll(plan(), {}, deps({ primed: m, serverNow: async () => clock })); // n8n dropped it
		expect(again.state.streams[`created:${GUID}`].cursor).toBe(primed);
		expect(again.persist).toBe(true);
		const kept = await runTriggerPoll(plan(), again.state, deps({ primed: m, serverNow: async () => clock }));
		expect([kept.persist, m.map.size]).toEqual([false, 0]);
		const staged = await runTriggerPoll(plan(), {}, deps({ primed: memory(), stagedState: true, serverNow: async () => clock }));
		expect(staged.persist).toBe(true);
	});

	test('keyed by the token\'s tenant GUID; a version-1 domain key is found by resolving the domain', async () => {
		const cursor = '2026-01-01T00:00:10.0000000Z';
		const old = { v: 1, streams: { 'created:contoso.onmicrosoft.com': { v: 1, kind: 'created', cursor, floor: cursor, seen: { a1: cursor } } } };
		const alerts = [{ id: 'a1', alertCreationTime: cursor }, { id: 'a2', alertCreationTime: '2026-01-01T00:00:11.0000000Z' }];
		const opened: string[] = [];
		const r = await runTriggerPoll(plan({ tenants: [{ tenantId: GUID }], multiTenant: true, startFrom: { mode: 'date', at: '2020-01-01T00:00:00Z' } }), old, {
			openTenant: async (t) => {
				opened.push(t.tenantId);
				return api(t.tenantId, alerts);
			},
			now: () => 0,
		});
		expect(r.alerts.map((a) => a.emitted.alert.id)).toEqual(['a2']);
		expect(opened).toEqual([GUID, 'contoso.onmicrosoft.com']);
		expect(Object.keys(r.state.streams)).toEqual([`created:${GUID}`]);
	});

	test('automatic page size: the window held in seen + Max Alerts per Poll + 1, between 1,000 and 10,000 (1,000 with evidence)', () => {
		const withSeen = (n: number) => ({ ...createStreamState('created', '2026-01-01T00:00:00Z'), seen: Object.fromEntries(Array.from({ length: n }, (_, i) => [`a${i}`, '0'])) });
		expect(autoPageSize(withSeen(0), 500, false)).toBe(1000);
		expect(autoPageSize(withSeen(0), 2500, false)).toBe(2501);
		expect(autoPageSize(withSeen(5000), 2500, false)).toBe(7501);
		expect(autoPageSize(withSeen(9000), 2500, false)).toBe(10_000);
		expect(autoPageSize(withSeen(5000), 2500, true)).toBe(1000);
	});
});
