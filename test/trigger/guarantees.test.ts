/**
 * Issue 10, "Trigger: exactly-once that holds in a production n8n": one regression test per defect, through
 * n8n-core's PollContext against the emulator (test/trigger/env.ts models how n8n 2.41.1 persists static data).
 * 1 overlapping polls · 2 host clock skew · 3 the first state in scheduler / durable-cursor mode · 6 stream identity
 * (domain vs GUID) · 7 unreadable state · 8 one bad tenant entry · 10 backlog drain cost.
 */

import { fromTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import { resetBetweenTests } from '../harness';
import { createTriggerEnv, type Deployment, expectNoDuplicates, ids, type PollOutcome, shiftHostClock, sleepMs, STATIC_KEY, type TriggerEnv } from './env';

let env: TriggerEnv;
let n = 0;

beforeAll(async () => {
	env = await createTriggerEnv({ scenario: { tenants: 24, alertsPerTenant: 0 } });
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => resetBetweenTests(env.emu));

/** A scenario tenant of its own for each test (the emulator is shared by the file). */
function nextTenant(): { id: string; domain: string } {
	const t = env.scenario.tenants[++n];
	return { id: t.id, domain: t.domain };
}
const credFor = (tenantId: string) => env.addCredential(`cred-g${n}-${tenantId.slice(0, 8)}`, { tenantId });
const emuTime = (offsetMs: number) => fromTicks(env.emu.clock.nowTicks() + BigInt(Math.trunc(offsetMs)) * 10_000n);

describe('item 1: overlapping polls of one trigger', () => {
	test('two polls started 100 ms apart with 300 ms API latency: every alert once, the second poll does nothing', async () => {
		const tenant = nextTenant();
		const d = env.deploy({ event: 'newAlert' }, { cred: credFor(tenant.id) });
		expect((await d.poll()).raw).toBeNull();
		await sleepMs(3);
		const added = env.emu.addAlerts(tenant.id, 3);
		env.emu.setLatency(300);
		const first = d.poll();
		await sleepMs(100);
		const second = d.poll();
		const [a, b] = await Promise.all([first, second]);
		const delivered = [...ids(a.alerts), ...ids(b.alerts)];
		expectNoDuplicates(delivered);
		expect(delivered.sort()).toEqual(added.map((x) => x.id).sort());
		expect(b.raw).toBeNull(); // found the first one running: returned nothing
		env.emu.setLatency(0);
		expect((await d.poll()).raw).toBeNull(); // and the lock was released
	});

	test('a poll that fails releases the guard: the next poll runs', async () => {
		const tenant = nextTenant();
		const d = env.deploy({ event: 'newAlert' }, { cred: credFor(tenant.id) });
		expect((await d.poll()).raw).toBeNull();
		env.emu.injectFault({ match: { path: /\/api\/alerts/ }, status: 400, times: 1 });
		await d.pollError();
		await sleepMs(3);
		const added = env.emu.addAlerts(tenant.id, 2);
		expect(ids((await d.poll()).alerts)).toEqual(added.map((x) => x.id));
	});
});

describe.each([
	['ahead', 120_000],
	['behind', -120_000],
])('item 2: host clock 2 min %s of Defender', (_label, offsetMs) => {
	test('Start From = Now: the alerts created after activation (API clock) are delivered, older ones are not', async () => {
		const tenant = nextTenant();
		const [old] = env.emu.addAlerts(tenant.id, [{ alertCreationTime: emuTime(-60_000), title: 'one minute before activation' }]);
		const restore = shiftHostClock(offsetMs);
		try {
			const d = env.deploy({ event: 'newAlert' }, { cred: credFor(tenant.id) });
			const prime = await d.poll();
			expect(ids(prime.alerts)).toEqual([]);
			await sleepMs(5);
			const fresh = env.emu.addAlerts(tenant.id, 3);
			const p = await d.poll();
			expect(ids(p.alerts)).toEqual(fresh.map((x) => x.id));
			expect(ids(p.alerts)).not.toContain(old.id);
			expect((await d.poll()).raw).toBeNull();
		} finally {
			restore();
		}
	});
});

describe('item 3: the first state survives n8n persistence that drops it', () => {
	test('durable poll cursors: activation (nothing yet) → restart → alerts while down → every alert once', async () => {
		const tenant = nextTenant();
		const d = env.deploy({ event: 'newAlert' }, { cred: credFor(tenant.id), persistence: 'durable' });
		const activation = await d.poll();
		expect(activation.alerts).toEqual([]);
		d.restart();
		await sleepMs(5);
		const added = env.emu.addAlerts(tenant.id, 3);
		const { alerts } = await d.drain(5);
		expect(ids(alerts)).toEqual(added.map((x) => x.id));
	});

	test('scheduler (every tick rebuilt from the database): a tenant added without an activation poll loses nothing', async () => {
		const a = nextTenant();
		const b = nextTenant();
		const d = env.deploy({ event: 'newAlert', tenants: a.id }, { persistence: 'scheduler' });
		expect((await d.poll()).alerts).toEqual([]); // activation poll (saved)
		d.republish({ event: 'newAlert', tenants: `${a.id}\n${b.id}` }); // same poll times: no activation poll
		const tick1 = await d.poll(); // primes b
		expect(tick1.alerts).toEqual([]);
		await sleepMs(5);
		const added = env.emu.addAlerts(b.id, 2);
		const { alerts } = await d.drain(5);
		expect(ids(alerts)).toEqual(added.map((x) => x.id));
	});

	test('standard mode: the activation poll is saved by n8n, a restart before the first alert loses nothing', async () => {
		const tenant = nextTenant();
		const d = env.deploy({ event: 'newAlert' }, { cred: credFor(tenant.id), persistence: 'standard' });
		expect((await d.poll()).raw).toBeNull();
		d.restart();
		await sleepMs(5);
		const added = env.emu.addAlerts(tenant.id, 2);
		expect(ids((await d.poll()).alerts)).toEqual(added.map((x) => x.id));
	});
});

describe('item 6: streams are keyed by the tenant GUID', () => {
	test.each([
		['domain → GUID', (t: { id: string; domain: string }) => t.domain, (t: { id: string; domain: string }) => t.id],
		['GUID → domain', (t: { id: string; domain: string }) => t.id, (t: { id: string; domain: string }) => t.domain],
	])('%s: no alert is delivered again, none is lost', async (_label, before, after) => {
		const tenant = nextTenant();
		const first = env.emu.addAlerts(tenant.id, 3);
		const d = env.deploy({ event: 'newAlert', tenants: before(tenant), options: { startFrom: 'date', startDate: '2020-01-01T00:00:00Z' } });
		expect(ids((await d.poll()).alerts)).toEqual(first.map((x) => x.id));
		expect(Object.keys(d.state().streams ?? {})).toEqual([`created:${tenant.id}`]);
		await sleepMs(3);
		const second = env.emu.addAlerts(tenant.id, 2); // not yet polled when the tenant is re-spelled
		d.restart({ event: 'newAlert', tenants: after(tenant), options: { startFrom: 'date', startDate: '2020-01-01T00:00:00Z' } });
		const { alerts } = await d.drain(5);
		expect(ids(alerts)).toEqual(second.map((x) => x.id));
	});

	test('a version-1 state keyed by the domain is migrated to the GUID key without replay', async () => {
		const tenant = nextTenant();
		const old = env.emu.addAlerts(tenant.id, 2);
		const cursor = env.emu.listAlerts(tenant.id).at(-1)!.alertCreationTime!;
		const v1 = { v: 1, streams: { [`created:${tenant.domain}`]: { v: 1, kind: 'created', cursor, floor: cursor, seen: Object.fromEntries(old.map((a) => [a.id, a.alertCreationTime])) } } };
		await sleepMs(3);
		const fresh = env.emu.addAlerts(tenant.id, 2);
		const d = env.deploy({ event: 'newAlert', tenants: tenant.id, options: { startFrom: 'date', startDate: '2020-01-01T00:00:00Z' } }, { staticData: { [STATIC_KEY]: v1 } });
		const { alerts } = await d.drain(5);
		expect(ids(alerts)).toEqual(fresh.map((x) => x.id));
		expect(Object.keys(d.state().streams ?? {})).toEqual([`created:${tenant.id}`]);
	});
});

describe('item 7: unreadable state is reported and resumes from what can be recovered', () => {
	test.each([
		['an unknown state version', (cursor: string, tenant: string) => ({ v: 99, streams: { [`created:${tenant}`]: { cursor, whatever: true } } })],
		['a damaged stream', (cursor: string, tenant: string) => ({ v: 1, streams: { [`created:${tenant}`]: { v: 1, kind: 'created', cursor, floor: cursor, seen: 'lost' } } })],
	])('%s with Hours Back 24: no replay, a Tenant Failures item and a warning', async (_label, make) => {
		const tenant = nextTenant();
		const before = env.emu.addAlerts(tenant.id, [{ alertCreationTime: emuTime(-3 * 3_600_000) }, { alertCreationTime: emuTime(-2 * 3_600_000) }]);
		const cursor = before[1].alertCreationTime!;
		const after = env.emu.addAlerts(tenant.id, [{ alertCreationTime: emuTime(-3_600_000) }]);
		const d = env.deploy({ event: 'newAlert', options: { startFrom: 'hoursBack', hoursBack: 24 } }, { cred: credFor(tenant.id), staticData: { [STATIC_KEY]: make(cursor, tenant.id) } });
		const p = await d.poll();
		expect(ids(p.alerts)).toEqual(after.map((x) => x.id));
		expect(p.failures).toHaveLength(1);
		expect(p.failures[0]).toMatchObject({ error: expect.stringMatching(/saved state/), resumedFrom: expect.any(String) });
		expect(d.logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([expect.stringMatching(/saved state/)]);
		expect(d.state().v).toBe(2);
		expect((await d.poll()).raw).toBeNull(); // read fine from now on
	});
});

describe('item 8: one bad Tenants entry does not block the others', () => {
	test('"../" and "common" become Tenant Failures items on every poll; the valid tenant is polled', async () => {
		const tenant = nextTenant();
		const d = env.deploy({ event: 'newAlert', tenants: `../=Broken, ${tenant.id}=Good, common` });
		const prime = await d.poll();
		expect(prime.alerts).toEqual([]);
		expect(prime.failures.map((f) => f.customerLabel ?? null)).toEqual(['Broken', null]);
		for (const f of prime.failures) expect(String(f.error)).toMatch(/Tenants entry/);
		await sleepMs(3);
		const added = env.emu.addAlerts(tenant.id, 2);
		const p = await d.poll();
		expect(ids(p.alerts)).toEqual(added.map((x) => x.id));
		expect(p.failures).toHaveLength(2);
	});

	test('an entry that may be a pasted secret is not echoed', async () => {
		const tenant = nextTenant();
		const secret = 'Xq8~fake.Secret_Value-1234567890abcdefghij';
		const d = env.deploy({ event: 'newAlert', tenants: `${tenant.id}\n${secret}` });
		const p = await d.poll();
		expect(p.failures).toHaveLength(1);
		expect(JSON.stringify(p.failures)).not.toContain(secret.slice(0, 12));
	});
});

describe('item 10: a 12,000-alert burst on default settings', () => {
	test('drains within 5 polls; requests per poll stay flat', async () => {
		const tenant = nextTenant();
		const d: Deployment = env.deploy({ event: 'newAlert' }, { cred: credFor(tenant.id) });
		expect((await d.poll()).raw).toBeNull();
		await sleepMs(3);
		// The burst: 12,000 alerts within 2 minutes (all inside the 15-minute late-arrival window).
		const start = env.emu.clock.nowTicks();
		const added = env.emu.addAlerts(
			tenant.id,
			Array.from({ length: 12_000 }, (_, i) => ({ alertCreationTime: fromTicks(start + BigInt(i) * 100_000n) })),
		);
		const polls: PollOutcome[] = [];
		const emitted: string[] = [];
		for (let i = 0; i < 40; i++) {
			const p = await d.poll();
			polls.push(p);
			emitted.push(...ids(p.alerts));
			if (p.raw === null) break;
		}
		const emitting = polls.filter((p) => p.alerts.length > 0);
		const requests = emitting.map((p) => p.api.length);
		const total = requests.reduce((s, x) => s + x, 0);
		const idle = polls.at(-1)!;
		console.log(
			`[drain] 12,000 alerts: ${emitting.length} emitting polls (${emitting.map((p) => p.alerts.length).join('/')}), API requests ${requests.join('/')} = ${total}; idle poll after: ${idle.api.length}; items returned per request ${emitting
				.flatMap((p) => p.api.map((r) => (r.query?.$top as string) ?? '?'))
				.join(',')}; poll ms ${emitting.map((p) => Math.round(p.ms)).join('/')}; state ${JSON.stringify(d.state()).length} B`,
		);
		expectNoDuplicates(emitted);
		expect(emitted).toEqual(added.map((a) => a.id));
		expect(emitting.length).toBeLessThanOrEqual(5);
		// ⌈backlog / page⌉ new pages in all, plus one window re-read per poll.
		expect(total).toBeLessThanOrEqual(Math.ceil(12_000 / 10_000) + emitting.length);
	}, 120_000);
});
