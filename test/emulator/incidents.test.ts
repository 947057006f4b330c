/** The emulator's Microsoft Graph security incidents (incidents.ts), over HTTPS with real tokens. */
import { startEmulator, type Emulator } from './index';
import { ensureFetchTrustsEmulator, getToken } from './test-helpers';

ensureFetchTrustsEmulator();

const GRAPH = 'https://graph.microsoft.com/.default';
const INCIDENTS = '/v1.0/security/incidents';

let emu: Emulator;
let tenant: string;
let alertsOnlyTenant: string;
let readOnlyTenant: string;
let clientId: string;
let secret: string;
let token: string;

interface Json {
	status: number;
	headers: Headers;
	body: any;
}

async function call(path: string, init: { method?: string; body?: unknown; token?: string; prefer?: boolean } = {}): Promise<Json> {
	const headers: Record<string, string> = { authorization: `Bearer ${init.token ?? token}` };
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

/** The incident IDs the tenant's visible alerts carry (the grouping the emulator must follow). */
const incidentIdsOfAlerts = (t: string) => [...new Set(emu.listAlerts(t).map((a) => a.incidentId).filter((i) => i !== null).map(String))].sort();

beforeAll(async () => {
	emu = await startEmulator({ rateLimits: false, graph: true });
	const home = emu.addTenant({ name: 'MSSP' }).id;
	tenant = emu.addTenant({ name: 'Contoso' }).id;
	alertsOnlyTenant = emu.addTenant({ name: 'Fabrikam' }).id;
	readOnlyTenant = emu.addTenant({ name: 'Tailspin' }).id;
	const app = emu.addApp({ name: 'MSSP app', homeTenantId: home });
	clientId = app.clientId;
	secret = app.secrets[0];
	emu.grantConsent(tenant, clientId, ['Alert.ReadWrite.All', 'SecurityAlert.ReadWrite.All', 'SecurityIncident.ReadWrite.All']);
	emu.grantConsent(alertsOnlyTenant, clientId, ['Alert.ReadWrite.All', 'SecurityAlert.ReadWrite.All']);
	emu.grantConsent(readOnlyTenant, clientId, ['SecurityIncident.Read.All']);
	emu.seedTenant(tenant, { alerts: 90, seed: 'inc' });
	emu.seedTenant(alertsOnlyTenant, { alerts: 3, seed: 'a' });
	emu.seedTenant(readOnlyTenant, { alerts: 3, seed: 'r' });
	token = await getToken(emu.url, { tenant, clientId, clientSecret: secret, scope: GRAPH });
});
afterAll(async () => {
	await emu.close();
});
afterEach(() => {
	emu.graph.incidents.configure({ maxPageSize: 50, topAboveMax: 'error', filterDetermination: false, orderBy: true, nextLink: 'skip' });
	emu.disableRateLimits();
});

describe('list', () => {
	test('incidents are the alerts grouped by incidentId; pages of 50 with an absolute nextLink ($skip)', async () => {
		const expected = incidentIdsOfAlerts(tenant);
		expect(expected.length).toBeGreaterThan(50);
		const first = await call(INCIDENTS);
		expect(first.status).toBe(200);
		expect(first.body.value).toHaveLength(50);
		expect(first.body['@odata.nextLink']).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1\.0\/security\/incidents\?\$top=50&\$skip=50$/);
		const second = await call(first.body['@odata.nextLink']);
		expect(second.body['@odata.nextLink']).toBeUndefined();
		const ids = [...first.body.value, ...second.body.value].map((i: { id: string }) => i.id);
		expect([...ids].sort()).toEqual(expected);
		// newest first by default
		const created = [...first.body.value, ...second.body.value].map((i: { createdDateTime: string }) => i.createdDateTime);
		expect([...created].sort().reverse()).toEqual(created);
	});

	test('an incident has the resource type\'s properties; times and severity follow its alerts', async () => {
		const alerts = emu.listAlerts(tenant);
		const grouped = alerts.filter((a) => alerts.some((b) => b !== a && b.incidentId === a.incidentId));
		expect(grouped.length).toBeGreaterThan(1);
		const id = String(grouped[0].incidentId);
		const mine = alerts.filter((a) => String(a.incidentId) === id);
		const res = await call(`${INCIDENTS}/${id}`);
		expect(res.status).toBe(200);
		const i = res.body;
		for (const key of ['id', 'incidentWebUrl', 'redirectIncidentId', 'tenantId', 'displayName', 'createdDateTime', 'lastUpdateDateTime', 'assignedTo', 'classification', 'determination', 'status', 'severity', 'customTags', 'systemTags', 'comments', 'description']) {
			expect(i).toHaveProperty(key);
		}
		expect(i).toMatchObject({ '@odata.type': '#microsoft.graph.security.incident', id, tenantId: tenant, incidentWebUrl: `https://security.microsoft.com/incidents/${id}?tid=${tenant}`, classification: 'unknown', customTags: [] });
		expect(i.createdDateTime).toBe([...mine.map((a) => a.alertCreationTime)].sort()[0]);
		const rank = ['UnSpecified', 'Informational', 'Low', 'Medium', 'High'];
		expect(i.severity).toBe(['unknown', 'informational', 'low', 'medium', 'high'][Math.max(...mine.map((a) => rank.indexOf(a.severity)))]);
		expect(i).not.toHaveProperty('alerts');
	});

	test('$expand=alerts: each incident carries its alerts in the alerts_v2 shape', async () => {
		const res = await call(`${INCIDENTS}?$top=5&$expand=alerts`);
		expect(res.status).toBe(200);
		for (const i of res.body.value) {
			expect(i.alerts.length).toBeGreaterThan(0);
			for (const a of i.alerts) expect(a).toMatchObject({ incidentId: i.id, serviceSource: 'microsoftDefenderForEndpoint' });
			expect(i.alerts.map((a: { id: string }) => a.id).sort()).toEqual(emu.listAlerts(tenant).filter((a) => String(a.incidentId) === i.id).map((a) => a.id).sort());
		}
		expectGraphError(await call(`${INCIDENTS}?$expand=evidence`), 400, 'BadRequest', /to expand\. Expandable: alerts/);
		expectGraphError(await call(`${INCIDENTS}?$search=x`), 400, 'BadRequest', /'\$search' is not allowed/);
	});

	test('$top above 50: Graph\'s 400 (setting "error", the default) or a page of 50 ("clamp"); $skip and $count', async () => {
		expectGraphError(await call(`${INCIDENTS}?$top=51`), 400, 'BadRequest', /The limit of '50' for Top query has been exceeded\. The value from the incoming request is '51'/);
		emu.graph.incidents.configure({ topAboveMax: 'clamp' });
		const clamped = await call(`${INCIDENTS}?$top=500&$count=true`);
		expect(clamped.status).toBe(200);
		expect(clamped.body.value).toHaveLength(50);
		expect(clamped.body['@odata.count']).toBe(incidentIdsOfAlerts(tenant).length);
		const all = (await call(`${INCIDENTS}?$top=50`)).body.value.map((i: { id: string }) => i.id);
		const skipped = (await call(`${INCIDENTS}?$top=10&$skip=20`)).body.value.map((i: { id: string }) => i.id);
		expect(skipped).toEqual(all.slice(20, 30));
		emu.graph.incidents.configure({ nextLink: 'none' });
		expect((await call(`${INCIDENTS}?$top=10`)).body['@odata.nextLink']).toBeUndefined();
	});

	test('$filter on the documented properties; determination only with filterDetermination (else 400 naming it)', async () => {
		const all = [...(await call(`${INCIDENTS}?$top=50`)).body.value, ...(await call(`${INCIDENTS}?$top=50&$skip=50`)).body.value];
		const high = await call(`${INCIDENTS}?$top=50&$filter=${encodeURIComponent("severity eq 'high' and status eq 'active'")}`);
		expect(high.status).toBe(200);
		expect(high.body.value.map((i: { id: string }) => i.id).sort()).toEqual(all.filter((i) => i.severity === 'high' && i.status === 'active').map((i) => i.id).sort());
		const cut = all[10].createdDateTime as string;
		const after = await call(`${INCIDENTS}?$top=50&$filter=${encodeURIComponent(`createdDateTime ge ${cut}`)}&$orderby=createdDateTime asc`);
		expect(after.body.value.map((i: { createdDateTime: string }) => i.createdDateTime)).toEqual(all.filter((i) => i.createdDateTime >= cut).map((i) => i.createdDateTime).sort());
		const det = `$filter=${encodeURIComponent("determination eq 'malware'")}`;
		expectGraphError(await call(`${INCIDENTS}?${det}`), 400, 'BadRequest', /Invalid filter clause: Could not find a property named 'determination'/);
		emu.graph.incidents.configure({ filterDetermination: true });
		expect((await call(`${INCIDENTS}?${det}`)).status).toBe(200);
	});

	test('$orderby on the two times (ascending or descending); refused with orderBy: false', async () => {
		const asc = await call(`${INCIDENTS}?$top=50&$orderby=lastUpdateDateTime asc`);
		const times = asc.body.value.map((i: { lastUpdateDateTime: string }) => Date.parse(i.lastUpdateDateTime));
		expect([...times].sort((a, b) => a - b)).toEqual(times);
		expectGraphError(await call(`${INCIDENTS}?$orderby=severity asc`), 400, 'BadRequest');
		emu.graph.incidents.configure({ orderBy: false });
		expectGraphError(await call(`${INCIDENTS}?$orderby=createdDateTime asc`), 400, 'BadRequest', /\$orderby is not supported on incidents/);
	});
});

describe('get, update, comment', () => {
	test('GET unknown id: Graph\'s 404 body', async () => {
		expectGraphError(await call(`${INCIDENTS}/999999999`), 404, 'NotFound', /Incident with id '999999999' was not found/);
	});

	test('PATCH sets the documented fields, returns the incident and moves lastUpdateDateTime; bad bodies are 400', async () => {
		const id = incidentIdsOfAlerts(tenant)[3];
		const before = (await call(`${INCIDENTS}/${id}`)).body;
		const res = await call(`${INCIDENTS}/${id}`, { method: 'PATCH', body: { status: 'resolved', classification: 'truePositive', determination: 'malware', assignedTo: 'soc@contoso.com', customTags: ['ransomware', 'ticket-1'] } });
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ id, status: 'resolved', classification: 'truePositive', determination: 'malware', assignedTo: 'soc@contoso.com', customTags: ['ransomware', 'ticket-1'] });
		expect(Date.parse(res.body.lastUpdateDateTime)).toBeGreaterThan(Date.parse(before.lastUpdateDateTime));
		expect((await call(`${INCIDENTS}/${id}`)).body).toMatchObject({ status: 'resolved', customTags: ['ransomware', 'ticket-1'] });
		expectGraphError(await call(`${INCIDENTS}/${id}`, { method: 'PATCH', body: { title: 'x' } }), 400, 'BadRequest', /The property 'title' does not exist on type 'microsoft\.graph\.security\.incident'/);
		expectGraphError(await call(`${INCIDENTS}/${id}`, { method: 'PATCH', body: { status: 'closed' } }), 400, 'BadRequest', /Invalid value 'closed' for property 'status'/);
		expectGraphError(await call(`${INCIDENTS}/${id}`, { method: 'PATCH', body: { customTags: 'x' } }), 400, 'BadRequest', /customTags/);
		// the determination spelling follows the Graph settings (the Update page's value table)
		expectGraphError(await call(`${INCIDENTS}/${id}`, { method: 'PATCH', body: { determination: 'notMalicious' } }), 400, 'BadRequest', /determination/);
		emu.graph.configure({ determinationSpelling: 'table' });
		try {
			expect((await call(`${INCIDENTS}/${id}`, { method: 'PATCH', body: { determination: 'notMalicious' } })).status).toBe(200);
			expectGraphError(await call(`${INCIDENTS}/${id}`, { method: 'PATCH', body: { determination: 'clean' } }), 400, 'BadRequest', /determination/);
		} finally {
			emu.graph.configure({ determinationSpelling: 'sdk' });
		}
		expectGraphError(await call(`${INCIDENTS}/999999999`, { method: 'PATCH', body: { status: 'active' } }), 404, 'NotFound');
	});

	test('POST …/comments returns the incident\'s comment list; an empty comment is 400', async () => {
		const id = incidentIdsOfAlerts(tenant)[4];
		const one = await call(`${INCIDENTS}/${id}/comments`, { method: 'POST', body: { '@odata.type': 'microsoft.graph.security.alertComment', comment: 'first' } });
		expect(one.status).toBe(200);
		const two = await call(`${INCIDENTS}/${id}/comments`, { method: 'POST', body: { '@odata.type': 'microsoft.graph.security.alertComment', comment: 'second' } });
		expect(two.body.value.map((c: { comment: string }) => c.comment)).toEqual(['first', 'second']);
		expect(two.body.value[1]).toMatchObject({ createdByDisplayName: clientId, createdDateTime: expect.stringMatching(/^\d{4}-.*Z$/) });
		expect((await call(`${INCIDENTS}/${id}`)).body.comments).toHaveLength(2);
		expectGraphError(await call(`${INCIDENTS}/${id}/comments`, { method: 'POST', body: { comment: ' ' } }), 400, 'BadRequest', /non-empty 'comment'/);
		expectGraphError(await call(`${INCIDENTS}/${id}/comments`), 405, 'MethodNotAllowed');
	});

	test('awaitingAction reads unknownFutureValue without Prefer: include-unknown-enum-members', async () => {
		const id = incidentIdsOfAlerts(tenant)[5];
		emu.graph.incidents.set(tenant, id, { status: 'awaitingAction' });
		expect((await call(`${INCIDENTS}/${id}`)).body.status).toBe('awaitingAction');
		expect((await call(`${INCIDENTS}/${id}`, { prefer: false })).body.status).toBe('unknownFutureValue');
	});
});

describe('auth, permissions, throttling', () => {
	test('403 without a SecurityIncident role (naming them); Read.All reads but cannot write', async () => {
		const alertsOnly = await getToken(emu.url, { tenant: alertsOnlyTenant, clientId, clientSecret: secret, scope: GRAPH });
		expectGraphError(await call(INCIDENTS, { token: alertsOnly }), 403, 'Forbidden', /API requires one of 'SecurityIncident\.Read\.All, SecurityIncident\.ReadWrite\.All'/);
		const readOnly = await getToken(emu.url, { tenant: readOnlyTenant, clientId, clientSecret: secret, scope: GRAPH });
		const list = await call(INCIDENTS, { token: readOnly });
		expect(list.status).toBe(200);
		const id = list.body.value[0].id;
		expectGraphError(await call(`${INCIDENTS}/${id}`, { token: readOnly, method: 'PATCH', body: { status: 'resolved' } }), 403, 'Forbidden', /SecurityIncident\.ReadWrite\.All/);
		expectGraphError(await call(`${INCIDENTS}/${id}/comments`, { token: readOnly, method: 'POST', body: { comment: 'x' } }), 403, 'Forbidden', /SecurityIncident\.ReadWrite\.All/);
	});

	test('a Defender for Endpoint token is refused with 401 Invalid audience', async () => {
		const defender = await getToken(emu.url, { tenant, clientId, clientSecret: secret });
		expectGraphError(await call(INCIDENTS, { token: defender }), 401, 'InvalidAuthenticationToken', /Invalid audience/);
	});

	test('incidents and alerts share the graphAlerts budget: 429 with Retry-After once it is used up', async () => {
		emu.setRateLimits({ graphAlerts: [{ limit: 3, windowMs: 60_000 }] });
		emu.enableRateLimits();
		emu.resetRateLimits(true);
		try {
			expect((await call('/v1.0/security/alerts_v2?$top=1')).status).toBe(200);
			expect((await call(`${INCIDENTS}?$top=1`)).status).toBe(200);
			expect((await call(`${INCIDENTS}?$top=1`)).status).toBe(200);
			const throttled = await call(`${INCIDENTS}?$top=1`);
			expectGraphError(throttled, 429, 'TooManyRequests');
			expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
			expectGraphError(await call('/v1.0/security/alerts_v2?$top=1'), 429, 'TooManyRequests');
		} finally {
			emu.restoreDefaultRateLimits();
		}
	});
});

describe('control API', () => {
	test('GET|POST /_emulator/graph/incidents settings, the tenant\'s incidents, set fields', async () => {
		const post = async (path: string, body: unknown) => (await fetch(`${emu.url}/_emulator/graph/incidents${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
		expect(await post('', { maxPageSize: 20 })).toMatchObject({ maxPageSize: 20, topAboveMax: 'error' });
		expect((await call(`${INCIDENTS}?$top=21`)).status).toBe(400);
		const listed = (await (await fetch(`${emu.url}/_emulator/graph/incidents/${tenant}`)).json()) as { value: Array<{ id: string }> };
		expect(listed.value.map((i) => i.id).sort()).toEqual(incidentIdsOfAlerts(tenant));
		const id = listed.value[0].id;
		expect(await post(`/${tenant}/${id}`, { customTags: ['seeded'] })).toMatchObject({ id, customTags: ['seeded'] });
		expect(await post('', { reset: true })).toMatchObject({ maxPageSize: 50 });
		expect((await call(`${INCIDENTS}/${id}`)).body.customTags).toEqual([]);
	});
});
