/** Get Many paging with more than one 10,000-alert page ($top/$skip; nextLink is not relied on). */
import { createEnv, type TestEnv } from './env';

const TOTAL = 12_345;
let env: TestEnv;

beforeAll(async () => {
	env = await createEnv({ scenario: { tenants: 1, alertsPerTenant: 0 } });
	env.emu.seedTenant(env.tenantId, { alerts: TOTAL, seed: 'paging', machines: 25, events: 0 });
}, 120_000);
afterAll(async () => {
	await env.close();
});

test('Return All: pages of 10,000 until a short page, every alert once, in order', async () => {
	const since = env.emu.lastSeq();
	const r = await env.run({ resource: 'alert', operation: 'getAll', returnAll: true });
	expect(r.error).toBeUndefined();
	expect(r.items).toHaveLength(TOTAL);
	expect(new Set(r.items.map((i) => i.json.id)).size).toBe(TOTAL);
	const times = r.items.map((i) => i.json.alertCreationTime as string);
	for (let k = 1; k < times.length; k++) expect(times[k - 1] >= times[k]).toBe(true);
	const reqs = env.api({ sinceSeq: since });
	expect(reqs.map((q) => [q.query.$top, q.query.$skip ?? '0'])).toEqual([
		['10000', '0'],
		['10000', '10000'],
	]);
	expect(r.items.every((i) => (i.pairedItem as { item: number }).item === 0)).toBe(true);
}, 60_000);

test('Limit above one page: page size = min(remaining, 10000)', async () => {
	const since = env.emu.lastSeq();
	const r = await env.run({ resource: 'alert', operation: 'getAll', limit: 10_001, sort: { direction: 'asc' } });
	expect(r.error).toBeUndefined();
	expect(r.items).toHaveLength(10_001);
	const reqs = env.api({ sinceSeq: since });
	expect(reqs.map((q) => [q.query.$top, q.query.$skip ?? '0', q.query.$orderby])).toEqual([
		['10000', '0', 'alertCreationTime asc'],
		['1', '10000', 'alertCreationTime asc'],
	]);
}, 60_000);

test('a Limit above the total stops at the first short page', async () => {
	const since = env.emu.lastSeq();
	const r = await env.run({ resource: 'alert', operation: 'getAll', limit: 20_000 });
	expect(r.error).toBeUndefined();
	expect(r.items).toHaveLength(TOTAL);
	expect(env.api({ sinceSeq: since }).map((q) => q.query.$top)).toEqual(['10000', '10000']);
}, 60_000);

test('an alert arriving between pages is not returned twice', async () => {
	// Put a newer alert in front of the sort order after the first page was read: $skip then shifts by one.
	const before = env.emu.lastSeq();
	let injected = false;
	const timer = setInterval(() => {
		if (!injected && env.api({ sinceSeq: before }).length >= 1) {
			injected = true;
			env.emu.addAlerts(env.tenantId, [{}]);
		}
	}, 1);
	try {
		const r = await env.run({ resource: 'alert', operation: 'getAll', returnAll: true });
		expect(r.error).toBeUndefined();
		const ids = r.items.map((i) => i.json.id as string);
		expect(new Set(ids).size).toBe(ids.length);
		expect(injected).toBe(true);
		expect(ids).toHaveLength(TOTAL);
	} finally {
		clearInterval(timer);
	}
}, 60_000);
