/** Alert reads on the Microsoft Graph security API (Alerts API = Graph), through n8n-core against the emulator. */
import { LoadOptionsContext } from 'n8n-core';
import { type IDataObject, type INode, type IWorkflowBase, Workflow } from 'n8n-workflow';

import { MicrosoftDefenderForEndpoint } from '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node';
import { additionalData } from '../harness';
import { NODE_TYPE, rl } from './env';
import { createGraphEnv, type GraphEnv } from './graphEnv';

let env: GraphEnv;
let tenant: string;

beforeAll(async () => {
	env = await createGraphEnv();
	tenant = env.tenantId;
});
afterAll(async () => {
	await env.close();
});
afterEach(() => {
	env.emu.clearFaults();
	env.emu.graph.configure({ maxPageSize: 2000, orderBy: true, nextLink: 'skip', extraFilterable: [], idStyle: 'same', determinationSpelling: 'sdk' });
});

const hintsOf = (r: { run: { data: { resultData: { runData: Record<string, Array<{ hints?: Array<{ message: string }> }>> } } } }) =>
	(r.run.data.resultData.runData.Defender?.[0]?.hints ?? []).map((h) => h.message);

describe('Get Many on Graph', () => {
	test('one alerts_v2 request; Simplify gives the Defender-named fields; only Defender for Endpoint alerts by default', async () => {
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'getAll', limit: 10 });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(10);
		const reqs = env.graphApi(since);
		expect(reqs.map((q) => [q.method, q.path, q.query])).toEqual([
			['GET', '/v1.0/security/alerts_v2', { $top: '10', $filter: "serviceSource eq 'microsoftDefenderForEndpoint'", $orderby: 'createdDateTime desc' }],
		]);
		// no Defender API request at all
		expect(env.emu.requests({ kind: 'api', sinceSeq: since }).filter((q) => q.path.startsWith('/api/'))).toEqual([]);
		const first = r.items[0].json;
		const stored = env.emu.getAlert(tenant, first.id as string)!;
		expect(first).toMatchObject({ id: stored.id, status: stored.status, severity: stored.severity, alertCreationTime: stored.alertCreationTime, incidentId: stored.incidentId });
		expect(first.dedupKey).toBe(`${tenant}:${stored.id}`);
		// newest first, as on the Defender API
		const times = r.items.map((i) => i.json.alertCreationTime as string);
		expect([...times].sort().reverse()).toEqual(times);
	});

	test('raw output is Graph\'s own shape (camelCase enums, providerAlertId, typed evidence) plus the decoration', async () => {
		const r = await env.runGraph({ resource: 'alert', operation: 'getAll', limit: 3, simplify: false });
		expect(r.error).toBeUndefined();
		const a = r.items[0].json;
		expect(a).toHaveProperty('createdDateTime');
		expect(a).not.toHaveProperty('alertCreationTime');
		expect(a.providerAlertId).toBe(a.id);
		expect(a.serviceSource).toBe('microsoftDefenderForEndpoint');
		expect(['new', 'inProgress', 'resolved']).toContain(a.status);
		expect((a.evidence as IDataObject[]).every((e) => typeof e['@odata.type'] === 'string')).toBe(true);
		expect(a).toMatchObject({ tenantId: tenant, dedupKey: `${tenant}:${a.id as string}` });
	});

	test('filters are mapped to Graph $filter and give the same alerts as the store says', async () => {
		const since = env.emu.lastSeq();
		const r = await env.runGraph({
			resource: 'alert',
			operation: 'getAll',
			returnAll: true,
			filters: { status: ['New', 'InProgress'], severity: ['High', 'Medium'], createdAfter: '2020-01-01T00:00:00Z' },
		});
		expect(r.error).toBeUndefined();
		expect(env.graphApi(since)[0].query.$filter).toBe(
			"(status eq 'new' or status eq 'inProgress') and (severity eq 'high' or severity eq 'medium') and serviceSource eq 'microsoftDefenderForEndpoint' and createdDateTime ge 2020-01-01T00:00:00.0000000Z",
		);
		const expected = env.emu.listAlerts(tenant).filter((a) => ['New', 'InProgress'].includes(a.status) && ['High', 'Medium'].includes(a.severity));
		expect(r.items.map((i) => i.json.id).sort()).toEqual(expected.map((a) => a.id).sort());
	});

	test('Classification and Determination filter on Graph (they are Graph filters)', async () => {
		const resolved = env.emu.listAlerts(tenant).filter((a) => a.classification === 'TruePositive');
		const r = await env.runGraph({ resource: 'alert', operation: 'getAll', returnAll: true, filters: { classification: ['TruePositive'] } });
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => i.json.id).sort()).toEqual(resolved.map((a) => a.id).sort());
		expect(r.items.every((i) => i.json.classification === 'TruePositive')).toBe(true);
		const malware = env.emu.listAlerts(tenant).filter((a) => a.determination === 'Malware');
		const m = await env.runGraph({ resource: 'alert', operation: 'getAll', returnAll: true, filters: { determination: ['Malware'] } });
		expect(m.items.map((i) => i.json.id).sort()).toEqual(malware.map((a) => a.id).sort());
	});

	test('Service Source: all Defender XDR sources include other products; the Prefer header keeps new enum members', async () => {
		env.emu.graph.addGraphAlerts(tenant, [
			{ id: 'fa0001', serviceSource: 'microsoftDefenderForOffice365', title: 'Phish delivered' },
			{ id: 'dc0002', serviceSource: 'microsoftDefenderForCloud', detectionSource: 'microsoftDefenderForServers', title: 'Cloud alert' },
		]);
		const mde = await env.runGraph({ resource: 'alert', operation: 'getAll', returnAll: true });
		expect(mde.items.map((i) => i.json.id)).not.toContain('fa0001');
		const all = await env.runGraph({ resource: 'alert', operation: 'getAll', returnAll: true, simplify: false, filters: { serviceSource: 'all' } });
		const byId = new Map(all.items.map((i) => [i.json.id, i.json]));
		expect(byId.get('fa0001')).toMatchObject({ serviceSource: 'microsoftDefenderForOffice365', dedupKey: `${tenant}:fa0001` });
		// sent with Prefer: include-unknown-enum-members, so not "unknownFutureValue"
		expect(byId.get('dc0002')).toMatchObject({ serviceSource: 'microsoftDefenderForCloud', detectionSource: 'microsoftDefenderForServers' });
		const one = await env.runGraph({ resource: 'alert', operation: 'getAll', returnAll: true, filters: { serviceSource: 'microsoftDefenderForOffice365' } });
		expect(one.items.map((i) => i.json.id)).toEqual(['fa0001']);
		// a Graph id of another source is accepted by Get (not a Defender-shaped id)
		// (by expression: the locator's "By ID" field checks the Defender id shape in the editor)
		const got = await env.runGraph({ resource: 'alert', operation: 'get', alertId: rl('={{ "fa0001" }}') });
		expect(got.error).toBeUndefined();
		expect(got.items[0].json.title).toBe('Phish delivered');
	});

	test.each([
		[{ investigationId: 5 }, /Investigation ID is a Defender for Endpoint API filter/],
		[{ rawFilter: "status eq 'New'" }, /Raw OData Filter is written for the Defender for Endpoint API/],
		[{ detectionSource: ['ThirdPartySensors'] }, /"ThirdPartySensors" has no Microsoft Graph equivalent/],
	])('Defender-only filter %p: a clear error naming the Defender API option, before any request', async (filters, message) => {
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'getAll', filters });
		expect(r.error?.name).toBe('NodeOperationError');
		expect(r.error?.message).toMatch(message);
		expect(r.error?.description).toMatch(/Alerts API to Defender for Endpoint API/);
		expect(env.emu.count({ kind: 'api', sinceSeq: since })).toBe(0);
	});

	test('Graph-only filters on a Defender credential: a clear error naming the Graph option, before any request', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'alert', operation: 'getAll', filters: { classification: ['TruePositive'] } });
		expect(r.error?.message).toMatch(/Classification is a Microsoft Graph filter/);
		expect(r.error?.description).toMatch(/Alerts API to Microsoft Graph Security API/);
		expect(env.emu.count({ kind: 'api', sinceSeq: since })).toBe(0);
		// the default Service Source is fine on the Defender API (it lists Defender for Endpoint alerts)
		const ok = await env.run({ resource: 'alert', operation: 'getAll', limit: 2, filters: { serviceSource: 'microsoftDefenderForEndpoint' } });
		expect(ok.error).toBeUndefined();
	});

	test('an undocumented filter property (category): sent; refused → sent without it and applied here, same result', async () => {
		const category = env.emu.listAlerts(tenant)[0].category;
		const expected = env.emu.listAlerts(tenant).filter((a) => a.category === category).map((a) => a.id).sort();
		let since = env.emu.lastSeq();
		const refused = await env.runGraph({ resource: 'alert', operation: 'getAll', returnAll: true, filters: { category: [category] } });
		expect(refused.error).toBeUndefined();
		expect(refused.items.map((i) => i.json.id).sort()).toEqual(expected);
		expect(env.graphApi(since).map((q) => [q.status, q.query.$filter])).toEqual([
			[400, `serviceSource eq 'microsoftDefenderForEndpoint' and category eq '${category}'`],
			[200, "serviceSource eq 'microsoftDefenderForEndpoint'"],
		]);
		env.emu.graph.configure({ extraFilterable: ['category'] });
		since = env.emu.lastSeq();
		const accepted = await env.runGraph({ resource: 'alert', operation: 'getAll', returnAll: true, filters: { category: [category] } });
		expect(accepted.items.map((i) => i.json.id).sort()).toEqual(expected);
		expect(env.graphApi(since).map((q) => q.status)).toEqual([200]);
	});

	test('$orderby refused: sent again without it, with a hint that the order is the API\'s', async () => {
		env.emu.graph.configure({ orderBy: false });
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'getAll', limit: 5 });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(5);
		expect(env.graphApi(since).map((q) => [q.status, q.query.$orderby])).toEqual([
			[400, 'createdDateTime desc'],
			[200, undefined],
		]);
		expect(hintsOf(r).join(' ')).toMatch(/refused \$orderby/);
	});

	test('a smaller page limit named by the service is used ($top above it → 400 → the limit)', async () => {
		env.emu.graph.configure({ maxPageSize: 7 });
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'getAll', returnAll: true });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(env.emu.listAlerts(tenant).length);
		const reqs = env.graphApi(since);
		expect(reqs[0]).toMatchObject({ status: 400 });
		expect(reqs[1].query.$top).toBe('7');
	});

	test('Region set with Graph: ignored with a hint, not an error', async () => {
		const r = await env.runGraph({ resource: 'alert', operation: 'getAll', limit: 1, region: 'eu' });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(1);
		expect(hintsOf(r).join(' ')).toMatch(/Region "eu" is ignored: the credential's Alerts API is Microsoft Graph/);
	});
});

describe('Return All paging on Graph', () => {
	let big: string;
	beforeAll(() => {
		big = env.scenario.tenants[1].id;
		env.emu.seedTenant(big, { alerts: 170, seed: 'graph-paging', events: 0 });
	});

	test('follows @odata.nextLink (on the API origin) page by page: every alert once, in order', async () => {
		env.emu.graph.configure({ maxPageSize: 50 });
		const total = env.emu.listAlerts(big).length;
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'getAll', returnAll: true, customerTenant: big });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(total);
		expect(new Set(r.items.map((i) => i.json.id)).size).toBe(total);
		// the first ask ($top=2000) is above this service's limit: it names 50, which is used from then on
		const [refused, ...reqs] = env.graphApi(since);
		expect([refused.status, refused.query.$top]).toEqual([400, '2000']);
		expect(reqs).toHaveLength(Math.ceil(total / 50));
		expect(reqs.map((q) => q.query.$skip ?? '0')).toEqual(reqs.map((_, k) => String(k * 50)));
		expect(reqs.every((q) => q.query.$top === '50' && q.status === 200)).toBe(true);
	});

	test('without a nextLink (the service may not send one with $top) full pages are followed by $skip', async () => {
		env.emu.graph.configure({ maxPageSize: 50, nextLink: 'none' });
		const total = env.emu.listAlerts(big).length;
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'getAll', returnAll: true, customerTenant: big });
		expect(r.items).toHaveLength(total);
		// a full last page is followed by one more (empty) page: without a nextLink nothing says it was the last
		const ok = env.graphApi(since).filter((q) => q.status === 200);
		expect(ok.map((q) => q.query.$skip ?? '0')).toEqual(Array.from({ length: Math.floor(total / 50) + 1 }, (_, k) => String(k * 50)));
	});

	test('a Limit stops at the limit (no page beyond it)', async () => {
		env.emu.graph.configure({ maxPageSize: 50 });
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'getAll', limit: 60, customerTenant: big });
		expect(r.items).toHaveLength(60);
		expect(env.graphApi(since).filter((q) => q.status === 200)).toHaveLength(2);
	});

	test.each([
		['another host', 'https://evil.example.com/v1.0/security/alerts_v2?$skip=2'],
		['the same host on another port', 'https://127.0.0.1:1/v1.0/security/alerts_v2?$skip=2'],
		['http instead of https', 'PLAIN'],
		['outside the API path', 'OUTSIDE'],
	])('a nextLink to %s is not followed: the token never leaves the API origin', async (_what, link) => {
		const origin = new URL(env.emu.url);
		const next = link === 'PLAIN' ? `http://${origin.host}/v1.0/security/alerts_v2?$skip=2` : link === 'OUTSIDE' ? `${env.emu.url}/_emulator/state?x=1` : link;
		env.emu.injectFault({ match: { kind: 'api', path: '/v1.0/security/alerts_v2' }, status: 200, body: { value: [{ id: 'x1', createdDateTime: '2026-01-01T00:00:00Z', title: 'x' }], '@odata.nextLink': next } });
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'getAll', returnAll: true });
		expect(r.error?.message).toMatch(/returned a next-page link to .* it was not followed/);
		expect(env.emu.requests({ sinceSeq: since }).filter((q) => q.kind !== 'token' && q.kind !== 'discovery')).toHaveLength(1);
		expect(env.emu.proxyConnects().some((c) => /evil/.test(JSON.stringify(c)))).toBe(false);
	});

	/**
	 * Which paging is exact under ties (many alerts with the same createdDateTime) when alerts arrive between pages:
	 * measured for the three nextLink forms. Arrivals are newer, so in `createdDateTime desc` order they land in
	 * front: offset paging ($skip, in the link or ours) then repeats the items the arrivals pushed back (deduplicated
	 * by id: no loss, no duplicate in the output); a keyset $skiptoken neither repeats nor misses.
	 */
	test.each([['skip', 1], ['skiptoken', 2], ['none', 3]] as const)('ties and arrivals between pages, nextLink form %s: every alert exactly once', async (form, n) => {
		const tied = env.scenario.tenants[1].id;
		const t0 = '2026-06-01T00:00:00.0000000Z';
		const prefix = `tie${form}`;
		env.emu.addAlerts(tied, Array.from({ length: 120 }, (_, k) => ({ id: `da63${n}${String(k).padStart(14, '0')}_${k + 1}`, alertCreationTime: t0, title: `${prefix} ${k}` })));
		env.emu.graph.configure({ maxPageSize: 25, nextLink: form });
		const before = env.emu.lastSeq();
		let arrivals = 0;
		const timer = setInterval(() => {
			const pagesRead = env.graphApi(before).length;
			if (pagesRead >= 1 && arrivals < pagesRead && arrivals < 4) {
				arrivals += 1;
				env.emu.addAlerts(tied, Array.from({ length: 10 }, () => ({})));
			}
		}, 1);
		try {
			const r = await env.runGraph({ resource: 'alert', operation: 'getAll', returnAll: true, customerTenant: tied, filters: { createdAfter: t0 } });
			expect(r.error).toBeUndefined();
			expect(arrivals).toBeGreaterThan(0);
			// arrivals (newer, in front of the tied block) are output once too
			expect(new Set(r.items.map((i) => i.json.id)).size).toBe(r.items.length);
			const titles = r.items.map((i) => i.json.title as string).filter((t) => t.startsWith(prefix));
			expect(new Set(titles).size).toBe(120);
			expect(titles).toHaveLength(120);
		} finally {
			clearInterval(timer);
		}
	});
});

describe('Get, Get Related, Create by Reference on Graph', () => {
	test('Get by ID and by portal URL: GET alerts_v2/{id}', async () => {
		const id = env.scenario.tenants[0].alertIds[0];
		const since = env.emu.lastSeq();
		const byId = await env.runGraph({ resource: 'alert', operation: 'get', alertId: rl(id) });
		const byUrl = await env.runGraph({ resource: 'alert', operation: 'get', alertId: rl(`https://security.microsoft.com/alerts/${id}?tid=${tenant}`, 'url') });
		expect(byId.error).toBeUndefined();
		expect(byUrl.items[0].json.id).toBe(id);
		expect(byId.items[0].json).toMatchObject({ id, providerAlertId: id, portalUrl: `https://security.microsoft.com/alerts/${id}?tid=${tenant}` });
		expect(env.graphApi(since).map((q) => `${q.method} ${q.path}`)).toEqual([`GET /v1.0/security/alerts_v2/${id}`, `GET /v1.0/security/alerts_v2/${id}`]);
	});

	test('404: the same message as on the Defender API', async () => {
		const r = await env.runGraph({ resource: 'alert', operation: 'get', alertId: rl('da639000000000000000_-5') });
		expect(r.error?.message).toBe(`Alert da639000000000000000_-5 was not found in tenant ${tenant}`);
		expect(r.error?.description).toMatch(/Request ID: [0-9a-f-]{36}/);
	});

	test('Get Related: one read of the alert, entities from its typed evidence', async () => {
		const rich = env.emu.listAlerts(tenant).find((a) => a.machineId && a.relatedUser && a.evidence.some((e) => e.sha1))!;
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'getRelated', alertId: rl(rich.id) });
		expect(r.error).toBeUndefined();
		expect(env.graphApi(since)).toHaveLength(1);
		const j = r.items[0].json;
		expect((j.machine as IDataObject).id).toBe(rich.machineId);
		expect((j.machine as IDataObject).computerDnsName).toBe(rich.computerDnsName);
		expect((j.user as IDataObject).accountName).toBe(rich.relatedUser!.userName);
		const shas = new Set(rich.evidence.map((e) => e.sha1).filter(Boolean));
		expect((j.files as IDataObject[]).map((f) => f.sha1).sort()).toEqual([...shas].sort());
		expect((j.ips as IDataObject[]).map((x) => x.id).sort()).toEqual([...new Set(rich.evidence.map((e) => e.ipAddress).filter(Boolean))].sort());
		expect(j.dedupKey).toBe(`${tenant}:${rich.id}`);
	});

	test('Create by Reference: a clear error naming the Defender API option, no request', async () => {
		const event = env.scenario.tenants[0].events[0];
		const since = env.emu.lastSeq();
		const r = await env.runGraph({
			resource: 'alert',
			operation: 'createByReference',
			eventTime: event.eventTime,
			reportId: String(event.reportId),
			machineId: event.machineId,
			severity: 'High',
			title: 't',
			description: 'd',
			recommendedAction: 'r',
			category: 'Persistence',
		});
		expect(r.error?.message).toBe('Create by Reference exists on the Defender for Endpoint API only');
		expect(r.error?.description).toMatch(/Alerts API is Defender for Endpoint API/);
		expect(env.emu.count({ kind: 'api', sinceSeq: since })).toBe(0);
	});
});

describe('the alert picker (list search) on Graph', () => {
	test('newest first from alerts_v2, shown with the Defender-named fields', async () => {
		const node: INode = { id: 'n', name: 'Defender', type: NODE_TYPE, typeVersion: 1, position: [0, 0], parameters: { resource: 'alert', operation: 'get' }, credentials: { microsoftDefenderForEndpointApi: env.graphCred } };
		const workflow = new Workflow({ id: 'wf-lo', nodes: [node], connections: {}, active: false, nodeTypes: env.nodeTypes });
		const data = additionalData(env.creds, 'internal', { id: 'wf-lo', name: 'lo', nodes: [node], connections: {} } as unknown as IWorkflowBase);
		(data as unknown as { currentNodeParameters: unknown }).currentNodeParameters = node.parameters;
		const ctx = new LoadOptionsContext(workflow, workflow.getNode('Defender')!, data, 'alertId');
		const since = env.emu.lastSeq();
		const page = await new MicrosoftDefenderForEndpoint().methods.listSearch.searchAlerts.call(ctx);
		expect(page.results.length).toBeGreaterThan(0);
		const newest = [...env.emu.listAlerts(tenant)].sort((a, b) => (a.alertCreationTime < b.alertCreationTime ? 1 : -1))[0];
		expect(page.results[0]).toMatchObject({ value: newest.id, url: `https://security.microsoft.com/alerts/${newest.id}?tid=${tenant}` });
		expect(page.results[0].name).toContain(`(${newest.severity}, ${newest.status})`);
		expect(env.graphApi(since).map((q) => q.query.$orderby)).toEqual(['createdDateTime desc']);
	});
});
