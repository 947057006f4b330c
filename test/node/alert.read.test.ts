/** Alert → Get / Get Many through the real engine against the HTTPS emulator. */
import { createEnv, rl, type TestEnv } from './env';

let env: TestEnv;
let tenant: string;
let ids: string[];

beforeAll(async () => {
	env = await createEnv({ scenario: { tenants: 2, alertsPerTenant: 30 } });
	tenant = env.tenantId;
	ids = env.scenario.tenants[0].alertIds;
});
afterAll(async () => {
	await env.close();
});

function lastQuery(since: number) {
	const reqs = env.api({ sinceSeq: since });
	return reqs[reqs.length - 1]?.query ?? {};
}

describe('Get', () => {
	test('by ID returns the full alert with evidence, portal link, tenant and dedup key', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'alert', operation: 'get', alertId: rl(ids[3]), options: { customerLabel: 'Customer One' } });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(1);
		const a = r.items[0].json;
		expect(a.id).toBe(ids[3]);
		expect(Array.isArray(a.evidence)).toBe(true);
		expect((a.evidence as unknown[]).length).toBeGreaterThan(0);
		expect(a.portalUrl).toBe(`https://security.microsoft.com/alerts/${ids[3]}?tid=${tenant}`);
		expect(a.tenantId).toBe(tenant);
		expect(a.dedupKey).toBe(`${tenant}:${ids[3]}`);
		expect(a.customerLabel).toBe('Customer One');
		expect(a['@odata.context']).toBeUndefined();
		expect(r.items[0].pairedItem).toEqual({ item: 0 });
		const reqs = env.api({ sinceSeq: since });
		expect(reqs).toHaveLength(1);
		expect(reqs[0].path).toBe(`/api/alerts/${ids[3]}`);
		expect(reqs[0].query.$expand).toBe('evidence');
	});

	test('by portal URL, and simplified', async () => {
		const url = `https://security.microsoft.com/alerts/${ids[4]}?tid=${tenant}`;
		const r = await env.run({ resource: 'alert', operation: 'get', alertId: rl(url, 'url'), simplify: true });
		expect(r.error).toBeUndefined();
		const a = r.items[0].json;
		expect(a.id).toBe(ids[4]);
		expect(a.evidence).toBeUndefined();
		expect(Object.keys(a).sort()).toEqual(
			[
				'id', 'title', 'severity', 'status', 'category', 'detectionSource', 'alertCreationTime', 'lastUpdateTime', 'computerDnsName', 'machineId',
				'relatedUser', 'assignedTo', 'classification', 'determination', 'incidentId', 'mitreTechniques', 'portalUrl', 'tenantId', 'dedupKey',
			].sort(),
		);
	});

	test('a fixed malformed ID is caught by the resource locator validation before the run', async () => {
		const since = env.emu.lastSeq();
		await expect(env.run({ resource: 'alert', operation: 'get', alertId: rl('../../x') })).rejects.toThrow(/Not a Defender alert ID/);
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});

	test('one item per input item, each paired', async () => {
		const r = await env.run(
			{ resource: 'alert', operation: 'get', alertId: rl('={{ $json.id }}') },
			{ input: [{ id: ids[0] }, { id: ids[1] }, { id: ids[2] }] },
		);
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => i.json.id)).toEqual([ids[0], ids[1], ids[2]]);
		expect(r.items.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }]);
	});

	test('404 says which alert and tenant', async () => {
		const missing = 'da639000000000000000_12345';
		const r = await env.run({ resource: 'alert', operation: 'get', alertId: rl(missing) });
		expect(r.error?.message).toBe(`Alert ${missing} was not found in tenant ${tenant}`);
		expect(r.error?.httpCode).toBe('404');
	});

	test.each([
		['../../x', 'id'],
		['da1?x=1', 'id'],
		['da639000000000000000_1/../../machines', 'id'],
		['12345', 'id'],
		['', 'id'],
		['https://evil.example.com/alerts/da639315294445173789_-1026804937', 'url'],
		['https://security.microsoft.com/incidents/123', 'url'],
	])('rejects alert id %p (%s mode, from an expression) before any request', async (value, mode) => {
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'alert', operation: 'get', alertId: rl(`={{ ${JSON.stringify(value)} }}`, mode as 'id' | 'url') });
		expect(r.error?.name).toBe('NodeOperationError');
		expect(r.error?.message).toMatch(/Defender alert ID|Defender portal alert link|Alert ID is empty/);
		expect(r.error?.context?.itemIndex).toBe(0);
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});
});

describe('Get Many', () => {
	test('limit, newest first, simplified by default', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'alert', operation: 'getAll', limit: 5 });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(5);
		const times = r.items.map((i) => i.json.alertCreationTime as string);
		expect([...times].sort().reverse()).toEqual(times);
		expect(r.items[0].json.evidence).toBeUndefined();
		expect(r.items[0].json.dedupKey).toBe(`${tenant}:${r.items[0].json.id}`);
		expect(r.items.every((i) => (i.pairedItem as { item: number }).item === 0)).toBe(true);
		expect(lastQuery(since)).toEqual({ $top: '5', $orderby: 'alertCreationTime desc' });
	});

	test('Return All over a small tenant: one request, all alerts', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'alert', operation: 'getAll', returnAll: true, simplify: false, includeEvidence: true });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(30);
		expect(new Set(r.items.map((i) => i.json.id))).toEqual(new Set(ids));
		expect((r.items[0].json.evidence as unknown[]).length).toBeGreaterThan(0);
		const reqs = env.api({ sinceSeq: since });
		expect(reqs).toHaveLength(1);
		expect(reqs[0].query).toMatchObject({ $top: '10000', $expand: 'evidence' });
	});

	test('filters become one $filter; quotes are escaped; times are canonical UTC', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run({
			resource: 'alert',
			operation: 'getAll',
			returnAll: true,
			filters: {
				status: ['New', 'InProgress'],
				severity: ['High'],
				category: ['Execution'],
				detectionSource: ['WindowsDefenderAtp', 'MyCustomSource'],
				assignedTo: "o'brien@contoso.com",
				incidentId: 42,
				investigationId: 7,
				createdAfter: '2025-03-04T10:15:22.4817263+01:00',
				createdBefore: '2025-03-05T00:00:00Z',
				updatedAfter: '2025-03-04T09:00:00.5Z',
				updatedBefore: '2030-01-01T00:00:00.123456789Z',
				rawFilter: "lastEventTime ge 2025-01-01T00:00:00Z or status eq 'Resolved'",
			},
			sort: { field: 'lastUpdateTime', direction: 'asc' },
		});
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(0);
		const q = lastQuery(since);
		expect(q.$filter).toBe(
			"(status eq 'New' or status eq 'InProgress') and severity eq 'High' and category eq 'Execution' and " +
				"(detectionSource eq 'WindowsDefenderAtp' or detectionSource eq 'MyCustomSource') and assignedTo eq 'o''brien@contoso.com' and " +
				'incidentId eq 42 and investigationId eq 7 and alertCreationTime ge 2025-03-04T09:15:22.4817263Z and alertCreationTime lt 2025-03-05T00:00:00.0000000Z and ' +
				'lastUpdateTime ge 2025-03-04T09:00:00.5000000Z and lastUpdateTime lt 2030-01-01T00:00:00.1234567Z and ' +
				"(lastEventTime ge 2025-01-01T00:00:00Z or status eq 'Resolved')",
		);
		expect(q.$orderby).toBe('lastUpdateTime asc');
		expect(env.api({ sinceSeq: since })[0].status).toBe(200);
	});

	test('a filter matches what the emulator holds', async () => {
		const all = env.emu.listAlerts(tenant);
		const high = all.filter((a) => a.severity === 'High').length;
		const r = await env.run({ resource: 'alert', operation: 'getAll', returnAll: true, filters: { severity: ['High'] } });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(high);
		expect(r.items.every((i) => i.json.severity === 'High')).toBe(true);
	});

	test('a date without zone is read in the workflow time zone (n8n default America/New_York, with DST)', async () => {
		let since = env.emu.lastSeq();
		let r = await env.run({ resource: 'alert', operation: 'getAll', limit: 1, filters: { createdAfter: '2025-03-04T09:15:22' } });
		expect(r.error).toBeUndefined();
		expect(lastQuery(since).$filter).toBe('alertCreationTime ge 2025-03-04T14:15:22.0000000Z');
		since = env.emu.lastSeq();
		r = await env.run({ resource: 'alert', operation: 'getAll', limit: 1, filters: { createdBefore: '2025-07-01' } });
		expect(r.error).toBeUndefined();
		expect(lastQuery(since).$filter).toBe('alertCreationTime lt 2025-07-01T04:00:00.0000000Z');
	});

	test.each([
		[{ limit: 0 }, /Limit must be a whole number from 1 to 100000/],
		[{ limit: 100001 }, /Limit must be a whole number/],
		[{ limit: 2.5 }, /Limit must be a whole number/],
		[{ filters: { status: '={{ ["Closed"] }}' } }, /Status "Closed" is not a valid value/],
		[{ filters: { severity: '={{ "Critical" }}' } }, /Severity "Critical" is not a valid value/],
		[{ filters: { createdAfter: '2025-13-45T00:00:00Z' } }, /Created After "2025-13-45T00:00:00Z" is not a valid date/],
		[{ filters: { updatedBefore: 'yesterday' } }, /Last Updated Before "yesterday" is not a valid date/],
		[{ filters: { category: '={{ ["Exec\') or (1 eq 1"] }}' } }, /Category .* is not a valid value/],
		[{ filters: { rawFilter: "status eq 'New" } }, /Raw OData Filter is malformed/],
		[{ filters: { rawFilter: 'status eq 1) or (1 eq 1' } }, /Raw OData Filter is malformed/],
		[{ customerTenant: 'not a tenant!' }, /Customer Tenant "not a tenant!" is neither a GUID nor a domain/],
		[{ customerTenant: 'common' }, /Customer Tenant "common" is not a specific tenant/],
		[{ region: 'eu' }, /Region "eu" is only available in the Commercial cloud/],
		[{ region: '={{ "mars" }}' }, /Region "mars" is not a Defender region/],
		[{ options: { maxThrottleWait: -1 } }, /Max Throttle Wait must be/],
	])('bad input %p fails before any request', async (params, message) => {
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'alert', operation: 'getAll', ...params });
		expect(r.error?.name).toBe('NodeOperationError');
		expect(r.error?.message).toMatch(message);
		expect(r.error?.context?.itemIndex).toBe(0);
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});

	test('the failing item is named (second item)', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run(
			{ resource: 'alert', operation: 'getAll', limit: 1, filters: { status: '={{ [$json.s] }}' } },
			{ input: [{ s: 'New' }, { s: 'Closed' }] },
		);
		expect(r.error?.message).toMatch(/Status "Closed"/);
		expect(r.error?.context?.itemIndex).toBe(1);
		// the first item ran; the second made no request
		expect(env.api({ sinceSeq: since })).toHaveLength(1);
	});

	test('continueOnFail: the bad item becomes an error item, the others succeed', async () => {
		const r = await env.run(
			{ resource: 'alert', operation: 'get', alertId: rl('={{ $json.id }}') },
			{ input: [{ id: ids[0] }, { id: 'nonsense' }, { id: 'da639000000000000000_1' }, { id: ids[1] }], continueOnFail: true },
		);
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(4);
		expect(r.items[0].json.id).toBe(ids[0]);
		expect(r.items[1].json.error).toMatch(/does not look like a Defender alert ID/);
		expect(r.items[2].json.error).toBe(`Alert da639000000000000000_1 was not found in tenant ${tenant}`);
		expect(r.items[2].json.httpCode).toBe('404');
		expect(r.items[3].json.id).toBe(ids[1]);
		expect(r.items.map((i) => i.pairedItem)).toEqual([{ item: 0 }, { item: 1 }, { item: 2 }, { item: 3 }]);
	});
});
