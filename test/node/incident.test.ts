/**
 * Incident resource (Microsoft Graph security incidents) through n8n-core's WorkflowExecute against the HTTPS emulator:
 * every operation, paging past Graph's 50 per page, Expand Alerts, filters (and the undocumented determination filter
 * both ways), validation before any request, 403 naming the missing permission, per-item customer tenants,
 * continueOnFail, Region as a hint, and incidents on Graph whatever the credential's Alerts API.
 */
import type { IDataObject } from 'n8n-workflow';

import { SIMPLE_INCIDENT_FIELDS } from '../../nodes/MicrosoftDefenderForEndpoint/core/graphIncidents';
import { rl } from './env';
import { createGraphEnv, GRAPH_ROLES_RW, GRAPH_SCOPE, type GraphEnv } from './graphEnv';

let env: GraphEnv;
let tenant: string;
let fabrikam: string;
let noIncidents: string;
let readOnly: string;

const INCIDENTS = '/v1.0/security/incidents';
type Incident = Record<string, unknown> & { id: string };

const incidentsOf = (t: string) => env.emu.graph.incidents.list(t) as Incident[];
const ids = (items: Array<{ json: IDataObject }>) => items.map((i) => String(i.json.id));
const hintsOf = (r: { run: { data: { resultData: { runData: Record<string, Array<{ hints?: Array<{ message: string }> }>> } } } }) =>
	(r.run.data.resultData.runData.Defender?.[0]?.hints ?? []).map((h) => h.message);
const requests = (since: number) => env.graphApi(since).map((q) => `${q.method} ${q.path}`);

beforeAll(async () => {
	env = await createGraphEnv({ scenario: { tenants: 4, alertsPerTenant: 30, roles: ['Alert.ReadWrite.All', ...GRAPH_ROLES_RW, 'SecurityIncident.ReadWrite.All'] } });
	tenant = env.tenantId;
	fabrikam = env.scenario.tenants[1].id;
	noIncidents = env.scenario.tenants[2].id;
	readOnly = env.scenario.tenants[3].id;
	env.emu.setRoles(noIncidents, env.scenario.clientId, ['Alert.ReadWrite.All', 'SecurityAlert.ReadWrite.All']);
	env.emu.setRoles(readOnly, env.scenario.clientId, ['SecurityIncident.Read.All']);
	// more than two Graph pages of incidents (every new alert opens its own incident)
	env.emu.addAlerts(tenant, 90);
});
afterAll(async () => {
	await env.close();
});
afterEach(() => {
	env.emu.clearFaults();
	env.emu.graph.incidents.configure({ maxPageSize: 50, topAboveMax: 'error', filterDetermination: false, orderBy: true, nextLink: 'skip' });
	env.emu.graph.configure({ determinationSpelling: 'sdk' });
});

describe('Get Many', () => {
	test('Return All pages past 50 with the API\'s nextLink ($top never above 50); each incident once, as the API lists them', async () => {
		const expected = incidentsOf(tenant);
		expect(expected.length).toBeGreaterThan(50);
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'incident', operation: 'getAll', returnAll: true });
		expect(r.error).toBeUndefined();
		expect(ids(r.items)).toEqual(expected.map((i) => i.id));
		const reqs = env.graphApi(since);
		expect(reqs).toHaveLength(Math.ceil(expected.length / 50));
		expect(reqs[0].query).toEqual({ $top: '50' });
		for (const q of reqs) expect(Number(q.query.$top)).toBeLessThanOrEqual(50);
		expect(reqs.slice(1).map((q) => q.query.$skip)).toEqual(reqs.slice(1).map((_, k) => String(50 * (k + 1))));
		// no Defender API request: incidents are on Graph
		expect(env.api({ sinceSeq: since }).filter((q) => q.path.startsWith('/api/'))).toEqual([]);
		expect(r.items.every((it, k) => (it.pairedItem as { item: number }).item === 0 && k >= 0)).toBe(true);
	});

	test('Limit 60: two pages, 60 items; Limit 7 asks $top=7', async () => {
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'incident', operation: 'getAll', limit: 60 });
		expect(r.items).toHaveLength(60);
		expect(env.graphApi(since)).toHaveLength(2);
		const s2 = env.emu.lastSeq();
		const small = await env.runGraph({ resource: 'incident', operation: 'getAll', limit: 7 });
		expect(small.items).toHaveLength(7);
		expect(env.graphApi(s2).map((q) => q.query.$top)).toEqual(['7']);
	});

	test.each([
		['the service serves at most 50 and answers no nextLink', { nextLink: 'none' as const }],
		['the service clamps a larger $top instead of refusing it', { topAboveMax: 'clamp' as const, nextLink: 'none' as const }],
	])('%s: Return All follows with $skip and gets the same incidents', async (_label, settings) => {
		env.emu.graph.incidents.configure(settings);
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'incident', operation: 'getAll', returnAll: true });
		expect(r.error).toBeUndefined();
		expect(ids(r.items)).toEqual(incidentsOf(tenant).map((i) => i.id));
		const skips = env.graphApi(since).map((q) => q.query.$skip ?? '0');
		expect(skips).toEqual(['0', '50']);
	});

	test('a service that names a smaller page limit in its 400: the node asks again with it', async () => {
		env.emu.graph.incidents.configure({ maxPageSize: 20 });
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'incident', operation: 'getAll', limit: 45 });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(45);
		const reqs = env.graphApi(since);
		expect(reqs.map((q) => [q.status, q.query.$top])).toEqual([
			[400, '45'],
			[200, '20'],
			[200, '20'],
			[200, '20'],
		]);
	});

	test('filters become a Graph $filter; the result is what the emulator lists for them', async () => {
		const all = incidentsOf(tenant);
		const cut = String(all[Math.floor(all.length / 2)].createdDateTime);
		const since = env.emu.lastSeq();
		const r = await env.runGraph({
			resource: 'incident',
			operation: 'getAll',
			returnAll: true,
			filters: { status: ['active', 'inProgress'], severity: ['high', 'medium', 'low'], createdAfter: cut },
		});
		expect(r.error).toBeUndefined();
		expect(env.graphApi(since)[0].query.$filter).toBe(
			`(status eq 'active' or status eq 'inProgress') and (severity eq 'high' or severity eq 'medium' or severity eq 'low') and createdDateTime ge ${cut.replace(/(\.\d{1,7})?Z$/, (_m, f: string | undefined) => `${(f ?? '.').padEnd(8, '0')}Z`)}`,
		);
		const expected = all.filter((i) => ['active', 'inProgress'].includes(String(i.status)) && ['high', 'medium', 'low'].includes(String(i.severity)) && String(i.createdDateTime) >= cut);
		expect(expected.length).toBeGreaterThan(0);
		expect(ids(r.items).sort()).toEqual(expected.map((i) => i.id).sort());
	});

	test('assigned to, classification, last updated before: sent and applied', async () => {
		const target = incidentsOf(tenant)[3];
		const patched = await env.runGraph({ resource: 'incident', operation: 'update', incidentId: rl(target.id), updateFields: { assignedTo: 'owner@contoso.com', classification: 'falsePositive' } });
		expect(patched.error).toBeUndefined();
		const r = await env.runGraph({
			resource: 'incident',
			operation: 'getAll',
			returnAll: true,
			filters: { assignedTo: 'owner@contoso.com', classification: ['falsePositive'], updatedBefore: '2999-01-01T00:00:00Z' },
		});
		expect(ids(r.items)).toEqual([target.id]);
	});

	test('Determination (not a documented filter): sent; if refused, asked without it and applied to each page here', async () => {
		const [a, b] = incidentsOf(tenant).slice(5, 7);
		for (const id of [a.id, b.id]) {
			const u = await env.runGraph({ resource: 'incident', operation: 'update', incidentId: rl(id), updateFields: { classification: 'truePositive', determination: 'phishing' } });
			expect(u.error).toBeUndefined();
		}
		const since = env.emu.lastSeq();
		const refused = await env.runGraph({ resource: 'incident', operation: 'getAll', returnAll: true, filters: { determination: ['phishing'] } });
		expect(refused.error).toBeUndefined();
		expect(ids(refused.items).sort()).toEqual([a.id, b.id].sort());
		const reqs = env.graphApi(since);
		expect(reqs[0]).toMatchObject({ status: 400, query: { $filter: "determination eq 'phishing'" } });
		expect(reqs.slice(1).every((q) => q.status === 200 && q.query.$filter === undefined)).toBe(true);

		env.emu.graph.incidents.configure({ filterDetermination: true });
		const s2 = env.emu.lastSeq();
		const accepted = await env.runGraph({ resource: 'incident', operation: 'getAll', returnAll: true, filters: { determination: ['phishing'] } });
		expect(ids(accepted.items).sort()).toEqual([a.id, b.id].sort());
		expect(env.graphApi(s2).map((q) => [q.status, q.query.$filter])).toEqual([[200, "determination eq 'phishing'"]]);
	});

	test('Simplify (default): the documented keys; Expand Alerts adds alertCount and alertIds; raw keeps the alerts', async () => {
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'incident', operation: 'getAll', limit: 5, expandAlerts: true, options: { customerLabel: 'Contoso Ltd' } });
		expect(r.error).toBeUndefined();
		expect(env.graphApi(since)[0].query).toEqual({ $top: '5', $expand: 'alerts' });
		for (const item of r.items) {
			const j = item.json;
			expect(Object.keys(j)).toEqual([...SIMPLE_INCIDENT_FIELDS, 'customerLabel']);
			const mine = env.emu.listAlerts(tenant).filter((al) => String(al.incidentId) === j.id);
			expect(j).toMatchObject({ tenantId: tenant, dedupKey: `${tenant}:incident:${String(j.id)}`, alertCount: mine.length, customerLabel: 'Contoso Ltd' });
			expect((j.alertIds as string[]).sort()).toEqual(mine.map((al) => al.id).sort());
		}
		const plain = await env.runGraph({ resource: 'incident', operation: 'getAll', limit: 2 });
		expect(plain.items[0].json).toMatchObject({ alertCount: null, alertIds: null });
		const raw = await env.runGraph({ resource: 'incident', operation: 'getAll', limit: 2, simplify: false, expandAlerts: true });
		const j = raw.items[0].json;
		expect(j).toMatchObject({ '@odata.type': '#microsoft.graph.security.incident', portalUrl: `https://security.microsoft.com/incidents/${String(j.id)}?tid=${tenant}`, tenantId: tenant });
		expect((j.alerts as IDataObject[])[0]).toMatchObject({ incidentId: j.id, serviceSource: 'microsoftDefenderForEndpoint' });
	});

	test('Prefer: include-unknown-enum-members is sent: an awaitingAction incident reads as such, not unknownFutureValue', async () => {
		const target = incidentsOf(tenant)[8];
		env.emu.graph.incidents.set(tenant, target.id, { status: 'awaitingAction' });
		const r = await env.runGraph({ resource: 'incident', operation: 'getAll', returnAll: true, filters: { status: ['awaitingAction'] } });
		expect(r.items.map((i) => [i.json.id, i.json.status])).toEqual([[target.id, 'awaitingAction']]);
		env.emu.graph.incidents.set(tenant, target.id, { status: 'active' });
	});

	test('bad filter values and a reversed time range stop the item before any request', async () => {
		for (const [filters, message] of [
			[{ status: ['closed'] }, /Status "closed" is not a valid value/],
			[{ createdAfter: 'yesterday-ish' }, /Created After "yesterday-ish" is not a valid date/],
			[{ createdAfter: '2025-02-01T00:00:00Z', createdBefore: '2025-01-01T00:00:00Z' }, /Created: the "after" time .* is not before/],
		] as const) {
			const since = env.emu.lastSeq();
			const r = await env.runGraph({ resource: 'incident', operation: 'getAll', filters });
			expect(r.error?.name).toBe('NodeOperationError');
			expect(r.error?.message).toMatch(message);
			expect(r.error?.context?.itemIndex).toBe(0);
			expect(env.emu.count({ kind: 'api', sinceSeq: since })).toBe(0);
		}
		const since = env.emu.lastSeq();
		const limit = await env.runGraph({ resource: 'incident', operation: 'getAll', limit: 0 });
		expect(limit.error?.message).toMatch(/Limit must be a whole number/);
		expect(env.emu.count({ kind: 'api', sinceSeq: since })).toBe(0);
	});
});

describe('Get', () => {
	test('by ID and by portal link (both link forms); Expand Alerts', async () => {
		const target = incidentsOf(tenant)[0];
		const since = env.emu.lastSeq();
		const byId = await env.runGraph({ resource: 'incident', operation: 'get', incidentId: rl(target.id) });
		expect(byId.error).toBeUndefined();
		expect(byId.items[0].json).toMatchObject({ id: target.id, displayName: target.displayName, tenantId: tenant, dedupKey: `${tenant}:incident:${target.id}` });
		expect(byId.items[0].json).not.toHaveProperty('@odata.context');
		const byUrl = await env.runGraph({ resource: 'incident', operation: 'get', incidentId: rl(`https://security.microsoft.com/incidents/${target.id}?tid=${tenant}`, 'url'), expandAlerts: true, simplify: true });
		expect(byUrl.items[0].json).toMatchObject({ id: target.id, alertCount: expect.any(Number) });
		const portal2 = await env.runGraph({ resource: 'incident', operation: 'get', incidentId: rl(`https://security.microsoft.com/incident2/${target.id}/overview?tid=${tenant}`, 'url') });
		expect(portal2.items[0].json.id).toBe(target.id);
		expect(env.graphApi(since).map((q) => [q.method, q.path, q.query])).toEqual([
			['GET', `${INCIDENTS}/${target.id}`, {}],
			['GET', `${INCIDENTS}/${target.id}`, { $expand: 'alerts' }],
			['GET', `${INCIDENTS}/${target.id}`, {}],
		]);
	});

	test('an unknown incident: 404 with the incident named; an ID that is not one: refused before any request', async () => {
		const missing = await env.runGraph({ resource: 'incident', operation: 'get', incidentId: rl('987654321') });
		expect(missing.error?.message).toBe(`Incident 987654321 was not found in tenant ${tenant}`);
		expect(missing.error?.description).toMatch(/Check the incident ID/);
		for (const value of ['da638712345678901234_-1234567890', '../alerts_v2', '']) {
			const since = env.emu.lastSeq();
			// by expression: the locator's "By ID" field already checks the shape in the editor
			const r = await env.runGraph({ resource: 'incident', operation: 'get', incidentId: rl(`={{ ${JSON.stringify(value)} }}`) });
			expect(r.error?.name).toBe('NodeOperationError');
			expect(r.error?.message).toMatch(value ? /does not look like an incident ID/ : /Incident ID is empty/);
			expect(env.emu.count({ kind: 'api', sinceSeq: since })).toBe(0);
		}
		const since = env.emu.lastSeq();
		const badUrl = await env.runGraph({ resource: 'incident', operation: 'get', incidentId: rl('={{ "https://evil.example.com/incidents/12" }}', 'url') });
		expect(badUrl.error?.message).toMatch(/is not a Defender portal incident link/);
		expect(env.emu.count({ kind: 'api', sinceSeq: since })).toBe(0);
	});
});

describe('Update', () => {
	test('one PATCH with the fields; the output is the incident the API returned', async () => {
		const target = incidentsOf(tenant)[10];
		const since = env.emu.lastSeq();
		const r = await env.runGraph({
			resource: 'incident',
			operation: 'update',
			incidentId: rl(target.id),
			updateFields: { status: 'resolved', classification: 'truePositive', determination: 'malware', assignedTo: 'soc@contoso.com', customTags: 'ransomware, Ticket-7', customTagsMode: 'replace' },
		});
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ id: target.id, status: 'resolved', classification: 'truePositive', determination: 'malware', assignedTo: 'soc@contoso.com', customTags: ['ransomware', 'Ticket-7'], dedupKey: `${tenant}:incident:${target.id}` });
		expect(requests(since)).toEqual([`PATCH ${INCIDENTS}/${target.id}`]);
		expect(env.emu.graph.incidents.list(tenant).find((i) => i.id === target.id)).toMatchObject({ status: 'resolved', customTags: ['ransomware', 'Ticket-7'] });
	});

	test('Custom Tags: Add reads the tags and adds the new ones (no duplicates in any case); Remove drops them; Replace with nothing clears', async () => {
		const target = incidentsOf(tenant)[11];
		env.emu.graph.incidents.set(tenant, target.id, { customTags: ['Existing', 'keep'] });
		let since = env.emu.lastSeq();
		const added = await env.runGraph({ resource: 'incident', operation: 'update', incidentId: rl(target.id), updateFields: { customTags: 'existing, new-one' } });
		expect(added.items[0].json.customTags).toEqual(['Existing', 'keep', 'new-one']);
		expect(requests(since)).toEqual([`GET ${INCIDENTS}/${target.id}`, `PATCH ${INCIDENTS}/${target.id}`]);

		since = env.emu.lastSeq();
		const again = await env.runGraph({ resource: 'incident', operation: 'update', incidentId: rl(target.id), updateFields: { customTags: ['NEW-ONE'], customTagsMode: 'add' } });
		expect(again.items[0].json.customTags).toEqual(['Existing', 'keep', 'new-one']);
		// nothing to change: read only, no PATCH
		expect(requests(since)).toEqual([`GET ${INCIDENTS}/${target.id}`]);

		const removed = await env.runGraph({ resource: 'incident', operation: 'update', incidentId: rl(target.id), updateFields: { customTags: 'KEEP', customTagsMode: 'remove' } });
		expect(removed.items[0].json.customTags).toEqual(['Existing', 'new-one']);

		since = env.emu.lastSeq();
		const cleared = await env.runGraph({ resource: 'incident', operation: 'update', incidentId: rl(target.id), updateFields: { customTags: '', customTagsMode: 'replace' } });
		expect(cleared.items[0].json.customTags).toEqual([]);
		expect(requests(since)).toEqual([`PATCH ${INCIDENTS}/${target.id}`]);
	});

	test('a service that wants the Update page\'s determination spelling: refused once, sent again as notMalicious', async () => {
		env.emu.graph.configure({ determinationSpelling: 'table' });
		const target = incidentsOf(tenant)[12];
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'incident', operation: 'update', incidentId: rl(target.id), updateFields: { classification: 'falsePositive', determination: 'clean' } });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ classification: 'falsePositive', determination: 'notMalicious' });
		expect(env.graphApi(since).map((q) => q.status)).toEqual([400, 200]);
	});

	test.each([
		[{}, /Update Fields is empty/],
		[{ classification: 'falsePositive', determination: 'malware' }, /Determination "malware" does not fit Classification "falsePositive"/],
		[{ status: 'redirected' }, /Status "redirected" is not a valid value/],
		[{ customTags: ' ', customTagsMode: 'add' }, /Custom Tags is empty/],
		[{ customTags: 'x'.repeat(101) }, /at most 100 are sent/],
	])('Update Fields %p: refused before any request', async (updateFields, message) => {
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'incident', operation: 'update', incidentId: rl(incidentsOf(tenant)[0].id), updateFields });
		expect(r.error?.name).toBe('NodeOperationError');
		expect(r.error?.message).toMatch(message);
		expect(env.emu.count({ kind: 'api', sinceSeq: since })).toBe(0);
	});
});

describe('Add Comment', () => {
	test('POST …/comments, then the incident with its comment list', async () => {
		const target = incidentsOf(tenant)[13];
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'incident', operation: 'addComment', incidentId: rl(target.id), comment: 'Ticket INC-42 opened' });
		expect(r.error).toBeUndefined();
		expect((r.items[0].json.comments as IDataObject[]).map((c) => c.comment)).toEqual(['Ticket INC-42 opened']);
		expect(requests(since)).toEqual([`POST ${INCIDENTS}/${target.id}/comments`, `GET ${INCIDENTS}/${target.id}`]);
	});

	test('an empty or too long comment is refused before any request', async () => {
		for (const [comment, message] of [
			['  ', /Comment is empty/],
			['x'.repeat(4001), /at most 4,000 are sent/],
		] as const) {
			const since = env.emu.lastSeq();
			const r = await env.runGraph({ resource: 'incident', operation: 'addComment', incidentId: rl(incidentsOf(tenant)[0].id), comment });
			expect(r.error?.message).toMatch(message);
			expect(env.emu.count({ kind: 'api', sinceSeq: since })).toBe(0);
		}
	});
});

describe('tenants, permissions, errors', () => {
	test('403: the missing SecurityIncident permission is named (read and write)', async () => {
		const none = await env.runGraph({ resource: 'incident', operation: 'getAll', customerTenant: noIncidents });
		expect(none.error?.message).toMatch(new RegExp(`lacks the permission for this operation in tenant ${noIncidents}: it needs SecurityIncident\\.Read\\.All or SecurityIncident\\.ReadWrite\\.All`));
		expect(none.error?.description).toMatch(/Microsoft Graph token carries SecurityAlert\.ReadWrite\.All\. .*Microsoft Graph → Application permissions/);
		const ro = await env.runGraph({ resource: 'incident', operation: 'getAll', customerTenant: readOnly, limit: 1 });
		expect(ro.error).toBeUndefined();
		const id = String(ro.items[0].json.id);
		const denied = await env.runGraph({ resource: 'incident', operation: 'update', customerTenant: readOnly, incidentId: rl(id), updateFields: { status: 'resolved' } });
		expect(denied.error?.message).toMatch(/it needs SecurityIncident\.ReadWrite\.All$/);
		expect(denied.error?.httpCode).toBe('403');
	});

	test('per-item Customer Tenant (MSSP): each item reads its own tenant; output carries its tenant; paired to its item', async () => {
		const r = await env.runGraph(
			{ resource: 'incident', operation: 'getAll', limit: 2, customerTenant: '={{ $json.tenant }}', options: { customerLabel: '={{ $json.label }}' } },
			{ input: [{ tenant, label: 'Contoso' }, { tenant: fabrikam, label: 'Fabrikam' }] },
		);
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => [i.json.tenantId, i.json.customerLabel, (i.pairedItem as { item: number }).item])).toEqual([
			[tenant, 'Contoso', 0],
			[tenant, 'Contoso', 0],
			[fabrikam, 'Fabrikam', 1],
			[fabrikam, 'Fabrikam', 1],
		]);
		expect(ids(r.items.slice(2))).toEqual(incidentsOf(fabrikam).slice(0, 2).map((i) => i.id));
	});

	test('continueOnFail: a bad item and a tenant without permission become error items; the good item still runs', async () => {
		const good = incidentsOf(tenant)[1].id;
		const r = await env.runGraph(
			{ resource: 'incident', operation: 'get', incidentId: rl('={{ $json.id }}'), customerTenant: '={{ $json.tenant }}' },
			{ input: [{ id: 'not-an-id', tenant }, { id: good, tenant: noIncidents }, { id: good, tenant }], continueOnFail: true },
		);
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(3);
		expect(r.items[0].json.error).toMatch(/does not look like an incident ID/);
		expect(r.items[1].json).toMatchObject({ httpCode: '403', error: expect.stringMatching(/SecurityIncident\.Read\.All/) });
		expect(r.items[2].json.id).toBe(good);
		expect(r.items.map((i) => (i.pairedItem as { item: number }).item)).toEqual([0, 1, 2]);
	});

	test('Region is ignored on Graph: a hint, not an error; no Defender host is called', async () => {
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'incident', operation: 'getAll', limit: 1, region: 'eu' });
		expect(r.error).toBeUndefined();
		expect(hintsOf(r)).toEqual([expect.stringMatching(/^Region "eu" is ignored: incidents are read through Microsoft Graph/)]);
		expect(env.api({ sinceSeq: since }).every((q) => q.path.startsWith('/v1.0/'))).toBe(true);
	});

	test('a credential whose Alerts API is the Defender for Endpoint API: incidents still go to Graph with a Graph token of the same app', async () => {
		const cred = env.addCredential('defender-with-graph-host', { graphBaseUrl: env.emu.url, graphScope: GRAPH_SCOPE });
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'incident', operation: 'getAll', limit: 3 }, { cred });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(3);
		expect(env.api({ sinceSeq: since }).map((q) => q.path)).toEqual([INCIDENTS]);
		const alerts = await env.run({ resource: 'alert', operation: 'getAll', limit: 1 }, { cred });
		expect(alerts.error).toBeUndefined();
		expect(env.api({ sinceSeq: since }).map((q) => q.path)).toEqual([INCIDENTS, '/api/alerts']);
	});

	test('Check Access lists the incident operations the Graph token unlocks, and what the others need', async () => {
		const r = await env.runGraph({ resource: 'tenant', operation: 'checkAccess', tenants: `${tenant}, ${noIncidents}, ${readOnly}` });
		expect(r.error).toBeUndefined();
		const [full, none, ro] = r.items.map((i) => i.json);
		expect(full.allowedOperations).toEqual(expect.arrayContaining(['Incident: Get Many', 'Incident: Get', 'Incident: Update', 'Incident: Add Comment']));
		const blocked = (row: IDataObject) => (row.blockedOperations as Array<{ operation: string; needs: string }>).filter((b) => b.operation.startsWith('Incident:'));
		expect(blocked(none)).toEqual([
			{ operation: 'Incident: Get Many', needs: 'SecurityIncident.Read.All or SecurityIncident.ReadWrite.All' },
			{ operation: 'Incident: Get', needs: 'SecurityIncident.Read.All or SecurityIncident.ReadWrite.All' },
			{ operation: 'Incident: Update', needs: 'SecurityIncident.ReadWrite.All' },
			{ operation: 'Incident: Add Comment', needs: 'SecurityIncident.ReadWrite.All' },
		]);
		expect(ro.allowedOperations).toEqual(['Incident: Get Many', 'Incident: Get']);
		expect(blocked(ro).map((b) => b.operation)).toEqual(['Incident: Update', 'Incident: Add Comment']);
	});
});
