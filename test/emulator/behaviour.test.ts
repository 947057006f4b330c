import { compareTimestamps } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import { createScenario, startEmulator, type Emulator, type Scenario } from './index';
import { connectStatus, ensureFetchTrustsEmulator, getToken, requestToken, requestViaProxy } from './test-helpers';

ensureFetchTrustsEmulator();

let emu: Emulator;
let scenario: Scenario;
let tenantA: string;
let tenantB: string;
let token: string;
let tokenB: string;

const get = (path: string, t = token) => fetch(`${emu.url}${path}`, { headers: { authorization: `Bearer ${t}` } });
const control = async (method: string, path: string, body?: unknown) => {
	const res = await fetch(`${emu.url}/_emulator/${path}`, {
		method,
		headers: body === undefined ? {} : { 'content-type': 'application/json' },
		body: body === undefined ? undefined : JSON.stringify(body),
	});
	return { status: res.status, body: (await res.json()) as any };
};

beforeAll(async () => {
	emu = await startEmulator({ scenario: { tenants: 2, alertsPerTenant: 10 } });
	scenario = emu.scenario!;
	[tenantA, tenantB] = scenario.tenants.map((t) => t.id);
	token = await getToken(emu.url, { tenant: tenantA, clientId: scenario.clientId, clientSecret: scenario.clientSecret });
	tokenB = await getToken(emu.url, { tenant: tenantB, clientId: scenario.clientId, clientSecret: scenario.clientSecret });
});
afterAll(() => emu.close());
afterEach(() => {
	emu.clearFaults();
	emu.setLatency(0);
	emu.restoreDefaultRateLimits();
});

describe('rate limits', () => {
	it('answers 429 + Retry-After per (client, tenant, class); 429s do not consume budget', async () => {
		emu.resetRateLimits(true);
		emu.setRateLimits({ alerts: [{ limit: 3, windowMs: 1000 }] });
		const statuses: number[] = [];
		for (let i = 0; i < 3; i++) statuses.push((await get('/api/alerts?$top=1')).status);
		expect(statuses).toEqual([200, 200, 200]);
		const limited = await get('/api/alerts?$top=1');
		expect(limited.status).toBe(429);
		expect(limited.headers.get('retry-after')).toBe('1');
		const body = (await limited.json()) as { error: { code: string; message: string; target: string } };
		expect(body.error.code).toBe('TooManyRequests');
		expect(body.error.target).toMatch(/^[0-9a-f-]{36}$/);
		expect((await get('/api/alerts?$top=1')).status).toBe(429);
		// other tenant and other classes have their own budget
		expect((await get('/api/alerts?$top=1', tokenB)).status).toBe(200);
		const batch = await fetch(`${emu.url}/api/alerts/batchUpdate`, {
			method: 'POST',
			headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
			body: JSON.stringify({ alertIds: ['da000000000000000000_1'], comment: 'x' }),
		});
		expect(batch.status).toBe(200);
		await new Promise((r) => setTimeout(r, 1050));
		expect((await get('/api/alerts?$top=1')).status).toBe(200); // the two 429s consumed nothing
		expect(emu.throttleCounts()).toEqual([{ clientId: scenario.clientId, tenantId: tenantA, endpointClass: 'alerts', count: 2 }]);
		expect(emu.count({ status: 429, tenantId: tenantA })).toBe(2);
		expect(emu.requests({ status: 429 })[0]).toMatchObject({ endpointClass: 'alerts', errorCode: 'TooManyRequests' });
	});

	it('Retry-After is the ceiling of the time until a slot frees, across all rules', async () => {
		emu.setRateLimits({ batchUpdate: [{ limit: 1, windowMs: 60_000 }, { limit: 5, windowMs: 3_600_000 }] });
		const post = () =>
			fetch(`${emu.url}/api/alerts/batchUpdate`, {
				method: 'POST',
				headers: { authorization: `Bearer ${tokenB}`, 'content-type': 'application/json' },
				body: JSON.stringify({ alertIds: ['da000000000000000000_1'], comment: 'x' }),
			});
		expect((await post()).status).toBe(200);
		const limited = await post();
		expect(limited.status).toBe(429);
		expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(59);
		expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(60);
		emu.disableRateLimits();
		expect((await post()).status).toBe(200);
	});
});

describe('faults and latency', () => {
	it('injects a status with a realistic default body, once', async () => {
		emu.injectFault({ match: { kind: 'api', path: '/api/alerts' }, status: 503 });
		const faulted = await get('/api/alerts?$top=1');
		expect(faulted.status).toBe(503);
		expect(((await faulted.json()) as any).error.code).toBe('ServiceUnavailable');
		expect((await get('/api/alerts?$top=1')).status).toBe(200);
		expect(emu.lastRequest({ kind: 'api', status: 503 })).toMatchObject({ faulted: true });
	});

	it('injects Entra-style token errors, custom bodies/headers, tenant and RegExp matching, times', async () => {
		emu.injectFault({ match: { kind: 'token', tenantId: tenantB }, status: 500, times: 2 });
		const creds = { clientId: scenario.clientId, clientSecret: scenario.clientSecret };
		expect((await requestToken(emu.url, { tenant: tenantA, ...creds })).status).toBe(200);
		const r1 = await requestToken(emu.url, { tenant: scenario.tenants[1].domain, ...creds });
		expect(r1.status).toBe(500);
		expect(r1.body).toMatchObject({ error: 'temporarily_unavailable', error_codes: [90033] });
		expect((await requestToken(emu.url, { tenant: tenantB, ...creds })).status).toBe(500);
		expect((await requestToken(emu.url, { tenant: tenantB, ...creds })).status).toBe(200);

		emu.injectFault({ match: { path: /\/alerts\/da\d+_/, method: 'GET' }, status: 429, body: { error: { code: 'TooManyRequests', message: 'custom', target: 'x' } }, headers: { 'Retry-After': '7' } });
		const id = scenario.tenants[0].alertIds[0];
		const r = await get(`/api/alerts/${id}`);
		expect(r.status).toBe(429);
		expect(r.headers.get('retry-after')).toBe('7');
		expect(((await r.json()) as any).error.message).toBe('custom');
	});

	it('resets the connection, delays, and applies latency to every response', async () => {
		emu.injectFault({ match: { kind: 'api' }, reset: true });
		await expect(get('/api/alerts?$top=1')).rejects.toThrow();
		expect(emu.lastRequest({ kind: 'api' })).toMatchObject({ reset: true, status: 0, faulted: true });

		emu.injectFault({ match: { kind: 'api' }, delayMs: 200 });
		let start = performance.now();
		expect((await get('/api/alerts?$top=1')).status).toBe(200);
		expect(performance.now() - start).toBeGreaterThanOrEqual(190);

		emu.setLatency(150);
		start = performance.now();
		expect((await requestToken(emu.url, { tenant: tenantA, clientId: scenario.clientId, clientSecret: scenario.clientSecret })).status).toBe(200);
		expect(performance.now() - start).toBeGreaterThanOrEqual(140);
	});
});

describe('CONNECT proxy with real hostnames', () => {
	it('tunnels login.microsoftonline.com and a regional API host to the emulator', async () => {
		const form = new URLSearchParams({
			grant_type: 'client_credentials',
			client_id: scenario.clientId,
			client_secret: scenario.clientSecret,
			scope: 'https://api.securitycenter.microsoft.com/.default',
		}).toString();
		const tokenRes = await requestViaProxy(emu.proxyUrl, `https://login.microsoftonline.com/${tenantA}/oauth2/v2.0/token`, {
			method: 'POST',
			headers: { 'content-type': 'application/x-www-form-urlencoded' },
			body: form,
		});
		expect(tokenRes.status).toBe(200);
		const accessToken = (JSON.parse(tokenRes.body) as { access_token: string }).access_token;
		expect(emu.lastRequest({ kind: 'token' })).toMatchObject({ host: 'login.microsoftonline.com', viaProxy: true, status: 200 });

		const res = await requestViaProxy(emu.proxyUrl, "https://eu.api.security.microsoft.com/api/alerts?$filter=status eq 'New'&$top=2".replace(/ /g, '%20'), {
			headers: { authorization: `Bearer ${accessToken}` },
		});
		expect(res.status).toBe(200);
		expect((JSON.parse(res.body) as Record<string, string>)['@odata.context']).toBe('https://eu.api.security.microsoft.com/api/$metadata#Alerts');
		expect(emu.lastRequest({ kind: 'api' })).toMatchObject({ host: 'eu.api.security.microsoft.com', viaProxy: true, tenantId: tenantA, endpointClass: 'alerts' });
		expect(emu.count({ kind: 'api', host: 'eu.api.security.microsoft.com' })).toBe(1);

		const gov = await requestViaProxy(emu.proxyUrl, 'https://api-gov.securitycenter.microsoft.us/api/alerts?$top=1', { headers: { authorization: `Bearer ${accessToken}` } });
		expect(gov.status).toBe(200);
		await get('/api/alerts?$top=1');
		expect(emu.lastRequest({ kind: 'api' })).toMatchObject({ viaProxy: false, host: `127.0.0.1:${emu.port}` });
	});

	it('refuses other hosts, other ports and non-CONNECT requests', async () => {
		expect(await connectStatus(emu.proxyUrl, 'example.com:443')).toBe(403);
		expect(await connectStatus(emu.proxyUrl, 'login.microsoftonline.com:80')).toBe(403);
		expect(await connectStatus(emu.proxyUrl, 'a.b.api.security.microsoft.com:443')).toBe(403);
		expect(await connectStatus(emu.proxyUrl, 'uk.api.security.microsoft.com:443')).toBe(200);
		const plain = await fetch(`${emu.proxyUrl}/`);
		expect(plain.status).toBe(405);
		expect(emu.proxyConnects().filter((c) => !c.allowed).map((c) => c.target)).toEqual(
			expect.arrayContaining(['example.com:443', 'login.microsoftonline.com:80', 'a.b.api.security.microsoft.com:443']),
		);
	});
});

describe('control API', () => {
	it('adds, reads and updates alerts; reports requests and state', async () => {
		await control('POST', 'reset-log');
		const added = await control('POST', `tenants/${tenantA}/alerts`, [{ severity: 'High', title: 'Control-plane alert', alertCreationTime: '2024-01-01T00:00:00.0000001Z' }]);
		expect(added.status).toBe(200);
		const id = added.body.value[0].id as string;
		const one = await control('GET', `tenants/${tenantA}/alerts/${id}`);
		expect(one.body).toMatchObject({ id, severity: 'High', visible: true, lastUpdateTime: '2024-01-01T00:00:00.0000001Z' });
		const patched = await control('PATCH', `tenants/${tenantA}/alerts/${id}`, { status: 'InProgress' });
		expect(compareTimestamps(patched.body.lastUpdateTime, '2024-01-01T00:00:00.0000001Z')).toBe(1);
		expect(patched.body.status).toBe('InProgress');
		await control('POST', `tenants/${tenantA}/alerts/${id}/hide`);
		expect((await get(`/api/alerts/${id}`)).status).toBe(404);
		await control('POST', `tenants/${tenantA}/alerts/${id}/reveal`);
		expect((await get(`/api/alerts/${id}`)).status).toBe(200);
		expect((await control('POST', `tenants/${tenantA}/alerts`, { count: 3 })).body.count).toBe(3);

		const requests = await control('GET', `requests?kind=api&tenantId=${tenantA}`);
		expect(requests.body.count).toBe(2);
		expect(requests.body.value[0]).toMatchObject({ kind: 'api', path: `/api/alerts/${id}`, status: 404 });
		expect((await control('GET', 'count?kind=control')).body.count).toBeGreaterThan(0);
		const state = await control('GET', 'state');
		expect(state.body.tenants.find((t: { id: string }) => t.id === tenantA).alerts).toBe(14);
		expect(state.body.apps[0].secrets[0]).not.toHaveProperty('value');
		expect(JSON.stringify(state.body)).not.toContain(scenario.clientSecret);
	});

	it('drives faults, rate limits, roles, revocation and consent', async () => {
		const fault = await control('POST', 'faults', { match: { kind: 'api', pathRegex: '^/api/alerts\\?' }, status: 500, times: 5 });
		expect(fault.body.id).toBeGreaterThan(0);
		expect((await get('/api/alerts?$top=1')).status).toBe(500);
		await control('DELETE', 'faults');
		expect((await get('/api/alerts?$top=1')).status).toBe(200);

		await control('POST', 'rate-limits', { alerts: [{ limit: 1, windowMs: 5000 }] });
		expect((await get('/api/alerts?$top=1', tokenB)).status).toBe(200);
		expect((await get('/api/alerts?$top=1', tokenB)).status).toBe(429);
		await control('POST', 'rate-limits/disable');
		expect((await get('/api/alerts?$top=1', tokenB)).status).toBe(200);

		const tenant = scenario.tenants[1].id;
		await control('POST', 'roles', { tenantId: tenant, clientId: scenario.clientId, roles: ['Machine.Read.All'] });
		const t = await getToken(emu.url, { tenant, clientId: scenario.clientId, clientSecret: scenario.clientSecret });
		expect((await get('/api/alerts', t)).status).toBe(403);
		expect((await control('POST', 'roles', { tenantId: tenant, clientId: scenario.clientId, roles: ['Alerts.ReadWrite.All'] })).status).toBe(400);
		await control('POST', 'revoke-tokens', { tenantId: tenant });
		expect((await get('/api/alerts', t)).status).toBe(401);
		await control('POST', 'revoke-consent', { tenantId: tenant, clientId: scenario.clientId });
		const denied = await requestToken(emu.url, { tenant, clientId: scenario.clientId, clientSecret: scenario.clientSecret });
		expect(denied.body.error_codes).toEqual([7000229]);
		await control('POST', 'consent', { tenantId: tenant, clientId: scenario.clientId, roles: ['Alert.Read.All'] });
		tokenB = await getToken(emu.url, { tenant, clientId: scenario.clientId, clientSecret: scenario.clientSecret });
		expect((await get('/api/alerts?$top=1', tokenB)).status).toBe(200);
		expect((await control('GET', 'nope')).status).toBe(404);
	});

	it('moves the emulator clock; writes stay strictly increasing', async () => {
		const fixed = '2033-03-03T03:03:03.3333333Z';
		await control('POST', 'clock', { now: fixed });
		const [a, b] = emu.addAlerts(tenantA, 2);
		expect(a.alertCreationTime).toBe('2033-03-03T03:03:03.3333333Z');
		expect(b.alertCreationTime).toBe('2033-03-03T03:03:03.3333334Z');
		await control('POST', 'clock', { reset: true });
		expect(compareTimestamps(emu.now(), fixed)).toBe(-1);
	});
});

describe('scenarios', () => {
	it('builds 60 consented tenants with seeded alerts quickly and deterministically', async () => {
		const big = await startEmulator({ rateLimits: false });
		try {
			const start = performance.now();
			const s = createScenario(big, { tenants: 60, alertsPerTenant: 15, seed: 7, roles: ['Alert.Read.All'] });
			expect(performance.now() - start).toBeLessThan(3000);
			expect(s.tenants).toHaveLength(60);
			expect(new Set(s.tenants.map((t) => t.id)).size).toBe(60);
			expect(s.tenants[59]).toMatchObject({ name: 'Customer 060', domain: 'customer060.onmicrosoft.com' });
			expect(s.tenants.every((t) => t.alertIds.length === 15)).toBe(true);
			const again = await startEmulator({ rateLimits: false });
			try {
				const s2 = createScenario(again, { tenants: 60, alertsPerTenant: 15, seed: 7, start: '2025-01-01T00:00:00Z', end: '2025-01-08T00:00:00Z' });
				const s3 = createScenario(big, { tenants: 1, alertsPerTenant: 15, seed: 7, domainPrefix: 'other', start: '2025-01-01T00:00:00Z', end: '2025-01-08T00:00:00Z' });
				expect(s2.tenants.map((t) => t.id)).toEqual(s.tenants.map((t) => t.id));
				expect(s3.tenants[0].id).not.toBe(s.tenants[0].id);
			} finally {
				await again.close();
			}
			const results = await Promise.all(
				[0, 30, 59].map(async (i) => {
					const t = await getToken(big.url, { tenant: s.tenants[i].domain, clientId: s.clientId, clientSecret: s.clientSecret });
					const res = await fetch(`${big.url}/api/alerts`, { headers: { authorization: `Bearer ${t}` } });
					return ((await res.json()) as { value: Array<{ id: string; aadTenantId: string }> }).value;
				}),
			);
			results.forEach((value, k) => {
				const tenant = s.tenants[[0, 30, 59][k]];
				expect(value.map((a) => a.id)).toEqual(tenant.alertIds);
				expect(value.every((a) => a.aadTenantId === tenant.id)).toBe(true);
			});
		} finally {
			await big.close();
		}
	});
});
