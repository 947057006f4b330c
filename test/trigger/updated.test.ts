/**
 * "Updated Alert" through n8n-core's PollContext: one event per update version; "Only When These Fields Change"
 * with changedFields / previous; restarts with n8n's legacy persistence.
 */
import { createTriggerEnv, ids, sleepMs, type TriggerEnv } from './env';
import { resetBetweenTests } from '../harness';

let env: TriggerEnv;

beforeAll(async () => {
	env = await createTriggerEnv({ scenario: { tenants: 1, alertsPerTenant: 20 } });
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => resetBetweenTests(env.emu));

test('an alert updated twice is emitted once per update version', async () => {
	const tenant = env.tenantId;
	const [target, other] = env.scenario.tenants[0].alertIds;
	const d = env.deploy({ event: 'updatedAlert' });
	expect((await d.poll()).raw).toBeNull(); // primes: existing alerts are history

	const v1 = env.emu.updateAlert(tenant, target, { status: 'InProgress' });
	const p1 = await d.poll();
	expect(ids(p1.alerts)).toEqual([target]);
	expect(p1.alerts[0]).toMatchObject({ event: 'updatedAlert', status: 'InProgress', lastUpdateTime: v1.lastUpdateTime, dedupKey: `${tenant}:${target}` });
	expect(p1.alerts[0]).not.toHaveProperty('changedFields');
	expect(p1.api[0].query.$orderby).toBe('lastUpdateTime asc');
	expect(String(p1.api[0].query.$filter)).toMatch(/^\(lastUpdateTime ge /);

	const v2 = env.emu.updateAlert(tenant, target, { assignedTo: 'analyst@contoso.com' });
	env.emu.updateAlert(tenant, other, { classification: 'FalsePositive', determination: 'Clean' });
	const p2 = await d.poll();
	expect(ids(p2.alerts)).toEqual([target, other]);
	expect(p2.alerts[0].lastUpdateTime).toBe(v2.lastUpdateTime);
	expect(v2.lastUpdateTime > v1.lastUpdateTime).toBe(true);

	expect((await d.poll()).raw).toBeNull(); // versions already delivered are not repeated
	d.restart();
	expect((await d.poll()).raw).toBeNull(); // nor after a restart

	// A brand-new alert is its own first version.
	await sleepMs(2);
	const [fresh] = env.emu.addAlerts(tenant, 1);
	expect(ids((await d.poll()).alerts)).toEqual([fresh.id]);
});

test('Only When These Fields Change = [status]: an assignedTo-only change is skipped, a status change is emitted with changedFields and previous', async () => {
	const tenant = env.tenantId;
	const d = env.deploy({ event: 'updatedAlert', watchFields: ['status'] });
	expect((await d.poll()).raw).toBeNull();
	await sleepMs(2);
	const [a] = env.emu.addAlerts(tenant, 1); // new, status New: no watched change against the creation defaults
	expect((await d.poll()).raw).toBeNull();

	env.emu.updateAlert(tenant, a.id, { assignedTo: 'analyst@contoso.com' });
	const assigned = await d.poll();
	expect(assigned.raw).toBeNull();
	expect(assigned.api).toHaveLength(1);

	const changed = env.emu.updateAlert(tenant, a.id, { status: 'InProgress' });
	const p = await d.poll();
	expect(ids(p.alerts)).toEqual([a.id]);
	expect(p.alerts[0]).toMatchObject({
		event: 'updatedAlert',
		status: 'InProgress',
		assignedTo: 'analyst@contoso.com',
		lastUpdateTime: changed.lastUpdateTime,
		changedFields: ['status'],
		previous: { status: 'New' },
		previousKnown: true,
	});

	// assignedTo again: nothing; Resolved: emitted with the previous status
	env.emu.updateAlert(tenant, a.id, { assignedTo: 'lead@contoso.com' });
	expect((await d.poll()).raw).toBeNull();
	env.emu.updateAlert(tenant, a.id, { status: 'Resolved' });
	const resolved = await d.poll();
	expect(resolved.alerts[0]).toMatchObject({ changedFields: ['status'], previous: { status: 'InProgress' }, status: 'Resolved' });
});

test('watch mode across a restart after polls that returned null (unsaved suppressed versions) decides the same way', async () => {
	const tenant = env.tenantId;
	const d = env.deploy({ event: 'updatedAlert', watchFields: ['status', 'classification'] });
	await d.poll();
	await sleepMs(2);
	const [a] = env.emu.addAlerts(tenant, 1);
	env.emu.updateAlert(tenant, a.id, { status: 'InProgress' });
	const p1 = await d.poll();
	expect(p1.alerts.map((x) => x.changedFields)).toEqual([['status']]);
	expect(p1.alerts[0].previousKnown).toBe(false); // first seen in this version: compared with creation defaults

	env.emu.updateAlert(tenant, a.id, { assignedTo: 'x@contoso.com' });
	expect((await d.poll()).raw).toBeNull(); // suppressed; n8n does not save this poll's state
	d.restart();
	expect((await d.poll()).raw).toBeNull(); // re-read after the restart: still suppressed
	env.emu.updateAlert(tenant, a.id, { classification: 'TruePositive', determination: 'Malware' });
	const p2 = await d.poll();
	expect(p2.alerts.map((x) => [x.id, x.changedFields, x.previous])).toEqual([[a.id, ['classification'], { classification: null }]]);
});
