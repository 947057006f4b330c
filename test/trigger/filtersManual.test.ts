/**
 * Server-side filters (the $filter the emulator saw, and only matching alerts emitted) and the manual
 * "Fetch test event" path through n8n-core's WorkflowExecute (newest matching alert, static data untouched, clear
 * errors for a wrong secret or an invalid filter).
 */
import { createTriggerEnv, ids, sleepMs, type TriggerEnv } from './env';
import { resetBetweenTests } from '../harness';

let env: TriggerEnv;

beforeAll(async () => {
	env = await createTriggerEnv({ scenario: { tenants: 3, alertsPerTenant: 25 } });
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => resetBetweenTests(env.emu));

const FILTERS = {
	severity: ['High', 'Medium'],
	status: ['New', 'InProgress'],
	detectionSource: ['WindowsDefenderAv', 'WindowsDefenderAtp'],
	category: 'Malware, Execution',
};
const EXPECTED_FILTER =
	"(status eq 'New' or status eq 'InProgress') and (severity eq 'High' or severity eq 'Medium') and " +
	"(category eq 'Malware' or category eq 'Execution') and (detectionSource eq 'WindowsDefenderAv' or detectionSource eq 'WindowsDefenderAtp')";

describe('filters', () => {
	test('severity, status, detection source and category go to the API as $filter; only matching alerts are emitted', async () => {
		const tenant = env.scenario.tenants[1].id;
		const d = env.deploy({ event: 'newAlert', filters: FILTERS }, { cred: env.addCredential('cred-f', { tenantId: tenant }) });
		const prime = await d.poll();
		expect(prime.raw).toBeNull();
		// (the first request reads the API's clock: the newest alert, unfiltered; then the stream's own query)
		expect(prime.api.at(-1)!.query.$filter).toMatch(/^\(alertCreationTime ge [\d\-T:.]{27}Z\) and \(/);
		expect(String(prime.api.at(-1)!.query.$filter).replace(/^\(alertCreationTime ge [^)]+\) and /, '')).toBe(`(${EXPECTED_FILTER})`);

		await sleepMs(3);
		const match = { severity: 'High', status: 'New', detectionSource: 'WindowsDefenderAv', category: 'Malware' };
		const added = env.emu.addAlerts(tenant, [
			match,
			{ ...match, severity: 'Low' },
			{ ...match, status: 'InProgress', category: 'Execution', detectionSource: 'WindowsDefenderAtp', severity: 'Medium' },
			{ ...match, status: 'Resolved' },
			{ ...match, detectionSource: 'CustomDetection' },
			{ ...match, category: 'Persistence' },
		]);
		const p = await d.poll();
		expect(ids(p.alerts)).toEqual([added[0].id, added[2].id]);
		expect(p.api).toHaveLength(1);
		expect((await d.poll()).raw).toBeNull();
	});

	test('filters and Tenants given by expressions (strings, a list of objects) are honoured, not dropped', async () => {
		const tenant = env.scenario.tenants[2];
		const d = env.deploy({
			event: 'newAlert',
			tenants: `={{ [{ tenantId: '${tenant.id}', label: 'From expression' }] }}`,
			filters: {
				severity: '={{ "High, Medium" }}',
				status: "={{ 'New,InProgress' }}",
				detectionSource: '={{ ["WindowsDefenderAv", "WindowsDefenderAtp"] }}',
				category: 'Malware, Execution',
			},
		});
		const prime = await d.poll();
		expect(prime.api).toHaveLength(2); // the API's clock, then the stream's query
		expect(prime.api.map((r) => r.tenantId)).toEqual([tenant.id, tenant.id]);
		expect(String(prime.api[1].query.$filter).replace(/^\(alertCreationTime ge [^)]+\) and /, '')).toBe(`(${EXPECTED_FILTER})`);
		await sleepMs(3);
		const [hit] = env.emu.addAlerts(tenant.id, [{ severity: 'High', status: 'New', detectionSource: 'WindowsDefenderAv', category: 'Malware' }, { severity: 'Low' }]);
		const p = await d.poll();
		expect(ids(p.alerts)).toEqual([hit.id]);
		expect(p.alerts[0].customerLabel).toBe('From expression');
	});

	test('Only When These Fields Change from an expression string', async () => {
		const tenant = env.scenario.tenants[2];
		const d = env.deploy({ event: 'updatedAlert', watchFields: '={{ "status, classification" }}', tenants: tenant.id });
		expect((await d.poll()).raw).toBeNull();
		await sleepMs(3);
		const [{ id: target }] = env.emu.addAlerts(tenant.id, 1);
		expect((await d.poll()).raw).toBeNull(); // a new alert: nothing watched differs from a new alert's values
		env.emu.updateAlert(tenant.id, target, { status: 'Resolved' });
		const p = await d.poll();
		expect(ids(p.alerts)).toEqual([target]);
		expect(p.alerts[0].changedFields).toEqual(['status']);
	});
});

describe('Fetch test event (manual mode through WorkflowExecute)', () => {
	test('returns the newest matching alert and leaves the static data untouched', async () => {
		const tenant = env.scenario.tenants[0].id;
		const d = env.deploy({ event: 'newAlert', filters: { severity: ['High', 'Medium', 'Low', 'Informational'] } });
		await d.poll();
		await sleepMs(3);
		const [a1] = env.emu.addAlerts(tenant, [{ severity: 'High' }]);
		expect(ids((await d.poll()).alerts)).toEqual([a1.id]);
		const [, newest] = env.emu.addAlerts(tenant, [{ severity: 'Low' }, { severity: 'Medium' }, { severity: 'UnSpecified' }]);
		const before = JSON.stringify(d.harness.snapshot());
		env.emu.resetLog();

		const m = await d.manual();
		expect(m.error).toBeUndefined();
		expect(ids(m.items)).toEqual([newest.id]);
		expect(m.items[0]).toMatchObject({ event: 'newAlert', tenantId: tenant, dedupKey: `${tenant}:${newest.id}` });
		const q = env.emu.requests({ kind: 'api' });
		expect(q).toHaveLength(1);
		expect(q[0].query).toMatchObject({ $top: '1', $orderby: 'alertCreationTime desc' });
		expect(String(q[0].query.$filter)).toContain("severity eq 'High'");
		expect(JSON.stringify(d.harness.snapshot())).toBe(before);

		// The next trigger poll still delivers what arrived since, the sampled alert included.
		const p = await d.poll();
		expect(ids(p.alerts)).toEqual([env.emu.listAlerts(tenant).at(-3)!.id, newest.id]);
	});

	test('Updated Alert samples by lastUpdateTime', async () => {
		const tenant = env.scenario.tenants[0].id;
		const target = env.scenario.tenants[0].alertIds[3];
		env.emu.updateAlert(tenant, target, { assignedTo: 'analyst@contoso.com' });
		const d = env.deploy({ event: 'updatedAlert' });
		const m = await d.manual();
		expect(ids(m.items)).toEqual([target]);
		expect(m.items[0].event).toBe('updatedAlert');
		expect(env.emu.requests({ kind: 'api' })[0].query.$orderby).toBe('lastUpdateTime desc');
		expect(d.harness.snapshot()).toEqual({});
	});

	test('a wrong client secret gives a clear error', async () => {
		const cred = env.addCredential('cred-wrong', { clientSecret: 'definitely-wrong' });
		const d = env.deploy({ event: 'newAlert' }, { cred });
		const m = await d.manual();
		expect(m.error?.message).toMatch(/Microsoft Entra rejected the client secret for app .* \(AADSTS7000215\)/);
		expect(m.error?.description).toMatch(/secret VALUE/);
		expect(JSON.stringify(m.error)).not.toContain('definitely-wrong');
		expect(d.harness.snapshot()).toEqual({});
	});

	test('an invalid filter value gives a clear error before any request', async () => {
		const d = env.deploy({ event: 'newAlert', filters: { severity: ['Severe'] } });
		const m = await d.manual();
		expect(m.error?.message).toMatch(/Severity "Severe" is not a valid value/);
		expect(env.emu.count({ kind: 'api' })).toBe(0);
	});

	test('no matching alert: a warning that says the setup works', async () => {
		const d = env.deploy({ event: 'newAlert', filters: { category: 'NoSuchCategory' } });
		const m = await d.manual();
		expect(m.error?.message).toMatch(/No alert matches the filters yet/);
		expect(m.error?.description).toMatch(/credential and filters work/);
	});
});
