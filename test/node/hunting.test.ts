/**
 * Hunting → Run Query (Microsoft Graph advanced hunting) through n8n-core's engine against the HTTPS emulator, whose
 * runHuntingQuery interprets the KQL over each tenant's stored data (test/emulator/hunting.ts).
 */
import type { IDataObject, INodeParameters } from 'n8n-workflow';

import { MicrosoftDefenderForEndpoint } from '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node';
import { MSSP_ROLES } from '../emulator';
import { errorOf, outputOf, PACKAGE, runWorkflow, singleNodeWorkflow, TestNodeTypes } from '../harness';
import { createEnv, type TestEnv } from './env';
import { createGraphEnv, GRAPH_SCOPE, type GraphEnv } from './graphEnv';

const HUNTING = 'ThreatHunting.Read.All';
const ROLES = [...MSSP_ROLES, 'SecurityAlert.ReadWrite.All', HUNTING];
const PATH = '/v1.0/security/runHuntingQuery';
const DAY = 86_400_000;

let env: GraphEnv;
let t1: string;
let t2: string;
let t3: string;

beforeAll(async () => {
	env = await createGraphEnv({ scenario: { tenants: 3, alertsPerTenant: 30, roles: ROLES } });
	[t1, t2, t3] = env.scenario.tenants.map((t) => t.id);
	// the third customer consented before ThreatHunting.Read.All was added to the app
	env.emu.setRoles(t3, env.scenario.clientId, ROLES.filter((r) => r !== HUNTING));
	env.emu.graph.hunting.configure({ rateLimit: null });
});
afterAll(async () => {
	await env.close();
});
afterEach(() => {
	env.emu.clearFaults();
	env.emu.graph.hunting.reset();
	env.emu.graph.hunting.configure({ rateLimit: null });
});

const hunt = (params: Record<string, unknown> = {}) => ({ resource: 'hunting', operation: 'runQuery', query: 'AlertInfo | where Severity == "High" | project AlertId, Severity', ...params });
/** what the tenant's stored alerts say (computed here, independently of the interpreter) */
const highAlerts = (tenant: string) => env.emu.listAlerts(tenant).filter((a) => a.severity === 'High' && Date.parse(a.alertCreationTime) >= Date.now() - 30 * DAY).map((a) => a.id).sort();
const huntCalls = (since: number) => env.api({ sinceSeq: since, path: PATH });

describe('Run Query: output', () => {
	test('One Item per Row across two tenants (per-item Customer Tenant): each row carries tenantId and customerLabel, paired to its item', async () => {
		const since = env.emu.lastSeq();
		const q0 = env.emu.graph.hunting.lastSeq();
		const r = await env.runGraph(hunt({ customerTenant: '={{ $json.tenant }}', options: { customerLabel: '={{ $json.label }}' } }), {
			input: [
				{ tenant: t1, label: 'Contoso' },
				{ tenant: t2, label: 'Fabrikam' },
			],
		});
		expect(r.error).toBeUndefined();
		const rows = (item: number) => r.items.filter((i) => (i.pairedItem as { item: number }).item === item).map((i) => i.json);
		expect(rows(0).map((j) => j.AlertId).sort()).toEqual(highAlerts(t1));
		expect(rows(1).map((j) => j.AlertId).sort()).toEqual(highAlerts(t2));
		expect(highAlerts(t1).length + highAlerts(t2).length).toBe(r.items.length);
		expect(rows(0).every((j) => j.tenantId === t1 && j.customerLabel === 'Contoso' && j.Severity === 'High')).toBe(true);
		expect(rows(1).every((j) => j.tenantId === t2 && j.customerLabel === 'Fabrikam')).toBe(true);
		expect(Object.keys(rows(0)[0])).toEqual(['AlertId', 'Severity', 'tenantId', 'customerLabel']);
		// one POST per item, on Graph, with the query as typed and no Timespan (the service's 30-day default)
		expect(huntCalls(since).map((q) => [q.method, q.tenantId, q.status])).toEqual([
			['POST', t1, 200],
			['POST', t2, 200],
		]);
		expect(env.emu.graph.hunting.queries({ sinceSeq: q0 }).map((q) => [q.query, q.timespan])).toEqual([
			['AlertInfo | where Severity == "High" | project AlertId, Severity', undefined],
			['AlertInfo | where Severity == "High" | project AlertId, Severity', undefined],
		]);
		// tokens only for the Graph scope, whatever else the credential does
		expect(env.emu.requests({ kind: 'token', sinceSeq: since }).every((q) => q.scope === GRAPH_SCOPE)).toBe(true);
	});

	test('One Item with All Rows: tenantId, rowCount, schema and results, one item per input item; Timespan is sent', async () => {
		const q0 = env.emu.graph.hunting.lastSeq();
		const r = await env.runGraph(
			hunt({ query: 'AlertInfo\n| where Timestamp > ago(10d)\n| project AlertId, Timestamp\n| order by Timestamp asc', timespan: ' p7d ', output: 'all', customerTenant: '={{ $json.tenant }}' }),
			{ input: [{ tenant: t1 }, { tenant: t2 }] },
		);
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(2);
		for (const [k, tenant] of [t1, t2].entries()) {
			const j = r.items[k].json;
			const expected = env.emu
				.listAlerts(tenant)
				.filter((a) => Date.parse(a.alertCreationTime) >= Date.now() - 7 * DAY)
				.sort((a, b) => Date.parse(a.alertCreationTime) - Date.parse(b.alertCreationTime))
				.map((a) => a.id);
			expect(j).toMatchObject({ tenantId: tenant, rowCount: expected.length, rowLimitReached: false, schema: [{ name: 'AlertId', type: 'String' }, { name: 'Timestamp', type: 'DateTime' }] });
			expect((j.results as IDataObject[]).map((x) => x.AlertId)).toEqual(expected);
			expect((j.results as IDataObject[]).every((x) => x.tenantId === tenant)).toBe(true);
			expect(r.items[k].pairedItem).toEqual({ item: k });
		}
		expect(env.emu.graph.hunting.queries({ sinceSeq: q0 }).map((q) => q.timespan)).toEqual(['P7D', 'P7D']);
	});

	test('Include Schema adds _schema to each row item; a capitalised response (Schema/Results) reads the same', async () => {
		env.emu.graph.hunting.configure({ pascalCase: true });
		const r = await env.runGraph(hunt({ query: 'AlertInfo | project AlertId, Title | take 2', includeSchema: true }));
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(2);
		expect(r.items[0].json._schema).toEqual([
			{ name: 'AlertId', type: 'String' },
			{ name: 'Title', type: 'String' },
		]);
	});

	test('a result column named tenantId is kept as column_tenantId; zero rows give zero items (per row) or rowCount 0', async () => {
		const none = await env.runGraph(hunt({ query: 'AlertInfo | where Severity == "NoSuchSeverity"' }));
		expect(none.error).toBeUndefined();
		expect(none.items).toHaveLength(0);
		const all = await env.runGraph(hunt({ query: 'AlertInfo | where Severity == "NoSuchSeverity"', output: 'all' }));
		expect(all.items[0].json).toMatchObject({ tenantId: t1, rowCount: 0, results: [] });
	});

	test('runs on Microsoft Graph also with a credential whose Alerts API is the Defender for Endpoint API', async () => {
		const dual = env.addGraphCredential('dual-hunting', { alertsApi: 'defender' });
		const since = env.emu.lastSeq();
		const r = await env.run(hunt({ output: 'all' }), { cred: dual });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json.rowCount).toBe(highAlerts(t1).length);
		expect(env.api({ sinceSeq: since }).map((q) => q.path)).toEqual([PATH]);
	});

	test('as an AI agent tool (read-only): runs without any opt-in', async () => {
		const TOOL_TYPE = `${PACKAGE}.microsoftDefenderForEndpointTool`;
		const tool = new MicrosoftDefenderForEndpoint();
		tool.description = { ...tool.description, name: 'microsoftDefenderForEndpointTool' };
		const wf = singleNodeWorkflow({ name: 'Tool', type: TOOL_TYPE, parameters: hunt({ output: 'all' }) as INodeParameters, credentials: { microsoftDefenderForEndpointApi: env.graphCred } });
		const run = await runWorkflow({ ...wf, nodeTypes: new TestNodeTypes({ [TOOL_TYPE]: tool }), credentialsHelper: env.creds, input: [{ json: {} }] });
		expect(errorOf(run, 'Tool')).toBeUndefined();
		expect(outputOf(run, 'Tool')[0].json.rowCount).toBe(highAlerts(t1).length);
	});
});

describe('Run Query: validation before any request', () => {
	test.each([
		[{ query: '   ' }, 'The hunting query is empty', /KQL query/],
		[{ query: '// only a comment\n' }, 'The hunting query is empty', /KQL query/],
		[{ timespan: '7 days' }, 'Timespan "7 days" is not an ISO 8601 duration or interval', /P7D/],
		[{ timespan: 'P0D' }, 'Timespan "P0D" is zero', /ISO 8601/],
		[{ timespan: '2025-03-08T00:00:00Z/2025-03-01T00:00:00Z' }, 'Timespan "2025-03-08T00:00:00Z/2025-03-01T00:00:00Z" ends before it starts', /interval/],
		[{ customerTenant: 'not a tenant!' }, undefined, undefined],
	])('%j → a NodeOperationError with the item index; nothing is sent', async (params, message, hint) => {
		const since = env.emu.lastSeq();
		const r = await env.runGraph(hunt(params));
		expect(r.error).toBeDefined();
		if (message) expect(r.error!.message).toBe(message);
		if (hint) expect(r.error!.description).toMatch(hint);
		expect(r.error!.context?.itemIndex).toBe(0);
		expect(env.emu.count({ sinceSeq: since })).toBe(0);
	});

	test('continueOnFail: the bad item becomes an error item, the good one runs', async () => {
		const since = env.emu.lastSeq();
		const r = await env.runGraph(hunt({ timespan: '={{ $json.ts }}', output: 'all' }), { input: [{ ts: 'P1X' }, { ts: 'PT12H' }], continueOnFail: true });
		expect(r.error).toBeUndefined();
		expect(r.items[0]).toMatchObject({ json: { error: 'Timespan "P1X" is not an ISO 8601 duration or interval' }, pairedItem: { item: 0 } });
		expect(r.items[1].json).toMatchObject({ tenantId: t1 });
		expect(huntCalls(since)).toHaveLength(1);
	});
});

describe('Run Query: errors of the service, actionable', () => {
	test('a KQL mistake: Graph\'s 400 message is passed on; sent once', async () => {
		const since = env.emu.lastSeq();
		const r = await env.runGraph(hunt({ query: 'AlertInf | take 5' }));
		expect(r.error!.message).toBe("Microsoft Graph rejected the hunting query (BadRequest): Semantic error: Failed to resolve table or column expression named 'AlertInf'");
		expect(r.error!.description).toMatch(/Fix the KQL .*case-sensitive.*Request ID: [0-9a-f-]{36}\./);
		expect(r.error!.httpCode).toBe('400');
		expect(r.error!.context?.itemIndex).toBe(0);
		expect(huntCalls(since)).toHaveLength(1);
	});

	test('too many rows: a clear row-limit error naming the 100,000-row limit', async () => {
		env.emu.graph.hunting.configure({ maxRows: 3 });
		const r = await env.runGraph(hunt({ query: 'AlertInfo' }));
		expect(r.error!.message).toMatch(/^The hunting query's result is too large in tenant .* \(at most 100,000 rows\): Query result set has exceeded the internal record count limit 3/);
		expect(r.error!.description).toMatch(/Narrow it/);
	});

	test.each([400, 504] as const)('a timeout answered with %i: a clear timeout error; not sent again', async (status) => {
		env.emu.graph.hunting.configure({ timeoutStatus: status });
		env.emu.graph.hunting.failNext('timeout', 3);
		const since = env.emu.lastSeq();
		const r = await env.runGraph(hunt());
		expect(r.error!.message).toMatch(/^The hunting query ran too long in tenant .* \(advanced hunting cancels a query after about 3 minutes\)/);
		expect(r.error!.description).toMatch(/not sent again/);
		expect(r.error!.httpCode).toBe(String(status));
		expect(huntCalls(since)).toHaveLength(1);
	});

	test('CPU quota answered with 400: a clear quota error; with 429 + Retry-After: waited out, then the rows', async () => {
		env.emu.graph.hunting.configure({ cpuQuotaStatus: 400 });
		env.emu.graph.hunting.failNext('cpuQuota');
		const r = await env.runGraph(hunt());
		expect(r.error!.message).toMatch(/^Advanced hunting's CPU quota is used up in tenant .*: You have exceeded the CPU quota/);
		env.emu.graph.hunting.configure({ cpuQuotaStatus: 429 });
		env.emu.graph.hunting.failNext('cpuQuota', 1, 1);
		const since = env.emu.lastSeq();
		const ok = await env.runGraph(hunt({ output: 'all' }));
		expect(ok.error).toBeUndefined();
		expect(huntCalls(since).map((q) => q.status)).toEqual([429, 200]);
	});

	test('429 beyond Max Throttle Wait: a throttled error naming the hunting budget; continueOnFail keeps the other item', async () => {
		env.emu.graph.hunting.failNext('throttle', 1, 30);
		const r = await env.runGraph(hunt({ output: 'all', customerTenant: '={{ $json.tenant }}', options: { maxThrottleWait: 5 } }), { input: [{ tenant: t1 }, { tenant: t2 }], continueOnFail: true });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json.error).toMatch(/^Microsoft Graph is throttling hunting requests for tenant .*; retry after 30 s/);
		expect(r.items[0].json.description).toMatch(/45 calls per minute per tenant/);
		expect(r.items[0].json.httpCode).toBe('429');
		expect(r.items[1].json).toMatchObject({ tenantId: t2, rowCount: highAlerts(t2).length });
	});

	test('a lost answer (connection reset) or a 503 is sent again (the query only reads); a 500 is not', async () => {
		env.emu.injectFault({ match: { path: PATH }, reset: true });
		env.emu.injectFault({ match: { path: PATH }, status: 503 });
		let since = env.emu.lastSeq();
		const ok = await env.runGraph(hunt({ output: 'all' }));
		expect(ok.error).toBeUndefined();
		expect(huntCalls(since).map((q) => q.status)).toEqual([0, 503, 200]);
		env.emu.injectFault({ match: { path: PATH }, status: 500, times: 3 });
		since = env.emu.lastSeq();
		const failed = await env.runGraph(hunt());
		expect(failed.error!.message).toMatch(/^Microsoft Graph failed to run the hunting query \(HTTP 500/);
		expect(huntCalls(since)).toHaveLength(1);
	});

	test('a tenant without ThreatHunting.Read.All: the 403 names the permission', async () => {
		const r = await env.runGraph(hunt({ customerTenant: t3 }));
		expect(r.error!.message).toBe(`The app lacks the permission for this operation in tenant ${t3}: it needs ThreatHunting.Read.All`);
		expect(r.error!.description).toMatch(/Microsoft Graph → Application permissions/);
	});

	test('Check Access: the Microsoft Graph row says per tenant whether hunting is unlocked', async () => {
		const r = await env.run({ resource: 'tenant', operation: 'checkAccess', tenants: `${t1}, ${t3}`, options: { probeApi: false } }, { cred: env.addGraphCredential('access-dual', { alertsApi: 'defender' }) });
		expect(r.error).toBeUndefined();
		const graphRow = (k: number) => (r.items[k].json.apis as IDataObject[]).find((a) => a.api === 'graph')!;
		expect(graphRow(0).allowedOperations).toContain('Hunting: Run Query');
		expect(graphRow(1).allowedOperations).not.toContain('Hunting: Run Query');
		expect(graphRow(1).blockedOperations).toContainEqual({ operation: 'Hunting: Run Query', needs: HUNTING });
	});
});

describe('pacing: 45 calls per minute per tenant (windows time-scaled ×1/10 on both sides: 45 per 6 s at the emulator)', () => {
	let paced: TestEnv;
	beforeAll(async () => {
		paced = await createEnv({ emulator: { graph: true, rateLimits: false }, scenario: { tenants: 2, alertsPerTenant: 5, roles: ROLES }, pacerScale: 1 / 10 });
		paced.emu.graph.hunting.configure({ rateLimit: { limit: 45, windowMs: 6000 } });
	});
	afterAll(async () => {
		await paced.close();
	});

	test('60 queries in a loop over one tenant, and 20 over another: no 429 at the emulator, every item succeeds', async () => {
		const cred = paced.addCredential('paced-graph', { graphBaseUrl: paced.emu.url, graphScope: GRAPH_SCOPE });
		const [a, b] = paced.scenario.tenants.map((t) => t.id);
		const input = [...Array.from({ length: 60 }, () => ({ tenant: a })), ...Array.from({ length: 20 }, () => ({ tenant: b }))];
		const since = paced.emu.lastSeq();
		const r = await paced.run(hunt({ query: 'AlertInfo | count', output: 'all', customerTenant: '={{ $json.tenant }}' }), { input, cred });
		expect(r.error).toBeUndefined();
		expect(r.items).toHaveLength(80);
		expect(r.items.every((i) => (i.json.results as IDataObject[])[0].Count === 5)).toBe(true);
		const calls = paced.emu.requests({ kind: 'api', sinceSeq: since, path: PATH });
		expect(calls.filter((q) => q.status !== 200).map((q) => [q.status, q.tenantId, q.at])).toEqual([]);
		expect(calls).toHaveLength(80);
	}, 60_000);
});
