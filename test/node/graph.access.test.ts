/**
 * One app identity, two APIs: tokens per scope (Graph for alerts, Defender for machines), a 401 on Graph refreshes
 * the Graph token, a token for the wrong API is refused before it is sent, Check Access per tenant and per API, the
 * consent link, and the credential's Test button with Alerts API = Graph.
 */
import type { IDataObject } from 'n8n-workflow';

import { tokenBroker } from '../../nodes/MicrosoftDefenderForEndpoint/transport/tokens';
import { testCredential } from '../harness';
import { rl } from './env';
import { createGraphEnv, GRAPH_SCOPE, type GraphEnv } from './graphEnv';

let env: GraphEnv;
let tenant: string;
let noGraph: string;

const graphTokens = (tenantId: string) => env.emu.tokenCounts({ tenantId }).filter((c) => c.scope.includes('graph.microsoft.com')).reduce((n, c) => n + c.count, 0);
const defenderTokens = (tenantId: string) => env.emu.tokenCounts({ tenantId }).filter((c) => c.scope.includes('securitycenter')).reduce((n, c) => n + c.count, 0);

beforeAll(async () => {
	env = await createGraphEnv({ scenario: { tenants: 3, alertsPerTenant: 10 } });
	tenant = env.tenantId;
	// a customer that has not consented again since the Graph permissions were added
	noGraph = env.scenario.tenants[2].id;
	env.emu.setRoles(noGraph, env.scenario.clientId, ['Alert.ReadWrite.All', 'Machine.Read.All']);
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => {
	tokenBroker.reset();
});

describe('tokens: one per (authority, tenant, app, scope)', () => {
	test('alerts on Graph use a Graph token; machines keep the Defender API with a Defender token of the same app', async () => {
		const t = env.scenario.tenants[1].id;
		const g0 = graphTokens(t);
		const d0 = defenderTokens(t);
		const alerts = await env.runGraph({ resource: 'alert', operation: 'getAll', limit: 2, customerTenant: t });
		expect(alerts.error).toBeUndefined();
		const machines = await env.runGraph({ resource: 'machine', operation: 'getAll', limit: 2, customerTenant: t });
		expect(machines.error).toBeUndefined();
		expect(machines.items.length).toBeGreaterThan(0);
		const again = await env.runGraph({ resource: 'alert', operation: 'getAll', limit: 2, customerTenant: t });
		expect(again.error).toBeUndefined();
		expect([graphTokens(t) - g0, defenderTokens(t) - d0]).toEqual([1, 1]);
		const paths = env.emu.requests({ kind: 'api', tenantId: t }).map((q) => q.path.split('/').slice(0, 3).join('/'));
		expect(paths).toContain('/v1.0/security');
		expect(paths).toContain('/api/machines');
	});

	test('a 401 from Graph refreshes the Graph token (not a Defender one) and the request succeeds', async () => {
		const first = await env.runGraph({ resource: 'alert', operation: 'getAll', limit: 1 });
		expect(first.error).toBeUndefined();
		const g0 = graphTokens(tenant);
		const d0 = defenderTokens(tenant);
		env.emu.revokeTokens({ tenantId: tenant });
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'getAll', limit: 1 });
		expect(r.error).toBeUndefined();
		expect(env.graphApi(since).map((q) => q.status)).toEqual([401, 200]);
		expect([graphTokens(tenant) - g0, defenderTokens(tenant) - d0]).toEqual([1, 0]);
	});

	test('a Graph Token Scope for the wrong API: refused before anything is sent to Graph, in words', async () => {
		const wrong = env.addGraphCredential('graph-wrong-scope', { graphScope: 'https://api.securitycenter.microsoft.com/.default' });
		const since = env.emu.lastSeq();
		const r = await env.runGraph({ resource: 'alert', operation: 'getAll', limit: 1 }, { cred: wrong });
		expect(r.error?.message).toBe(`The access token for tenant ${tenant} is for Defender for Endpoint, not for the Microsoft Graph Security API`);
		expect(r.error?.description).toMatch(/Set the credential's Graph Token Scope to the Microsoft Graph resource of the cloud/);
		expect(env.graphApi(since)).toHaveLength(0);
	});

	test('a customer that has not consented to the Graph permissions: the 403 names them and says to consent again', async () => {
		const id = env.emu.listAlerts(noGraph)[0].id;
		const r = await env.runGraph({ resource: 'alert', operation: 'get', alertId: rl(id), customerTenant: noGraph });
		expect(r.error?.message).toBe(`The app lacks the permission for this operation in tenant ${noGraph}: it needs SecurityAlert.Read.All or SecurityAlert.ReadWrite.All`);
		expect(r.error?.description).toMatch(/no Microsoft Graph application permissions.*consent again/);
	});
});

describe('Check Access: per tenant and per API', () => {
	test('Defender credential (today\'s): the main row as before, plus whether each customer is ready for Graph', async () => {
		const cred = env.addCredential('mde-with-graph-host', { graphBaseUrl: env.emu.url, graphScope: GRAPH_SCOPE });
		const r = await env.run({ resource: 'tenant', operation: 'checkAccess', tenants: `${tenant}, ${noGraph}` }, { cred });
		expect(r.error).toBeUndefined();
		const [ready, pending] = r.items.map((i) => i.json);
		expect(ready).toMatchObject({ alertsApi: 'defender', ready: true, apiAccess: 'ok' });
		const apisReady = ready.apis as IDataObject[];
		expect(apisReady.map((a) => [a.api, a.selected, a.ready])).toEqual([
			['defender', true, true],
			['graph', false, true],
		]);
		expect(apisReady[1].roles).toEqual(['SecurityAlert.ReadWrite.All']);
		expect(apisReady[1].allowedOperations).toEqual(expect.arrayContaining(['Alert: Get Many', 'Alert: Update Many', 'Alert: Add Comment']));
		expect(apisReady[1].nextStep).toMatch(/can be switched to Microsoft Graph Security API/);
		// the roles are SecurityAlert only: the next step names what incidents and hunting still need
		expect(apisReady[1].nextStep).toMatch(/incidents need SecurityIncident\.Read\.All or SecurityIncident\.ReadWrite\.All; advanced hunting needs ThreatHunting\.Read\.All/);
		const apisPending = pending.apis as IDataObject[];
		expect(pending.ready).toBe(true); // the Defender API still works there
		expect(apisPending[1]).toMatchObject({ api: 'graph', ready: false, roles: [] });
		expect(apisPending[1].nextStep).toMatch(/SecurityAlert\.ReadWrite\.All.*consent again \(Tenant → Get Consent Link\)/);
	});

	test('Graph credential: the main row is Graph (its roles and operations), the Defender row for machines and indicators', async () => {
		const r = await env.runGraph({ resource: 'tenant', operation: 'checkAccess', tenants: `${tenant}, ${noGraph}` });
		expect(r.error).toBeUndefined();
		const [ok, denied] = r.items.map((i) => i.json);
		expect(ok).toMatchObject({ alertsApi: 'graph', tokenAcquired: true, roles: ['SecurityAlert.ReadWrite.All'], apiAccess: 'ok', ready: true });
		expect(ok.allowedOperations).toEqual(['Alert: Get Many', 'Alert: Get', 'Alert: Update', 'Alert: Update Many', 'Alert: Add Comment', 'Alert: Get Related (domains, files, IPs, machine, user)']);
		expect((ok.apis as IDataObject[])[1]).toMatchObject({ api: 'defender', selected: false, ready: true });
		expect(((ok.apis as IDataObject[])[1].roles as string[])).toContain('Machine.Read.All');
		expect(denied).toMatchObject({ alertsApi: 'graph', roles: [], ready: false, apiAccess: 'notAllowed' });
		expect(denied.nextStep).toMatch(/SecurityAlert\.ReadWrite\.All.*consent again/);
	});

	test('a custom cloud without a Graph host: the Graph row says what to fill in, no Graph request', async () => {
		const r = await env.run({ resource: 'tenant', operation: 'checkAccess' });
		expect(r.error).toBeUndefined();
		expect((r.items[0].json.apis as IDataObject[])[1]).toMatchObject({ api: 'graph', configured: false, ready: false });
	});
});

describe('consent and the credential test', () => {
	test('Get Consent Link names the Graph permissions and that each customer consents again', async () => {
		const r = await env.runGraph({ resource: 'tenant', operation: 'getConsentLink' });
		expect(r.error).toBeUndefined();
		const j = r.items[0].json;
		expect(j.alertsApi).toBe('graph');
		expect((j.graphPermissions as IDataObject[]).map((p) => p.permission)).toEqual(['SecurityAlert.ReadWrite.All', 'SecurityAlert.Read.All', 'SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All', 'ThreatHunting.Read.All']);
		expect(j.instructions).toMatch(/Microsoft Graph → Application permissions: SecurityAlert\.ReadWrite\.All, SecurityAlert\.Read\.All/);
		expect(j.instructions).toMatch(/Every customer tenant must do this again after permissions are added/);
	});

	test('Test button with Alerts API = Graph: one alerts_v2 request with a Graph token', async () => {
		const since = env.emu.lastSeq();
		await expect(testCredential(env.creds, env.graphCred.id!)).resolves.toEqual({ status: 'OK', message: 'Connection successful!' });
		const reqs = env.emu.requests({ kind: 'api', sinceSeq: since });
		expect(reqs.map((q) => [q.path, q.status])).toEqual([['/v1.0/security/alerts_v2', 200]]);
		const noConsent = env.addGraphCredential('graph-no-consent', { tenantId: noGraph });
		const denied = await testCredential(env.creds, noConsent.id!);
		expect(denied.status).toBe('Error');
		expect(denied.message).toMatch(/SecurityAlert\.Read\.All/);
	});
});
