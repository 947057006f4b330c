/** The emulator's Microsoft Graph security alerts_v2 (graph.ts), over HTTPS with real tokens. */
import { startEmulator, type Emulator } from './index';
import { ensureFetchTrustsEmulator, getToken, requestToken } from './test-helpers';

ensureFetchTrustsEmulator();

const GRAPH = 'https://graph.microsoft.com/.default';
const DEFENDER_ROLES = ['Alert.ReadWrite.All'];
const GRAPH_RW = ['SecurityAlert.ReadWrite.All'];

let emu: Emulator;
let tenant: string;
let readOnlyTenant: string;
let clientId: string;
let secret: string;
let graphToken: string;
let defenderToken: string;

interface Json {
	status: number;
	headers: Headers;
	body: any;
}

async function call(path: string, init: { method?: string; body?: unknown; token?: string; prefer?: boolean } = {}): Promise<Json> {
	const headers: Record<string, string> = { authorization: `Bearer ${init.token ?? graphToken}` };
	if (init.body !== undefined) headers['content-type'] = 'application/json';
	if (init.prefer !== false) headers.prefer = 'include-unknown-enum-members';
	const res = await fetch(path.startsWith('https://') ? path : `${emu.url}${path}`, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
	const text = await res.text();
	return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

function expectGraphError(res: Json, status: number, code: string, message?: RegExp): void {
	expect(res.status).toBe(status);
	expect(Object.keys(res.body)).toEqual(['error']);
	expect(res.body.error.code).toBe(code);
	expect(Object.keys(res.body.error.innerError)).toEqual(['date', 'request-id', 'client-request-id']);
	if (message) expect(res.body.error.message).toMatch(message);
}

beforeAll(async () => {
	emu = await startEmulator({ rateLimits: false, graph: true });
	const home = emu.addTenant({ name: 'MSSP' }).id;
	tenant = emu.addTenant({ name: 'Contoso' }).id;
	readOnlyTenant = emu.addTenant({ name: 'Fabrikam' }).id;
	const app = emu.addApp({ name: 'MSSP app', homeTenantId: home });
	clientId = app.clientId;
	secret = app.secrets[0];
	emu.grantConsent(tenant, clientId, [...DEFENDER_ROLES, ...GRAPH_RW]);
	emu.grantConsent(readOnlyTenant, clientId, [...DEFENDER_ROLES, 'SecurityAlert.Read.All']);
	emu.seedTenant(tenant, { alerts: 60, seed: 'g' });
	emu.seedTenant(readOnlyTenant, { alerts: 5, seed: 'r' });
	graphToken = await getToken(emu.url, { tenant, clientId, clientSecret: secret, scope: GRAPH });
	defenderToken = await getToken(emu.url, { tenant, clientId, clientSecret: secret });
});
afterAll(async () => {
	await emu.close();
});
afterEach(() => {
	emu.graph.configure({ maxPageSize: 2000, orderBy: true, nextLink: 'skip', extraFilterable: [], idStyle: 'same', determinationSpelling: 'sdk', wrongAudienceStatus: 401 });
	emu.disableRateLimits();
});

describe('tokens: one audience per API', () => {
	test('a Graph token carries only the Graph roles, a Defender token only the WindowsDefenderATP roles', () => {
		const claims = (t: string) => JSON.parse(Buffer.from(t.split('.')[1], 'base64url').toString()) as { aud: string; roles?: string[] };
		expect(claims(graphToken)).toMatchObject({ aud: 'https://graph.microsoft.com', roles: GRAPH_RW });
		expect(claims(defenderToken)).toMatchObject({ aud: 'https://api.securitycenter.microsoft.com', roles: DEFENDER_ROLES });
	});

	test('each API refuses the other\'s token, as the real ones do', async () => {
		expectGraphError(await call('/v1.0/security/alerts_v2', { token: defenderToken }), 401, 'InvalidAuthenticationToken', /Invalid audience/);
		emu.graph.configure({ wrongAudienceStatus: 403 });
		expectGraphError(await call('/v1.0/security/alerts_v2', { token: defenderToken }), 403, 'Forbidden', /audience/);
		const res = await fetch(`${emu.url}/api/alerts?$top=1`, { headers: { authorization: `Bearer ${graphToken}` } });
		expect(res.status).toBe(403);
	});

	test('Graph scopes are not issued while Graph is disabled (AADSTS500011, the emulator\'s default)', async () => {
		emu.graph.configure({ enabled: false });
		try {
			const r = await requestToken(emu.url, { tenant, clientId, clientSecret: secret, scope: GRAPH });
			expect([r.status, (r.body.error_codes as number[])[0]]).toEqual([400, 500011]);
		} finally {
			emu.graph.configure({ enabled: true });
		}
	});

	test('a token without the Graph permission: 403 naming the permissions', async () => {
		const noGraph = emu.issueToken({ tenantId: tenant, clientId, resource: 'https://graph.microsoft.com', roles: [] });
		expectGraphError(await call('/v1.0/security/alerts_v2', { token: noGraph }), 403, 'Forbidden', /SecurityAlert\.Read\.All, SecurityAlert\.ReadWrite\.All/);
		const ro = await getToken(emu.url, { tenant: readOnlyTenant, clientId, clientSecret: secret, scope: GRAPH });
		const id = emu.listAlerts(readOnlyTenant)[0].id;
		expect((await call(`/v1.0/security/alerts_v2/${id}`, { token: ro })).status).toBe(200);
		expectGraphError(await call(`/v1.0/security/alerts_v2/${id}`, { token: ro, method: 'PATCH', body: { status: 'resolved' } }), 403, 'Forbidden', /SecurityAlert\.ReadWrite\.All/);
	});
});

describe('alerts_v2: the same alerts as the Defender API, Graph-shaped', () => {
	test('list: camelCase enums, providerAlertId, serviceSource, typed evidence, comments', async () => {
		const res = await call('/v1.0/security/alerts_v2?$top=60');
		expect(res.status).toBe(200);
		const graph = res.body.value as any[];
		expect(graph).toHaveLength(60);
		const defender = new Map(emu.listAlerts(tenant).map((a) => [a.id, a]));
		for (const g of graph) {
			const d = defender.get(g.providerAlertId)!;
			expect(g.id).toBe(d.id);
			expect(g.status).toBe({ New: 'new', InProgress: 'inProgress', Resolved: 'resolved' }[d.status]);
			expect(g.serviceSource).toBe('microsoftDefenderForEndpoint');
			expect(g.createdDateTime).toBe(d.alertCreationTime);
			expect(g.incidentId).toBe(String(d.incidentId));
			expect(g.comments.map((c: any) => c.comment)).toEqual(d.comments.map((c) => c.comment));
			if (d.machineId) expect(g.evidence.find((e: any) => e['@odata.type'] === '#microsoft.graph.security.deviceEvidence').mdeDeviceId).toBe(d.machineId);
			if (d.classification === null) expect(g.classification).toBe('unknown');
		}
	});

	test('distinct ids: Graph id ≠ Defender id, providerAlertId keeps the Defender id', async () => {
		emu.graph.configure({ idStyle: 'distinct' });
		const id = emu.listAlerts(tenant)[0].id;
		const res = await call(`/v1.0/security/alerts_v2/gr_${id}`);
		expect([res.status, res.body.id, res.body.providerAlertId]).toEqual([200, `gr_${id}`, id]);
		expect((await call(`/v1.0/security/alerts_v2/${id}`)).status).toBe(404);
	});

	test('$filter on documented properties; undocumented ones refused unless configured', async () => {
		const res = await call("/v1.0/security/alerts_v2?$filter=status eq 'new' and serviceSource eq 'microsoftDefenderForEndpoint'");
		expect(res.body.value.length).toBe(emu.listAlerts(tenant).filter((a) => a.status === 'New').length);
		expectGraphError(await call("/v1.0/security/alerts_v2?$filter=category eq 'Execution'"), 400, 'BadRequest', /Could not find a property named 'category' on type 'microsoft\.graph\.security\.alert'/);
		emu.graph.configure({ extraFilterable: ['category'] });
		expect((await call("/v1.0/security/alerts_v2?$filter=category eq 'Execution'")).status).toBe(200);
	});

	test('$orderby, $top limit, $count', async () => {
		const asc = await call('/v1.0/security/alerts_v2?$orderby=createdDateTime asc&$top=5&$count=true');
		const times = asc.body.value.map((a: any) => a.createdDateTime);
		expect([...times].sort()).toEqual(times);
		expect(asc.body['@odata.count']).toBe(60);
		expectGraphError(await call('/v1.0/security/alerts_v2?$top=2001'), 400, 'BadRequest', /The limit of '2000' for Top query has been exceeded/);
		emu.graph.configure({ orderBy: false });
		expectGraphError(await call('/v1.0/security/alerts_v2?$orderby=createdDateTime asc'), 400, 'BadRequest', /\$orderby/);
	});

	test('Prefer: new enum members only with include-unknown-enum-members, else unknownFutureValue', async () => {
		emu.graph.addGraphAlerts(tenant, [{ id: 'dc-prefer', serviceSource: 'microsoftDefenderForCloud', detectionSource: 'microsoftDefenderForStorage' }]);
		const withPrefer = await call('/v1.0/security/alerts_v2/dc-prefer');
		expect([withPrefer.body.serviceSource, withPrefer.body.detectionSource]).toEqual(['microsoftDefenderForCloud', 'microsoftDefenderForStorage']);
		expect(withPrefer.headers.get('preference-applied')).toBe('include-unknown-enum-members');
		const without = await call('/v1.0/security/alerts_v2/dc-prefer', { prefer: false });
		expect([without.body.serviceSource, without.body.detectionSource]).toEqual(['unknownFutureValue', 'unknownFutureValue']);
	});

	test('PATCH changes the alert both APIs see; determination spellings per setting; comments return the list', async () => {
		const id = emu.listAlerts(tenant)[1].id;
		const res = await call(`/v1.0/security/alerts_v2/${id}`, { method: 'PATCH', body: { status: 'resolved', classification: 'falsePositive', determination: 'clean', assignedTo: 'a@contoso.com' } });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ status: 'resolved', classification: 'falsePositive', determination: 'clean', assignedTo: 'a@contoso.com' });
		expect(emu.getAlert(tenant, id)).toMatchObject({ status: 'Resolved', classification: 'FalsePositive', determination: 'Clean', assignedTo: 'a@contoso.com' });
		emu.graph.configure({ determinationSpelling: 'table' });
		expectGraphError(await call(`/v1.0/security/alerts_v2/${id}`, { method: 'PATCH', body: { determination: 'clean' } }), 400, 'BadRequest', /determination/);
		expect((await call(`/v1.0/security/alerts_v2/${id}`, { method: 'PATCH', body: { determination: 'notMalicious' } })).body.determination).toBe('notMalicious');
		expectGraphError(await call(`/v1.0/security/alerts_v2/${id}`, { method: 'PATCH', body: { title: 'x' } }), 400, 'BadRequest', /'title' does not exist/);
		const c = await call(`/v1.0/security/alerts_v2/${id}/comments`, { method: 'POST', body: { '@odata.type': 'microsoft.graph.security.alertComment', comment: 'looked at it' } });
		expect(c.status).toBe(200);
		expect(c.body.value.map((x: any) => x.comment)).toContain('looked at it');
		expect(emu.getAlert(tenant, id)!.comments.map((x) => x.comment)).toContain('looked at it');
		expectGraphError(await call('/v1.0/security/alerts_v2/da1_1', { method: 'PATCH', body: { status: 'new' } }), 404, 'NotFound');
	});
});

describe('$batch', () => {
	test('≤ 20 requests, each answered on its own; dependsOn; 424 after a failed dependency', async () => {
		const ids = emu.listAlerts(tenant).slice(0, 3).map((a) => a.id);
		const res = await call('/v1.0/$batch', {
			method: 'POST',
			body: {
				requests: [
					{ id: '1', method: 'PATCH', url: `/security/alerts_v2/${ids[0]}`, headers: { 'content-type': 'application/json' }, body: { status: 'inProgress' } },
					{ id: '2', method: 'POST', url: `/security/alerts_v2/${ids[0]}/comments`, dependsOn: ['1'], headers: { 'content-type': 'application/json' }, body: { comment: 'batched' } },
					{ id: '3', method: 'PATCH', url: '/security/alerts_v2/da1_404', body: { status: 'inProgress' } },
					{ id: '4', method: 'POST', url: '/security/alerts_v2/da1_404/comments', dependsOn: ['3'], body: { comment: 'x' } },
					{ id: '5', method: 'GET', url: `/security/alerts_v2/${ids[2]}` },
				],
			},
		});
		expect(res.status).toBe(200);
		expect(res.body.responses.map((r: any) => [r.id, r.status])).toEqual([
			['1', 200],
			['2', 200],
			['3', 404],
			['4', 424],
			['5', 200],
		]);
		expect(res.body.responses[2].body.error.innerError['request-id']).toMatch(/^[0-9a-f-]{36}$/);
		expect(emu.getAlert(tenant, ids[0])!.comments.at(-1)!.comment).toBe('batched');
		const tooMany = await call('/v1.0/$batch', { method: 'POST', body: { requests: Array.from({ length: 21 }, (_, k) => ({ id: String(k), method: 'GET', url: `/security/alerts_v2/${ids[0]}` })) } });
		expectGraphError(tooMany, 400, 'BadRequest', /maximum of 20/);
	});

	test('throttling per sub-request: 429 with its own Retry-After inside a 200 batch (rate limit and forced)', async () => {
		emu.setRateLimits({ graphAlerts: [{ limit: 3, windowMs: 60_000 }] });
		const id = emu.listAlerts(tenant)[4].id;
		const res = await call('/v1.0/$batch', { method: 'POST', body: { requests: Array.from({ length: 5 }, (_, k) => ({ id: String(k), method: 'GET', url: `/security/alerts_v2/${id}` })) } });
		expect(res.status).toBe(200);
		expect(res.body.responses.map((r: any) => r.status)).toEqual([200, 200, 200, 429, 429]);
		expect(Number(res.body.responses[3].headers['retry-after'])).toBeGreaterThanOrEqual(1);
		emu.disableRateLimits();
		emu.graph.throttleSubRequests(2, 3);
		const forced = await call('/v1.0/$batch', { method: 'POST', body: { requests: Array.from({ length: 3 }, (_, k) => ({ id: String(k), method: 'GET', url: `/security/alerts_v2/${id}` })) } });
		expect(forced.body.responses.map((r: any) => [r.status, r.headers['retry-after']])).toEqual([
			[429, '3'],
			[429, '3'],
			[200, undefined],
		]);
	});
});

/**
 * Which paging is exact when many alerts share one createdDateTime (ties) and newer alerts arrive between pages:
 * a client reading `createdDateTime desc` pages of 25 over 120 tied alerts, with 10 arrivals after each of the first
 * 4 pages. Counted before any de-duplication by id.
 */
describe('measured: paging under ties with arrivals between pages', () => {
	type Strategy = 'nextLink $skip' | 'nextLink $skiptoken' | 'client $top/$skip';
	const measure = async (strategy: Strategy, k: number): Promise<{ pages: number; received: number; duplicates: number; missing: number }> => {
		const t0 = '2026-06-01T00:00:00.0000000Z';
		const title = `measure-${k}`;
		// a tenant of its own: only the tied alerts and the arrivals
		const own = emu.addTenant({ name: `Measure ${k}` }).id;
		emu.grantConsent(own, clientId, GRAPH_RW);
		const token = await getToken(emu.url, { tenant: own, clientId, clientSecret: secret, scope: GRAPH });
		emu.addAlerts(own, Array.from({ length: 120 }, (_, n) => ({ id: `da64${k}${String(n).padStart(14, '0')}_${n + 1}`, alertCreationTime: t0, title })));
		emu.graph.configure({ nextLink: strategy === 'nextLink $skiptoken' ? 'skiptoken' : strategy === 'nextLink $skip' ? 'skip' : 'none' });
		const filter = encodeURIComponent(`createdDateTime ge ${t0}`);
		let url = `/v1.0/security/alerts_v2?$filter=${filter}&$orderby=createdDateTime desc&$top=25`;
		const seen: string[] = [];
		let pages = 0;
		for (;;) {
			const res = await call(url, { token });
			expect(res.status).toBe(200);
			pages += 1;
			const value = res.body.value as Array<{ id: string; title: string }>;
			seen.push(...value.filter((a) => a.title === title).map((a) => a.id));
			if (pages <= 4) emu.addAlerts(own, Array.from({ length: 10 }, () => ({})));
			if (res.body['@odata.nextLink']) url = res.body['@odata.nextLink'];
			else if (strategy === 'client $top/$skip' && value.length === 25) url = `/v1.0/security/alerts_v2?$filter=${filter}&$orderby=createdDateTime desc&$top=25&$skip=${pages * 25}`;
			else break;
		}
		const unique = new Set(seen);
		return { pages, received: seen.length, duplicates: seen.length - unique.size, missing: 120 - unique.size };
	};

	test('offset paging repeats tied items pushed back by arrivals but misses none; a keyset token is exact', async () => {
		const results: Record<string, unknown> = {};
		const skipLink = await measure('nextLink $skip', 1);
		const token = await measure('nextLink $skiptoken', 2);
		const client = await measure('client $top/$skip', 3);
		results['nextLink $skip'] = skipLink;
		results['nextLink $skiptoken'] = token;
		results['client $top/$skip'] = client;
		console.log(`[measure] paging under ties (120 tied, +10 newer after each of 4 pages, pages of 25): ${JSON.stringify(results)}`);
		expect(token).toMatchObject({ duplicates: 0, missing: 0 });
		expect(skipLink.missing).toBe(0);
		expect(client.missing).toBe(0);
		expect(skipLink.duplicates).toBe(40);
		expect(client.duplicates).toBe(40);
	});
});
