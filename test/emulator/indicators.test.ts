/** The emulator's indicator API: upsert, import (per-item results, 500 limit, cap), list filters, delete, roles, limits. */
import { startEmulator, type Emulator } from './index';
import { pseudoSha256 } from './indicators';
import { ensureFetchTrustsEmulator, getToken } from './test-helpers';

ensureFetchTrustsEmulator();

let emu: Emulator;
let tenant: string;
let clientId: string;
let secret: string;
let token: string;

interface Json {
	status: number;
	headers: Headers;
	body: any;
}

async function api(path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<Json> {
	const headers: Record<string, string> = { authorization: `Bearer ${init.token ?? token}` };
	if (init.body !== undefined) headers['content-type'] = 'application/json';
	const res = await fetch(`${emu.url}${path}`, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : JSON.stringify(init.body) });
	const text = await res.text();
	return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const sha = (k: number | string) => pseudoSha256(`t|${k}`);
const indicator = (value: string, extra: Record<string, unknown> = {}) => ({ indicatorValue: value, indicatorType: 'FileSha256', action: 'Block', title: 't', description: 'd', ...extra });

beforeAll(async () => {
	emu = await startEmulator({ rateLimits: false });
	const s = emu.createScenario({ tenants: 1, roles: ['Ti.ReadWrite.All', 'Alert.Read.All'] });
	tenant = s.tenants[0].id;
	clientId = s.clientId;
	secret = s.clientSecret;
	token = await getToken(emu.url, { tenant, clientId, clientSecret: secret });
});
afterAll(async () => {
	await emu.close();
});
beforeEach(() => {
	emu.indicators.clear();
	emu.indicators.resetSettings();
	emu.disableRateLimits();
});

test('submit creates, the same type + value updates (one indicator, same id)', async () => {
	const first = await api('/api/indicators', { method: 'POST', body: indicator(sha(1), { severity: 'High', rbacGroupNames: ['Servers'] }) });
	expect(first.status).toBe(200);
	expect(first.body).toMatchObject({ id: expect.stringMatching(/^\d+$/), indicatorValue: sha(1), action: 'Block', severity: 'High', rbacGroupNames: ['Servers'], createdBy: clientId, sourceType: 'AadApp' });
	const again = await api('/api/indicators', { method: 'POST', body: indicator(sha(1).toUpperCase(), { action: 'Allowed', title: 'changed' }) });
	expect(again.status).toBe(200);
	expect(again.body).toMatchObject({ id: first.body.id, action: 'Allowed', title: 'changed', lastUpdatedBy: clientId });
	expect(emu.indicators.list(tenant)).toHaveLength(1);
});

test.each([
	[{ indicatorValue: 'abc' }, 400, 'InvalidHashValue'],
	[{ indicatorType: 'IpAddress', indicatorValue: '203.0.113.0/24' }, 400, 'InvalidIpAddress'],
	[{ indicatorType: 'IpAddress', indicatorValue: '10.1.2.3' }, 400, 'InvalidIpAddress'],
	[{ indicatorType: 'DomainName', indicatorValue: 'https://x.example.com/a' }, 400, 'InvalidDomainName'],
	[{ indicatorType: 'Url', indicatorValue: 'ftp://x.example.com/a' }, 400, 'InvalidUrl'],
	[{ indicatorType: 'IpAddress', indicatorValue: '203.0.113.7', action: 'BlockAndRemediate' }, 400, 'InvalidRequestBody'],
	[{ action: 'Audit' }, 400, 'InvalidRequestBody'],
	[{ title: undefined }, 400, 'MissingRequiredParameter'],
	[{ Severity: 'High' }, 400, 'InvalidRequestBody'],
])('submit %p → %i %s', async (patch, status, code) => {
	const body = indicator(sha(2), patch);
	const res = await api('/api/indicators', { method: 'POST', body: JSON.parse(JSON.stringify(body)) });
	expect(res.status).toBe(status);
	expect(res.body.error).toMatchObject({ code, target: expect.any(String) });
});

test('legacy actions: accepted by default, rejected when configured', async () => {
	expect((await api('/api/indicators', { method: 'POST', body: indicator(sha(3), { action: 'AlertAndBlock' }) })).status).toBe(200);
	emu.indicators.configure({ legacyActions: 'reject' });
	expect((await api('/api/indicators', { method: 'POST', body: indicator(sha(4), { action: 'Alert' }) })).status).toBe(400);
});

test('import: one result per indicator, failures with a reason, ≤ 500 per call', async () => {
	const res = await api('/api/indicators/import', { method: 'POST', body: { Indicators: [indicator(sha(10)), indicator('nothex'), indicator(sha(11), { indicatorType: 'FileSha1' })] } });
	expect(res.status).toBe(200);
	expect(res.body.value).toEqual([
		{ id: expect.any(String), indicator: sha(10), isFailed: false, failureReason: null },
		{ id: null, indicator: 'nothex', isFailed: true, failureReason: expect.stringMatching(/Invalid hash value/) },
		{ id: null, indicator: sha(11), isFailed: true, failureReason: expect.stringMatching(/Invalid hash value/) },
	]);
	const tooMany = await api('/api/indicators/import', { method: 'POST', body: { Indicators: Array.from({ length: 501 }, (_, k) => indicator(sha(`m${k}`))) } });
	expect(tooMany.status).toBe(400);
	expect(tooMany.body.error).toMatchObject({ code: 'MaximumBatchSizeExceeded', message: 'Maximum batch size exceeded. Received: 501, allowed: 500.' });
	const lower = await api('/api/indicators/import', { method: 'POST', body: { indicators: [indicator(sha(12))] } });
	expect(lower.body.error).toMatchObject({ code: 'MissingRequiredParameter', message: expect.stringMatching(/case-sensitive/) });
});

test('the tenant cap: submit answers 400, import fails the indicators over it (or the whole call)', async () => {
	emu.indicators.configure({ cap: 3 });
	emu.indicators.fill(tenant, 2);
	expect((await api('/api/indicators', { method: 'POST', body: indicator(sha(20)) })).status).toBe(200);
	const over = await api('/api/indicators', { method: 'POST', body: indicator(sha(21)) });
	expect(over.status).toBe(400);
	expect(over.body.error.message).toMatch(/maximum number of active indicators \(3\)/);
	// updating an existing one is still possible
	expect((await api('/api/indicators', { method: 'POST', body: indicator(sha(20), { title: 'updated' }) })).status).toBe(200);
	const imported = await api('/api/indicators/import', { method: 'POST', body: { Indicators: [indicator(sha(20)), indicator(sha(22))] } });
	expect(imported.body.value.map((r: { isFailed: boolean }) => r.isFailed)).toEqual([false, true]);
	emu.indicators.configure({ capOnImport: 'request' });
	const whole = await api('/api/indicators/import', { method: 'POST', body: { Indicators: [indicator(sha(20)), indicator(sha(22))] } });
	expect(whole.status).toBe(400);
	// expired indicators do not count
	emu.indicators.add(tenant, [{ indicatorValue: sha(23), indicatorType: 'FileSha256', expirationTime: '2000-01-01T00:00:00.0000000Z' }]);
	expect(emu.indicators.activeCount(tenant)).toBe(3);
});

test('list: OData filters, $top/$skip, expired hidden; delete 204 then 404', async () => {
	await api('/api/indicators/import', {
		method: 'POST',
		body: {
			Indicators: [
				indicator(sha(30)),
				indicator(sha(31), { action: 'Allowed' }),
				{ indicatorValue: 'evil.example.com', indicatorType: 'DomainName', action: 'Warn', title: 't', description: 'd' },
			],
		},
	});
	const blocks = await api(`/api/indicators?$filter=${encodeURIComponent("action eq 'Block' and indicatorType eq 'FileSha256'")}`);
	expect(blocks.body.value.map((x: { indicatorValue: string }) => x.indicatorValue)).toEqual([sha(30)]);
	const page = await api('/api/indicators?$top=1&$skip=1');
	expect(page.body.value).toHaveLength(1);
	expect((await api('/api/indicators?$orderby=title')).status).toBe(400);
	expect((await api(`/api/indicators?$filter=${encodeURIComponent('bogus eq 1')}`)).body.error.code).toBe('ODataError');
	const id = blocks.body.value[0].id as string;
	const del = await api(`/api/indicators/${id}`, { method: 'DELETE' });
	expect(del.status).toBe(204);
	const again = await api(`/api/indicators/${id}`, { method: 'DELETE' });
	expect(again.status).toBe(404);
	expect(again.body.error).toMatchObject({ code: 'ResourceNotFound', message: `Indicator ${id} was not found` });
});

test('roles: 403 names Ti.ReadWrite.All / Ti.ReadWrite; with Ti.ReadWrite only an app sees its own indicators', async () => {
	emu.indicators.add(tenant, [{ indicatorValue: sha(40), indicatorType: 'FileSha256' }]);
	emu.setRoles(tenant, clientId, ['Alert.Read.All']);
	const none = await getToken(emu.url, { tenant, clientId, clientSecret: secret });
	const forbidden = await api('/api/indicators', { token: none });
	expect(forbidden.status).toBe(403);
	expect(forbidden.body.error.message).toBe('Missing application roles. API required roles: Ti.ReadWrite.All,Ti.ReadWrite, application roles: Alert.Read.All.');
	emu.setRoles(tenant, clientId, ['Ti.ReadWrite']);
	const own = await getToken(emu.url, { tenant, clientId, clientSecret: secret });
	await api('/api/indicators', { method: 'POST', token: own, body: indicator(sha(41)) });
	const listed = await api('/api/indicators', { token: own });
	expect(listed.body.value.map((x: { indicatorValue: string }) => x.indicatorValue)).toEqual([sha(41)]);
	emu.setRoles(tenant, clientId, ['Ti.ReadWrite.All', 'Alert.Read.All']);
});

test('rate limits: import has its own 30/min class, submit/list/delete share indicators', async () => {
	emu.setRateLimits({ indicatorImport: [{ limit: 2, windowMs: 60_000 }], indicators: [{ limit: 3, windowMs: 60_000 }] });
	for (let k = 0; k < 2; k++) expect((await api('/api/indicators/import', { method: 'POST', body: { Indicators: [indicator(sha(`r${k}`))] } })).status).toBe(200);
	const limited = await api('/api/indicators/import', { method: 'POST', body: { Indicators: [indicator(sha('r9'))] } });
	expect(limited.status).toBe(429);
	expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
	expect((await api('/api/indicators')).status).toBe(200);
	expect(emu.lastRequest({ kind: 'api' })?.endpointClass).toBe('indicators');
	emu.restoreDefaultRateLimits();
	expect(emu.rateLimits().rules.indicatorImport).toEqual([{ limit: 30, windowMs: 60_000 }]);
	expect(emu.rateLimits().rules.indicators).toEqual([
		{ limit: 100, windowMs: 60_000 },
		{ limit: 1500, windowMs: 3_600_000 },
	]);
});

test('control API: settings, seed, list, clear', async () => {
	const post = async (path: string, body: unknown) => (await fetch(`${emu.url}/_emulator${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json();
	expect(await post('/indicators/settings', { cap: 7 })).toMatchObject({ cap: 7, maxImport: 500 });
	expect(await post(`/indicators/${tenant}`, { fill: 4 })).toEqual({ added: 4 });
	const listed = (await (await fetch(`${emu.url}/_emulator/indicators/${tenant}`)).json()) as { count: number; active: number };
	expect(listed).toMatchObject({ count: 4, active: 4 });
	await fetch(`${emu.url}/_emulator/indicators/${tenant}`, { method: 'DELETE' });
	expect(emu.indicators.list(tenant)).toHaveLength(0);
});
