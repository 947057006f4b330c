/**
 * "New Alert" through n8n-core's PollContext against the emulator: priming, exactly-once over polls, ties at one
 * 7-digit timestamp across pages, sub-millisecond ordering, late arrivals, restarts with n8n's legacy persistence,
 * the idle poll's request count and the output shape.
 */
import { START_MARGIN_MS } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/orchestrator.pure';
import { DEFAULT_MAX_ALERTS_PER_POLL } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/settings';
import { createTriggerEnv, expectNoDuplicates, ids, sleepMs, STATIC_KEY, type TriggerEnv } from './env';
import { resetBetweenTests } from '../harness';

let env: TriggerEnv;

beforeAll(async () => {
	// 40 seeded alerts from the last 7 days: history that "Start From: Now" must not deliver.
	env = await createTriggerEnv({ scenario: { tenants: 1, alertsPerTenant: 40 } });
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => {
	resetBetweenTests(env.emu);
	// Each test activates its own trigger on the shared tenant: by the API's clock, later than START_MARGIN_MS after
	// the previous test's alerts (Start From = Now may deliver alerts of the last START_MARGIN_MS before activation).
	env.emu.advanceClock(START_MARGIN_MS + 1000);
});

/** An emulator timestamp strictly after everything so far (the trigger's "now" is the local clock, in ms). */
async function instant(): Promise<string> {
	await sleepMs(3);
	return env.emu.now();
}

/** `base` (7 digits) with the last four fraction digits replaced by `n` (0..9999): same millisecond. */
function sameMs(base: string, n: number): string {
	return `${base.slice(0, 23)}${String(n).padStart(4, '0')}Z`;
}

describe('priming and exactly-once', () => {
	test('first poll with Start From = Now emits nothing; later alerts exactly once; an idle poll is ONE request', async () => {
		const d = env.deploy({ event: 'newAlert' });
		const first = await d.poll();
		expect(first.raw).toBeNull();
		// Priming asks the API for its clock once (the newest alert, to read the Date header), then reads from there.
		expect(first.api.map((r) => r.query.$orderby)).toEqual(['alertCreationTime desc', 'alertCreationTime asc']);
		expect(first.api[0].query.$top).toBe('1');
		expect(first.tokens).toHaveLength(1);

		const batch1 = env.emu.addAlerts(env.tenantId, 3);
		const p1 = await d.poll();
		expect(ids(p1.alerts)).toEqual(batch1.map((a) => a.id));
		expect(p1.tokens).toHaveLength(0);

		const batch2 = env.emu.addAlerts(env.tenantId, 2);
		const p2 = await d.poll();
		expect(ids(p2.alerts)).toEqual(batch2.map((a) => a.id));

		// Idle: the token is cached; exactly one API request, nothing emitted.
		const idle = await d.poll();
		expect(idle.raw).toBeNull();
		expect(idle.api).toHaveLength(1);
		expect(idle.tokens).toHaveLength(0);
		const q = idle.api[0];
		expect(q.path).toBe('/api/alerts');
		expect(q.status).toBe(200);
		expect(q.query.$orderby).toBe('alertCreationTime asc');
		// automatic page size: what the poll reads (5 alerts in the window + Max Alerts per Poll 2,500 + 1)
		expect(q.query.$top).toBe(String(5 + DEFAULT_MAX_ALERTS_PER_POLL + 1));
		expect(String(q.query.$filter)).toMatch(/^\(alertCreationTime ge \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z\)$/);
		// None of the 40 seeded (historic) alerts came out.
		const seeded = new Set(env.scenario.tenants[0].alertIds);
		expect([...ids(p1.alerts), ...ids(p2.alerts)].filter((id) => seeded.has(id))).toEqual([]);
	});

	test('250 alerts sharing ONE 7-digit timestamp, page size 100: every one exactly once over 3 polls, via $skip', async () => {
		const d = env.deploy({ event: 'newAlert', options: { maxAlertsPerPoll: 100, pageSize: 100 } });
		expect((await d.poll()).raw).toBeNull();
		const t = await instant();
		const added = env.emu.addAlerts(env.tenantId, Array.from({ length: 250 }, () => ({ alertCreationTime: t })));
		const { alerts, polls } = await d.drain(10);
		expect(polls.map((p) => p.alerts.length)).toEqual([100, 100, 50, 0]);
		expect(ids(alerts).sort()).toEqual(added.map((a) => a.id).sort());
		expectNoDuplicates(ids(alerts));
		expect(alerts.every((a) => a.alertCreationTime === t)).toBe(true);
		const requests = polls.flatMap((p) => p.api);
		expect(requests.every((r) => r.query.$top === '100')).toBe(true);
		expect(requests.some((r) => r.query.$skip === '100')).toBe(true);
		expect(requests.some((r) => r.query.$skip === '200')).toBe(true);
		// The cursor is the full 7-digit instant, never a Date-rounded value.
		expect(Object.values(d.state().streams ?? {})[0].cursor).toBe(t);
	});

	test('alerts that differ only in the 5th–7th fraction digit: all delivered once, in order, across page boundaries', async () => {
		const d = env.deploy({ event: 'newAlert', options: { maxAlertsPerPoll: 100, pageSize: 100 } });
		expect((await d.poll()).raw).toBeNull();
		const base = await instant();
		// 150 alerts inside one 100 µs: .xxx0000 … .xxx0149 (JavaScript Date would see one instant)
		const times = Array.from({ length: 150 }, (_, i) => sameMs(base, i));
		// insert in shuffled order: the API sorts by the full 7-digit value
		const shuffled = times.map((t, i) => ({ t, k: (i * 7919) % 150 })).sort((a, b) => a.k - b.k);
		const added = env.emu.addAlerts(env.tenantId, shuffled.map(({ t }) => ({ alertCreationTime: t })));
		const byTime = new Map(added.map((a) => [a.alertCreationTime, a.id]));
		const { alerts, polls } = await d.drain(10);
		expect(polls.map((p) => p.alerts.length)).toEqual([100, 50, 0]);
		expect(alerts.map((a) => a.alertCreationTime)).toEqual(times);
		expect(ids(alerts)).toEqual(times.map((t) => byTime.get(t)));
	});

	test('late arrival inside the window (older alertCreationTime, visible later) is emitted once', async () => {
		const d = env.deploy({ event: 'newAlert' });
		expect((await d.poll()).raw).toBeNull();
		const [late] = env.emu.addAlerts(env.tenantId, [{ alertCreationTime: await instant(), visibleAfter: 400 }]);
		const [onTime] = env.emu.addAlerts(env.tenantId, [{ alertCreationTime: await instant() }]);
		const p1 = await d.poll();
		expect(ids(p1.alerts)).toEqual([onTime.id]);
		const cursor = Object.values(d.state().streams ?? {})[0].cursor;
		expect(cursor).toBe(onTime.alertCreationTime);
		expect(late.alertCreationTime < cursor).toBe(true);

		await sleepMs(450);
		const p2 = await d.poll();
		expect(ids(p2.alerts)).toEqual([late.id]);
		expect((await d.poll()).raw).toBeNull();
	});

	test('(the window is what makes that work) with a Late Arrival Window of 0 the same late alert is out of reach', async () => {
		const d = env.deploy({ event: 'newAlert', options: { overlapMinutes: 0 } });
		expect((await d.poll()).raw).toBeNull();
		const [late] = env.emu.addAlerts(env.tenantId, [{ alertCreationTime: await instant(), visibleAfter: 300 }]);
		const [onTime] = env.emu.addAlerts(env.tenantId, [{ alertCreationTime: await instant() }]);
		expect(ids((await d.poll()).alerts)).toEqual([onTime.id]);
		await sleepMs(350);
		expect(env.emu.isAlertVisible(env.tenantId, late.id)).toBe(true);
		expect((await d.poll()).raw).toBeNull();
	});
});

describe('restarts with n8n legacy persistence (state saved only by polls that emitted)', () => {
	test('restart after every poll: no replay, no loss', async () => {
		const d = env.deploy({ event: 'newAlert', options: { maxAlertsPerPoll: 100, pageSize: 100 } });
		expect((await d.poll()).raw).toBeNull();
		// The priming poll returned null, so n8n saved nothing; keep the process up until something is emitted.
		const all: string[] = [];
		const t = await instant();
		all.push(...env.emu.addAlerts(env.tenantId, Array.from({ length: 120 }, () => ({ alertCreationTime: t }))).map((a) => a.id));
		all.push(...env.emu.addAlerts(env.tenantId, 30).map((a) => a.id));
		const got: string[] = [];
		let nulls = 0;
		for (let i = 0; i < 12 && nulls < 2; i++) {
			const p = await d.poll();
			if (p.raw === null) nulls++;
			got.push(...ids(p.alerts));
			if (i === 2) all.push(...env.emu.addAlerts(env.tenantId, 5).map((a) => a.id));
			d.restart(); // n8n restarts: in-memory static data is replaced by the last saved copy
		}
		expect(got.sort()).toEqual([...all].sort());
		expectNoDuplicates(got);
	});

	test('a restart right after a poll that returned null loses nothing (the unsaved state equals the saved one)', async () => {
		const d = env.deploy({ event: 'newAlert' });
		await d.poll();
		const a = env.emu.addAlerts(env.tenantId, 4).map((x) => x.id);
		expect(ids((await d.poll()).alerts)).toEqual(a);
		const savedBefore = JSON.stringify(d.saved);
		expect((await d.poll()).raw).toBeNull();
		expect(JSON.stringify(d.harness.snapshot())).toBe(savedBefore);
		d.restart();
		const b = env.emu.addAlerts(env.tenantId, 2).map((x) => x.id);
		expect(ids((await d.poll()).alerts)).toEqual(b);
		expect((await d.poll()).raw).toBeNull();
	});
});

describe('stream keys', () => {
	test('single-tenant state is keyed by the credential\'s tenant, so listing that tenant under Tenants continues it', async () => {
		const d = env.deploy({ event: 'newAlert' });
		await d.poll();
		const a = env.emu.addAlerts(env.tenantId, 2).map((x) => x.id);
		expect(ids((await d.poll()).alerts)).toEqual(a);
		expect(Object.keys(d.state().streams!)).toEqual([`created:${env.tenantId}`]);
		d.restart({ event: 'newAlert', tenants: `${env.tenantId}=Own tenant` });
		const b = env.emu.addAlerts(env.tenantId, 1).map((x) => x.id);
		const p = await d.poll();
		expect(ids(p.alerts)).toEqual(b);
		expect(p.alerts[0].customerLabel).toBe('Own tenant');
	});

	test('a state stored under the older key "created:" is picked up (no re-priming, no replay) and re-keyed', async () => {
		const d0 = env.deploy({ event: 'newAlert' });
		await d0.poll();
		const a = env.emu.addAlerts(env.tenantId, 2).map((x) => x.id);
		expect(ids((await d0.poll()).alerts)).toEqual(a);
		const state = d0.state().streams![`created:${env.tenantId}`];
		const d = env.deploy({ event: 'newAlert' }, { staticData: { [STATIC_KEY]: { v: 1, streams: { 'created:': state } } } });
		const b = env.emu.addAlerts(env.tenantId, 1).map((x) => x.id);
		expect(ids((await d.poll()).alerts)).toEqual(b);
		expect(Object.keys(d.state().streams!)).toEqual([`created:${env.tenantId}`]);
	});

	test('switching the event to Updated Alert and back keeps the New Alert stream', async () => {
		const d = env.deploy({ event: 'newAlert' });
		await d.poll();
		const a = env.emu.addAlerts(env.tenantId, 1).map((x) => x.id);
		expect(ids((await d.poll()).alerts)).toEqual(a);
		d.restart({ event: 'updatedAlert' });
		await d.poll(); // primes the updated stream (returns null: not saved)
		const b = env.emu.addAlerts(env.tenantId, 1).map((x) => x.id);
		expect(ids((await d.poll()).alerts)).toEqual(b); // the new alert is also a first version
		expect(Object.keys(d.state().streams!).sort()).toEqual([`created:${env.tenantId}`, `updated:${env.tenantId}`]);
		d.restart({ event: 'newAlert' });
		expect(ids((await d.poll()).alerts)).toEqual(b); // only what the New Alert stream has not delivered
	});
});

describe('output', () => {
	test('one item per alert with tenantId, dedupKey, portalUrl, event; no Tenant Failures', async () => {
		const d = env.deploy({ event: 'newAlert' });
		await d.poll();
		const [a] = env.emu.addAlerts(env.tenantId, 1);
		const p = await d.poll();
		expect(p.raw).toHaveLength(2);
		expect(p.failures).toEqual([]);
		expect(p.alerts).toHaveLength(1);
		const item = p.alerts[0];
		expect(item).toMatchObject({
			id: a.id,
			title: a.title,
			alertCreationTime: a.alertCreationTime,
			event: 'newAlert',
			tenantId: env.tenantId,
			dedupKey: `${env.tenantId}:${a.id}`,
		});
		expect(item.portalUrl).toMatch(new RegExp(`^https://.+/alerts/${a.id}(\\?|$)`));
		expect(item.evidence).toEqual([]);
		expect(item).not.toHaveProperty('customerLabel');
	});

	test('"One Item With All Alerts" and Include Evidence', async () => {
		const d = env.deploy({ event: 'newAlert', options: { outputMode: 'single', includeEvidence: true } });
		await d.poll();
		const added = env.emu.addAlerts(env.tenantId, 3);
		const p = await d.poll();
		expect(p.raw?.[0]).toHaveLength(1);
		const all = p.alerts[0] as { alerts: Array<{ id: string; evidence: unknown[]; dedupKey: string }>; count: number };
		expect(all.count).toBe(3);
		expect(all.alerts.map((x) => x.id)).toEqual(added.map((x) => x.id));
		expect(all.alerts.every((x) => x.dedupKey.startsWith(`${env.tenantId}:`))).toBe(true);
		expect(p.api[0].query.$expand).toBe('evidence');
		expect(all.alerts.some((x) => x.evidence.length > 0)).toBe(true);
	});

	test('Start From = Hours Back delivers the recent history on the first poll, oldest first', async () => {
		const t = env.scenario.tenants[0];
		const all = env.emu.listAlerts(t.id);
		const cutoff = new Date(Date.now() - 48 * 3_600_000).toISOString();
		const expected = all.filter((a) => a.alertCreationTime >= cutoff);
		expect(expected.length).toBeGreaterThan(0);
		const d = env.deploy({ event: 'newAlert', options: { startFrom: 'hoursBack', hoursBack: 48, maxAlertsPerPoll: 5000 } });
		const p = await d.poll();
		expect(ids(p.alerts).sort()).toEqual(expected.map((a) => a.id).sort());
		const times = p.alerts.map((a) => String(a.alertCreationTime));
		expect(times).toEqual([...times].sort());
		expect((await d.poll()).raw).toBeNull();
	});
});
