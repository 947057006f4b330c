import { compareTimestamps, normalizeTimestamp } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import { startEmulator, type Alert, type Emulator } from './index';
import { ensureFetchTrustsEmulator, getToken } from './test-helpers';
import { emptyEvidence as blankEvidence } from './seed';

ensureFetchTrustsEmulator();

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ALL_ROLES = ['Alert.ReadWrite.All', 'Machine.Read.All', 'File.Read.All', 'Ip.Read.All', 'URL.Read.All', 'User.Read.All'];

let emu: Emulator;
let tenantA: string;
let tenantB: string;
let clientId: string;
let secret: string;
let token: string;
let tokenB: string;

interface Json {
	status: number;
	headers: Headers;
	body: any;
}

async function api(path: string, init: { method?: string; body?: unknown; token?: string; contentType?: string } = {}): Promise<Json> {
	const headers: Record<string, string> = {};
	if (init.token !== '') headers.authorization = `Bearer ${init.token ?? token}`;
	if (init.body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
	const res = await fetch(`${emu.url}${path}`, {
		method: init.method ?? 'GET',
		headers,
		body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body),
	});
	const text = await res.text();
	return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

function expectError(res: Json, status: number, code: string, message?: string | RegExp): void {
	expect(res.status).toBe(status);
	expect(Object.keys(res.body)).toEqual(['error']);
	expect(Object.keys(res.body.error)).toEqual(['code', 'message', 'target']);
	expect(res.body.error.code).toBe(code);
	expect(res.body.error.target).toMatch(GUID);
	if (typeof message === 'string') expect(res.body.error.message).toBe(message);
	else if (message) expect(res.body.error.message).toMatch(message);
}

beforeAll(async () => {
	emu = await startEmulator({ rateLimits: false });
	const home = emu.addTenant({ name: 'MSSP' }).id;
	tenantA = emu.addTenant({ name: 'Contoso' }).id;
	tenantB = emu.addTenant({ name: 'Fabrikam' }).id;
	const app = emu.addApp({ name: 'MSSP app', homeTenantId: home });
	clientId = app.clientId;
	secret = app.secrets[0];
	emu.grantConsent(tenantA, clientId, ALL_ROLES);
	emu.grantConsent(tenantB, clientId, ALL_ROLES);
	emu.seedTenant(tenantA, { alerts: 40, seed: 'a' });
	emu.seedTenant(tenantB, { alerts: 15, seed: 'b' });
	token = await getToken(emu.url, { tenant: tenantA, clientId, clientSecret: secret });
	tokenB = await getToken(emu.url, { tenant: tenantB, clientId, clientSecret: secret });
});
afterAll(() => emu.close());

describe('authentication and authorization', () => {
	it('401 without or with a bad token, with WWW-Authenticate', async () => {
		for (const t of ['', 'not-a-jwt', `${token.slice(0, -4)}AAAA`]) {
			const res = await api('/api/alerts', { token: t });
			expectError(res, 401, 'Unauthorized');
			expect(res.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
		}
		const basic = await fetch(`${emu.url}/api/alerts`, { headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } });
		expect(basic.status).toBe(401);
	});

	it('401 for an expired token (5 s skew) and for a token of an unknown tenant', async () => {
		const expired = emu.issueToken({ tenantId: tenantA, clientId, issuedAtOffsetSeconds: -3610, lifetimeSeconds: 3599 });
		expectError(await api('/api/alerts', { token: expired }), 401, 'Unauthorized', /expired/);
		const withinSkew = emu.issueToken({ tenantId: tenantA, clientId, issuedAtOffsetSeconds: -3602, lifetimeSeconds: 3599 });
		expect((await api('/api/alerts?$top=1', { token: withinSkew })).status).toBe(200);
		const forged = emu.issueToken({ tenantId: tenantA, clientId, claims: { tid: '99999999-9999-4999-8999-999999999999' } });
		expectError(await api('/api/alerts', { token: forged }), 401, 'Unauthorized', /tenant/);
	});

	it('403 for a token issued for another resource', async () => {
		const graph = emu.issueToken({ tenantId: tenantA, clientId, resource: 'https://graph.microsoft.com' });
		expectError(await api('/api/alerts', { token: graph }), 403, 'Forbidden', /audience 'https:\/\/graph.microsoft.com'/);
	});

	it('401 after revokeTokens; a new token works', async () => {
		const t = await getToken(emu.url, { tenant: tenantA, clientId, clientSecret: secret });
		expect((await api('/api/alerts?$top=1', { token: t })).status).toBe(200);
		emu.revokeTokens({ tenantId: tenantA, clientId });
		expectError(await api('/api/alerts?$top=1', { token: t }), 401, 'Unauthorized', /revoked/);
		expect((await api('/api/alerts?$top=1', { token: tokenB })).status).toBe(200); // other tenant untouched
		token = await getToken(emu.url, { tenant: tenantA, clientId, clientSecret: secret });
		expect((await api('/api/alerts?$top=1')).status).toBe(200);
	});

	it('403 with the exact "Missing application roles" message', async () => {
		const machineOnly = emu.issueToken({ tenantId: tenantA, clientId, roles: ['Machine.Read.All'] });
		expectError(
			await api('/api/alerts', { token: machineOnly }),
			403,
			'Forbidden',
			'Missing application roles. API required roles: Alert.Read.All,Alert.ReadWrite.All, application roles: Machine.Read.All.',
		);
		const readOnly = emu.issueToken({ tenantId: tenantA, clientId, roles: ['Alert.Read.All'] });
		const id = emu.listAlerts(tenantA)[0].id;
		expect((await api(`/api/alerts/${id}`, { token: readOnly })).status).toBe(200);
		expectError(
			await api(`/api/alerts/${id}`, { token: readOnly, method: 'PATCH', body: { status: 'InProgress' } }),
			403,
			'Forbidden',
			'Missing application roles. API required roles: Alert.ReadWrite.All, application roles: Alert.Read.All.',
		);
		const none = emu.issueToken({ tenantId: tenantA, clientId, roles: [] });
		expectError(await api(`/api/alerts/${id}/files`, { token: none }), 403, 'Forbidden', 'Missing application roles. API required roles: File.Read.All, application roles: .');
	});

	it('uses roles from the token: setRoles affects only new tokens', async () => {
		const tenant = emu.addTenant({ name: 'Roles Inc' }).id;
		emu.grantConsent(tenant, clientId, ['Alert.Read.All']);
		const before = await getToken(emu.url, { tenant, clientId, clientSecret: secret });
		emu.setRoles(tenant, clientId, ['Machine.Read.All']);
		expect((await api('/api/alerts', { token: before })).status).toBe(200);
		const after = await getToken(emu.url, { tenant, clientId, clientSecret: secret });
		expect((await api('/api/alerts', { token: after })).status).toBe(403);
	});
});

describe('GET /api/alerts', () => {
	it('returns the OData envelope for the token tenant only, evidence empty unless expanded', async () => {
		const res = await api('/api/alerts');
		expect(res.status).toBe(200);
		expect(res.headers.get('content-type')).toMatch(/^application\/json; odata\.metadata=minimal/);
		expect(Object.keys(res.body)).toEqual(['@odata.context', 'value']);
		expect(res.body['@odata.context']).toBe(`https://127.0.0.1:${emu.port}/api/$metadata#Alerts`);
		expect(res.body.value).toHaveLength(40);
		expect(res.body.value.every((a: Alert) => a.aadTenantId === tenantA && a.evidence.length === 0)).toBe(true);
		expect(res.body.value.map((a: Alert) => a.id)).toEqual(emu.listAlerts(tenantA).map((a) => a.id)); // insertion order
		const b = await api('/api/alerts', { token: tokenB });
		expect(b.body.value).toHaveLength(15);
		expect(b.body.value.some((a: Alert) => a.aadTenantId !== tenantB)).toBe(false);
		const expanded = await api('/api/alerts?$expand=evidence');
		expect(expanded.body.value.some((a: Alert) => a.evidence.length > 0)).toBe(true);
	});

	it('serves realistic alerts (ids, enums, 7-digit times, some shorter lastUpdateTime)', async () => {
		const { body } = await api('/api/alerts?$expand=evidence');
		const alerts = body.value as Alert[];
		for (const a of alerts) {
			expect(a.id).toMatch(/^da\d{18}_-?\d+$/);
			expect(['UnSpecified', 'Informational', 'Low', 'Medium', 'High']).toContain(a.severity);
			expect(['New', 'InProgress', 'Resolved']).toContain(a.status);
			expect(a.alertCreationTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{7}Z$/);
			expect(a.lastUpdateTime).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?Z$/);
			expect(a.machineId === null || /^[0-9a-f]{40}$/.test(a.machineId)).toBe(true);
			expect(Number.isInteger(a.incidentId)).toBe(true);
			for (const e of a.evidence) expect(Object.keys(e)).toHaveLength(25);
		}
		expect(alerts.some((a) => !/\.\d{7}Z$/.test(a.lastUpdateTime))).toBe(true);
		expect(alerts.filter((a) => a.severity === 'High' && a.status === 'New' && a.relatedUser && a.machineId).length).toBeGreaterThanOrEqual(2);
	});

	it('filters with exact 7-digit precision, ties and case-insensitive fields; + means space', async () => {
		const t = '2030-01-01T00:00:00.1234567Z';
		const [a1, a2, a3] = emu.addAlerts(tenantA, [
			{ lastUpdateTime: t, alertCreationTime: '2029-12-31T23:00:00.0000001Z' },
			{ lastUpdateTime: t, alertCreationTime: '2029-12-31T23:00:00.0000001Z' },
			{ lastUpdateTime: '2030-01-01T00:00:00.1234568Z', alertCreationTime: '2029-12-31T23:00:00.0000002Z' },
		]);
		const gt = await api(`/api/alerts?$filter=lastUpdateTime+gt+${t}`);
		expect(gt.body.value.map((a: Alert) => a.id)).toEqual([a3.id]);
		const ge = await api(`/api/alerts?$filter=LastUpdateTime ge ${t}&$orderby=lastUpdateTime asc`);
		expect(ge.body.value.map((a: Alert) => a.id)).toEqual([a1.id, a2.id, a3.id]);
		const desc = await api(`/api/alerts?$filter=lastUpdateTime ge ${t}&$orderby=lastUpdateTime desc`);
		expect(desc.body.value.map((a: Alert) => a.id)).toEqual([a3.id, a1.id, a2.id]); // ties keep insertion order
		const byCreation = await api(`/api/alerts?$filter=alertCreationTime ge 2029-12-31T23:00:00.0000001Z and alertCreationTime lt 2029-12-31T23:00:00.0000002Z`);
		expect(byCreation.body.value.map((a: Alert) => a.id)).toEqual([a1.id, a2.id]);
		const high = await api(`/api/alerts?$filter=(severity eq 'High' or severity eq 'Medium') and status ne 'Resolved'`);
		expect(high.body.value.length).toBeGreaterThan(0);
		expect(high.body.value.every((a: Alert) => ['High', 'Medium'].includes(a.severity) && a.status !== 'Resolved')).toBe(true);
	});

	it('serves a shortened lastUpdateTime verbatim and still compares it exactly', async () => {
		const [a] = emu.addAlerts(tenantA, [{ lastUpdateTime: '2031-05-05T10:00:59.2Z', alertCreationTime: '2031-05-05T09:00:00.5550001Z' }]);
		const res = await api(`/api/alerts?$filter=lastUpdateTime eq 2031-05-05T10:00:59.2000000Z`);
		expect(res.body.value).toHaveLength(1);
		expect(res.body.value[0]).toMatchObject({ id: a.id, lastUpdateTime: '2031-05-05T10:00:59.2Z' });
	});

	it('pages with $top/$skip (no nextLink) and returns ODataError for bad options', async () => {
		const all = (await api('/api/alerts?$orderby=alertCreationTime')).body.value.map((a: Alert) => a.id);
		const pages: string[] = [];
		for (let skip = 0; skip < all.length; skip += 7) {
			const page = await api(`/api/alerts?$orderby=alertCreationTime&$top=7&$skip=${skip}`);
			expect(page.body['@odata.nextLink']).toBeUndefined();
			pages.push(...page.body.value.map((a: Alert) => a.id));
		}
		expect(pages).toEqual(all);
		expectError(await api('/api/alerts?$top=10001'), 400, 'ODataError', "The limit of '10000' for Top query has been exceeded. The value from the incoming request is '10001'.");
		expectError(await api("/api/alerts?$filter=lastUpdateTime gt '2025-01-01T00:00:00Z'"), 400, 'ODataError', /Edm.DateTimeOffset' and 'Edm.String'/);
		expectError(await api('/api/alerts?$filter=foo eq 1'), 400, 'ODataError', /Could not find a property named 'foo'/);
		expectError(await api("/api/alerts?$filter=status eq 'New' and"), 400, 'ODataError', /Syntax error at position/);
		expectError(await api('/api/alerts?$orderby=title'), 400, 'ODataError');
	});

	it('emits a $skip nextLink only without $top and beyond the page size', async () => {
		const small = await startEmulator({ maxPageSize: 5, rateLimits: false });
		try {
			const t = small.addTenant({ name: 'Paging' }).id;
			const app = small.addApp({ name: 'p', homeTenantId: t, homeRoles: ['Alert.Read.All'] });
			small.addAlerts(t, 12);
			const tk = await getToken(small.url, { tenant: t, clientId: app.clientId, clientSecret: app.secrets[0] });
			const ids: string[] = [];
			let url: string | undefined = `${small.url}/api/alerts?$filter=status eq 'New'`;
			const links: string[] = [];
			while (url) {
				const res = await fetch(url, { headers: { authorization: `Bearer ${tk}` } });
				const body = (await res.json()) as { value: Alert[]; '@odata.nextLink'?: string };
				ids.push(...body.value.map((a) => a.id));
				url = body['@odata.nextLink'];
				if (url) links.push(url);
			}
			expect(ids).toEqual(small.listAlerts(t).map((a) => a.id));
			expect(links).toEqual([
				`https://127.0.0.1:${small.port}/api/alerts?$filter=status%20eq%20'New'&$skip=5`,
				`https://127.0.0.1:${small.port}/api/alerts?$filter=status%20eq%20'New'&$skip=10`,
			]);
			const withTop = (await (await fetch(`${small.url}/api/alerts?$top=5`, { headers: { authorization: `Bearer ${tk}` } })).json()) as Record<string, unknown>;
			expect(withTop['@odata.nextLink']).toBeUndefined();
			const tooBig = await fetch(`${small.url}/api/alerts?$top=6`, { headers: { authorization: `Bearer ${tk}` } });
			expect(tooBig.status).toBe(400);
		} finally {
			await small.close();
		}
	});

	it('models ingestion latency: hidden / visibleAfter alerts appear later with old timestamps', async () => {
		const old = '2020-02-02T02:02:02.0202020Z';
		const [late] = emu.addAlerts(tenantA, [{ alertCreationTime: old, hidden: true }]);
		const [delayed] = emu.addAlerts(tenantA, [{ alertCreationTime: old, visibleAfter: 60_000 }]);
		const query = `/api/alerts?$filter=alertCreationTime eq ${old}`;
		expect((await api(query)).body.value).toHaveLength(0);
		expect((await api(`/api/alerts/${late.id}`)).status).toBe(404);
		emu.revealAlert(tenantA, late.id);
		expect((await api(query)).body.value.map((a: Alert) => a.id)).toEqual([late.id]);
		emu.advanceClock(61_000);
		try {
			expect((await api(query)).body.value.map((a: Alert) => a.id)).toEqual([late.id, delayed.id]);
		} finally {
			emu.advanceClock(-61_000);
		}
	});

	it('serves the /api/v1.0 alias and 404/405 for unknown routes and methods', async () => {
		const v1 = await api('/api/v1.0/alerts?$top=1');
		expect(v1.status).toBe(200);
		expect(v1.body.value).toHaveLength(1);
		expectError(await api('/api/incidents'), 404, 'NotFound');
		expectError(await api('/api/alerts/x/y/z'), 404, 'NotFound');
		const wrong = await api('/api/alerts', { method: 'DELETE' });
		expectError(wrong, 405, 'MethodNotAllowed');
		expect(wrong.headers.get('allow')).toBe('GET');
	});
});

describe('single alert, PATCH, batchUpdate', () => {
	it('GET by id includes evidence and the $entity context; 404 ResourceNotFound otherwise', async () => {
		const withEvidence = emu.listAlerts(tenantA).find((a) => a.evidence.length > 0)!;
		const res = await api(`/api/alerts/${withEvidence.id}`);
		expect(res.status).toBe(200);
		expect(res.body['@odata.context']).toBe(`https://127.0.0.1:${emu.port}/api/$metadata#Alerts/$entity`);
		expect(res.body.evidence).toEqual(withEvidence.evidence);
		expectError(await api('/api/alerts/da000000000000000000_1'), 404, 'ResourceNotFound', 'Alert da000000000000000000_1 was not found');
		// tenant isolation: tenant B's alert is not visible with tenant A's token
		const other = emu.listAlerts(tenantB)[0].id;
		expect((await api(`/api/alerts/${other}`)).status).toBe(404);
	});

	it('PATCH updates fields, appends a comment, bumps lastUpdateTime and sets resolvedTime', async () => {
		const [alert] = emu.addAlerts(tenantA, 1);
		const res = await api(`/api/alerts/${alert.id}`, {
			method: 'PATCH',
			body: { status: 'Resolved', assignedTo: 'secop2@contoso.com', classification: 'FalsePositive', determination: 'NotMalicious', comment: 'Resolve my alert' },
		});
		expect(res.status).toBe(200);
		expect(res.body).toMatchObject({ id: alert.id, status: 'Resolved', assignedTo: 'secop2@contoso.com', classification: 'FalsePositive', determination: 'NotMalicious' });
		expect(compareTimestamps(res.body.lastUpdateTime, alert.lastUpdateTime)).toBe(1);
		expect(normalizeTimestamp(res.body.resolvedTime)).toBe(normalizeTimestamp(res.body.lastUpdateTime));
		expect(res.body.comments.at(-1)).toEqual({ comment: 'Resolve my alert', createdBy: clientId, createdTime: normalizeTimestamp(res.body.lastUpdateTime) });
		const again = await api(`/api/alerts/${alert.id}`, { method: 'PATCH', body: { status: 'InProgress', determination: 'ConfirmedUserActivity' } });
		expect(again.body.resolvedTime).toBeNull();
		expect(compareTimestamps(again.body.lastUpdateTime, res.body.lastUpdateTime)).toBe(1);
	});

	it('PATCH is strict about property names, enum values and Content-Type', async () => {
		const id = emu.listAlerts(tenantA)[0].id;
		expectError(await api(`/api/alerts/${id}`, { method: 'PATCH', body: { Status: 'Resolved' } }), 400, 'InvalidRequestBody', /did you mean 'status'/);
		expectError(await api(`/api/alerts/${id}`, { method: 'PATCH', body: { status: 'resolved' } }), 400, 'InvalidRequestBody', /Allowed values: New, InProgress, Resolved/);
		expectError(await api(`/api/alerts/${id}`, { method: 'PATCH', body: { severity: 'Low' } }), 400, 'InvalidRequestBody');
		expectError(await api(`/api/alerts/${id}`, { method: 'PATCH', body: { classification: 'Benign' } }), 400, 'InvalidRequestBody');
		expectError(await api(`/api/alerts/${id}`, { method: 'PATCH', body: {} }), 400, 'InvalidRequestBody');
		expectError(await api(`/api/alerts/${id}`, { method: 'PATCH', body: '{"status":"New"}', contentType: 'text/plain' }), 400, 'InvalidRequestBody', /Content-Type/);
		expectError(await api(`/api/alerts/${id}`, { method: 'PATCH', body: '{status:' }), 400, 'InvalidRequestBody', /not valid JSON/);
		expectError(await api('/api/alerts/da000000000000000000_1', { method: 'PATCH', body: { status: 'New' } }), 404, 'ResourceNotFound');
	});

	it('batchUpdate returns 200 with an empty body, ignores unknown ids and enforces the batch size', async () => {
		const ids = emu.addAlerts(tenantA, 3).map((a) => a.id);
		const res = await fetch(`${emu.url}/api/alerts/batchUpdate`, {
			method: 'POST',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: JSON.stringify({ alertIds: [...ids, 'da999999999999999999_1'], status: 'InProgress', assignedTo: 'soc@contoso.com', comment: 'bulk' }),
		});
		expect(res.status).toBe(200);
		expect(await res.text()).toBe('');
		for (const id of ids) expect(emu.getAlert(tenantA, id)).toMatchObject({ status: 'InProgress', assignedTo: 'soc@contoso.com' });
		const times = ids.map((id) => emu.getAlert(tenantA, id)!.lastUpdateTime);
		expect(new Set(times.map(normalizeTimestamp)).size).toBe(3); // every write gets its own tick
		expectError(await api('/api/alerts/batchUpdate', { method: 'POST', body: { AlertIds: ids, status: 'New' } }), 400, 'MissingRequiredParameter', /Found 'AlertIds'/);
		const tooMany = Array.from({ length: 501 }, (_, i) => `da637399794050273582_${i}`);
		expectError(
			await api('/api/alerts/batchUpdate', { method: 'POST', body: { alertIds: tooMany, status: 'New' } }),
			400,
			'MaximumBatchSizeExceeded',
			'Maximum batch size exceeded. Received: 501, allowed: 500.',
		);
		expectError(await api('/api/alerts/batchUpdate', { method: 'POST', body: { alertIds: ids } }), 400, 'InvalidRequestBody', /nothing to update/);
	});
});

describe('CreateAlertByReference and related entities', () => {
	it('creates an alert for a seeded hunting event, merges a repeat, 404s without an event', async () => {
		const event = emu.events(tenantA)[0];
		const body = {
			eventTime: event.eventTime,
			reportId: event.reportId,
			machineId: event.machineId,
			severity: 'High',
			title: 'Suspicious script by reference',
			description: 'Created from an advanced hunting result',
			recommendedAction: 'Isolate the device',
			category: 'Execution',
		};
		const created = await api('/api/alerts/CreateAlertByReference', { method: 'POST', body });
		expect(created.status).toBe(200);
		expect(created.body).toMatchObject({
			detectionSource: 'CustomerTI',
			investigationState: 'PendingApproval',
			status: 'New',
			severity: 'High',
			category: 'Execution',
			title: body.title,
			machineId: event.machineId,
			firstEventTime: event.eventTime,
			lastEventTime: event.eventTime,
			aadTenantId: tenantA,
		});
		expect(created.body.id).toMatch(/^da\d{18}_-?\d+$/);
		const merged = await api('/api/alerts/CreateAlertByReference', { method: 'POST', body });
		expect(merged.body.id).toBe(created.body.id);
		expectError(await api('/api/alerts/CreateAlertByReference', { method: 'POST', body: { ...body, reportId: '1' } }), 404, 'ResourceNotFound');
		const missing: Partial<typeof body> = { ...body };
		delete missing.recommendedAction;
		expectError(await api('/api/alerts/CreateAlertByReference', { method: 'POST', body: missing }), 400, 'MissingRequiredParameter', /'recommendedAction'/);
		expectError(await api('/api/alerts/CreateAlertByReference', { method: 'POST', body: { ...body, category: 'Backdoor' } }), 400, 'InvalidRequestBody', /category/);
		expectError(await api('/api/alerts/CreateAlertByReference', { method: 'POST', body: { ...body, severity: 'Informational' } }), 400, 'InvalidRequestBody', /severity/);
	});

	it('serves domains, ips, files, machine and user consistent with the evidence', async () => {
		const [alert] = emu.addAlerts(tenantA, [
			{
				relatedUser: { userName: 'jdoe', domainName: 'CONTOSO' },
				evidence: [
					{ ...emptyEvidence('Url'), url: 'https://evil.example.net/payload' },
					{ ...emptyEvidence('Ip'), ipAddress: '185.220.101.7' },
					{ ...emptyEvidence('File'), sha1: 'a'.repeat(40), sha256: 'b'.repeat(64), fileName: 'x.exe', filePath: 'C:\\Temp' },
				],
			},
		]);
		const domains = await api(`/api/alerts/${alert.id}/domains`);
		expect(domains.body).toEqual({ '@odata.context': `https://127.0.0.1:${emu.port}/api/$metadata#Domains`, value: [{ host: 'evil.example.net' }] });
		expect((await api(`/api/alerts/${alert.id}/ips`)).body.value).toEqual([{ id: '185.220.101.7' }]);
		const files = await api(`/api/alerts/${alert.id}/files`);
		expect(files.body['@odata.context']).toMatch(/#Files$/);
		expect(files.body.value[0]).toMatchObject({ sha1: 'a'.repeat(40), sha256: 'b'.repeat(64), isPeFile: true });
		expect(Object.keys(files.body.value[0]).sort()).toEqual(
			['sha1', 'sha256', 'md5', 'globalPrevalence', 'globalFirstObserved', 'globalLastObserved', 'size', 'fileType', 'isPeFile', 'filePublisher', 'fileProductName', 'signer', 'issuer', 'signerHash', 'isValidCertificate', 'determinationType', 'determinationValue'].sort(),
		);
		const machine = await api(`/api/alerts/${alert.id}/machine`);
		expect(machine.body).toMatchObject({ '@odata.context': `https://127.0.0.1:${emu.port}/api/$metadata#Machines/$entity`, id: alert.machineId, computerDnsName: alert.computerDnsName });
		const user = await api(`/api/alerts/${alert.id}/user`);
		expect(user.body).toMatchObject({ '@odata.context': `https://127.0.0.1:${emu.port}/api/$metadata#Users/$entity`, id: 'contoso\\jdoe', accountName: 'jdoe' });

		const [noUser] = emu.addAlerts(tenantA, [{ relatedUser: null, machineKnown: false }]);
		expectError(await api(`/api/alerts/${noUser.id}/user`), 404, 'ResourceNotFound');
		expectError(await api(`/api/alerts/${noUser.id}/machine`), 404, 'ResourceNotFound', `Machine ${noUser.machineId} was not found`);
		expectError(await api('/api/alerts/da000000000000000000_1/ips'), 404, 'ResourceNotFound');
	});

	it('updateAlert changes server-side data and bumps lastUpdateTime', async () => {
		const [alert] = emu.addAlerts(tenantA, 1);
		const updated = emu.updateAlert(tenantA, alert.id, { severity: 'High', status: 'InProgress' });
		expect(compareTimestamps(updated.lastUpdateTime, alert.lastUpdateTime)).toBe(1);
		const res = await api(`/api/alerts/${alert.id}`);
		expect(res.body).toMatchObject({ severity: 'High', status: 'InProgress', lastUpdateTime: updated.lastUpdateTime });
	});
});

function emptyEvidence(entityType: string) {
	return { ...blankEvidence(entityType, '2030-01-01T00:00:00.1Z'), detectionStatus: 'Detected' };
}
