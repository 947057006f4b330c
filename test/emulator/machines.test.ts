/** The emulator's machine and machine-action API: OData, find by IP/tag, tags, lifecycle on the clock, conflicts, roles, limits. */
import { startEmulator, type Emulator } from './index';
import { evaluateRecordFilter, MACHINE_FILTER_FIELDS, parseRecordFilter } from './machines';
import { ensureFetchTrustsEmulator, getToken } from './test-helpers';
import type { Machine } from './types';

ensureFetchTrustsEmulator();

const ROLES = ['Machine.ReadWrite.All', 'Machine.Isolate', 'Machine.Scan', 'Machine.CollectForensics', 'Machine.Offboard', 'Machine.StopAndQuarantine', 'Machine.RestrictExecution', 'Alert.Read.All', 'User.Read.All'];

let emu: Emulator;
let tenant: string;
let clientId: string;
let secret: string;
let token: string;
let fleet: Machine[];
let now = Date.parse('2026-03-01T10:00:00Z');

interface Json {
	status: number;
	body: any;
}

async function api(path: string, init: { method?: string; body?: unknown; token?: string; contentType?: string } = {}): Promise<Json> {
	const headers: Record<string, string> = { authorization: `Bearer ${init.token ?? token}` };
	if (init.body !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
	const res = await fetch(`${emu.url}${path}`, { method: init.method ?? 'GET', headers, body: init.body === undefined ? undefined : typeof init.body === 'string' ? init.body : JSON.stringify(init.body) });
	const text = await res.text();
	return { status: res.status, body: text ? JSON.parse(text) : undefined };
}
const q = (filter: string) => `/api/machines?$filter=${encodeURIComponent(filter)}`;

beforeAll(async () => {
	emu = await startEmulator({ rateLimits: false, clock: () => now });
	const s = emu.createScenario({ tenants: 1, roles: ROLES });
	tenant = s.tenants[0].id;
	clientId = s.clientId;
	secret = s.clientSecret;
	token = await getToken(emu.url, { tenant, clientId, clientSecret: secret });
	fleet = emu.machineApi.seedFleet(tenant, { count: 10, duplicateDnsName: true });
});
afterAll(async () => {
	await emu.close();
});

describe('machines', () => {
	test('list with $top/$skip and filters: eq, or, startswith, machineTags/any, lastSeen', async () => {
		const all = await api('/api/machines');
		expect(all.status).toBe(200);
		expect(all.body.value).toHaveLength(11);
		const page = await api('/api/machines?$top=4&$skip=8');
		expect(page.body.value.map((m: Machine) => m.id)).toEqual(fleet.slice(8).map((m) => m.id));
		const critical = await api(q("machineTags/any(tag: tag eq 'critical-server')"));
		expect(critical.body.value.map((m: Machine) => m.computerDnsName).sort()).toEqual([fleet[4].computerDnsName, fleet[9].computerDnsName].sort());
		const byPrefix = await api(q(`startswith(computerDnsName,'${fleet[0].computerDnsName.slice(0, 3)}')`));
		expect(byPrefix.body.value.length).toBe(11);
		const byName = await api(q(`computerDnsName eq '${fleet[0].computerDnsName}'`));
		expect(byName.body.value).toHaveLength(2);
		const active = await api(q("healthStatus eq 'Inactive' or riskScore eq 'High'"));
		expect(active.body.value.length).toBe(1 + fleet.filter((m) => m.riskScore === 'High' && m.healthStatus !== 'Inactive').length);
		const recent = await api(q(`lastSeen gt ${new Date(now - 86_400_000).toISOString()}`));
		expect(recent.body.value).toHaveLength(10);
		const ids = await api(q(`id eq '${fleet[1].id}' or id eq '${fleet[2].id}'`));
		expect(ids.body.value.map((m: Machine) => m.id)).toEqual([fleet[1].id, fleet[2].id]);
	});

	test('bad filters are 400 ODataError', async () => {
		for (const f of ["nope eq 'x'", "machineTags eq 'x'", 'lastSeen gt \'2025-01-01\'', "healthStatus EQ 'Active'", "foo(computerDnsName,'x')"]) {
			const r = await api(q(f));
			expect([f, r.status, r.body.error.code]).toEqual([f, 400, 'ODataError']);
		}
	});

	test('get by id or computer name; 404 ResourceNotFound', async () => {
		expect((await api(`/api/machines/${fleet[3].id}`)).body.computerDnsName).toBe(fleet[3].computerDnsName);
		expect((await api(`/api/machines/${fleet[3].computerDnsName}`)).body.id).toBe(fleet[3].id);
		const missing = await api(`/api/machines/${'0'.repeat(40)}`);
		expect([missing.status, missing.body.error.code]).toEqual([404, 'ResourceNotFound']);
	});

	test('findbyip: ±15 minutes, last 30 days', async () => {
		const ip = fleet[2].lastIpAddress;
		const at = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
		const hit = await api(`/api/machines/findbyip(ip='${ip}',timestamp=${at(now)})`);
		expect(hit.body.value.map((m: Machine) => m.id)).toEqual([fleet[2].id]);
		const old = await api(`/api/machines/findbyip(ip='${ip}',timestamp=${at(now - 31 * 86_400_000)})`);
		expect(old.status).toBe(400);
	});

	test('findbytag (exact and starts-with), tags add/remove (case-sensitive body)', async () => {
		expect((await api('/api/machines/findbytag?tag=critical-server&useStartsWithFilter=false')).body.value).toHaveLength(2);
		expect((await api('/api/machines/findbytag?tag=critical&useStartsWithFilter=true')).body.value).toHaveLength(2);
		const added = await api(`/api/machines/${fleet[0].id}/tags`, { method: 'POST', body: { Value: 'vip', Action: 'Add' } });
		expect(added.body.machineTags).toContain('vip');
		const removed = await api(`/api/machines/${fleet[0].id}/tags`, { method: 'POST', body: { Value: 'vip', Action: 'Remove' } });
		expect(removed.body.machineTags).not.toContain('vip');
		const miscased = await api(`/api/machines/${fleet[0].id}/tags`, { method: 'POST', body: { value: 'vip', Action: 'Add' } });
		expect([miscased.status, miscased.body.error.code]).toEqual([400, 'InvalidRequestBody']);
	});

	test('logon users and machine alerts', async () => {
		const users = await api(`/api/machines/${fleet[1].id}/logonusers`);
		expect(users.body.value.length).toBeGreaterThan(0);
		expect(users.body.value[0]).toEqual(expect.objectContaining({ accountName: expect.any(String), logonTypes: expect.any(String) }));
		emu.addAlerts(tenant, [{ machineId: fleet[1].id, title: 'on fleet 1' }]);
		const alerts = await api(`/api/machines/${fleet[1].id}/alerts`);
		expect(alerts.body.value.map((a: { title: string }) => a.title)).toContain('on fleet 1');
	});

	test('pure filter evaluation', () => {
		const node = parseRecordFilter("(healthStatus eq 'Active' and not (riskScore eq 'High')) or machineTags/any(t: t eq 'x')", MACHINE_FILTER_FIELDS, 'Machine');
		expect(evaluateRecordFilter(node, { healthStatus: 'Active', riskScore: 'Low', machineTags: [] })).toBe(true);
		expect(evaluateRecordFilter(node, { healthStatus: 'Active', riskScore: 'High', machineTags: [] })).toBe(false);
		expect(evaluateRecordFilter(node, { healthStatus: 'Inactive', riskScore: 'High', machineTags: ['x'] })).toBe(true);
	});
});

describe('machine actions', () => {
	test('isolate: 201 Pending → InProgress → Succeeded on the emulator clock; list by id', async () => {
		emu.machineApi.setTiming({ pendingMs: 1000, inProgressMs: 2000 });
		const r = await api(`/api/machines/${fleet[0].id}/isolate`, { method: 'POST', body: { Comment: 'c', IsolationType: 'Selective' } });
		expect(r.status).toBe(201);
		expect(r.body).toMatchObject({ type: 'Isolate', status: 'Pending', scope: 'Selective', machineId: fleet[0].id, requestorComment: 'c', requestor: clientId });
		now += 1500;
		expect((await api(`/api/machineactions/${r.body.id}`)).body.status).toBe('InProgress');
		// a second isolate while the first is not final
		const again = await api(`/api/machines/${fleet[0].id}/isolate`, { method: 'POST', body: { Comment: 'c2', IsolationType: 'Full' } });
		expect([again.status, again.body.error.code]).toEqual([400, 'ActiveRequestAlreadyExists']);
		now += 2000;
		const list = await api(`/api/machineactions?$filter=${encodeURIComponent(`id eq '${r.body.id}'`)}`);
		expect(list.body.value.map((a: { status: string }) => a.status)).toEqual(['Succeeded']);
		// final: a new isolate is accepted
		expect((await api(`/api/machines/${fleet[0].id}/isolate`, { method: 'POST', body: { Comment: 'c3' } })).status).toBe(201);
	});

	test('outcomes: Failed by setOutcome, TimeOut for an inactive device; cancel; final actions cannot be cancelled', async () => {
		emu.machineApi.setTiming({ pendingMs: 100, inProgressMs: 100 });
		emu.machineApi.setOutcome(tenant, fleet[5].id, 'Failed');
		const failed = (await api(`/api/machines/${fleet[5].id}/runAntiVirusScan`, { method: 'POST', body: { Comment: 'scan', ScanType: 'Quick' } })).body;
		const inactive = fleet[10];
		const timedOut = (await api(`/api/machines/${inactive.id}/runAntiVirusScan`, { method: 'POST', body: { Comment: 'scan', ScanType: 'Full' } })).body;
		const toCancel = (await api(`/api/machines/${fleet[6].id}/collectInvestigationPackage`, { method: 'POST', body: { Comment: 'pkg' } })).body;
		const cancelled = await api(`/api/machineactions/${toCancel.id}/cancel`, { method: 'POST', body: { Comment: 'no' } });
		expect(cancelled.body).toMatchObject({ status: 'Cancelled', cancellationComment: 'no' });
		now += 500;
		expect(emu.machineApi.action(failed.id)?.status).toBe('Failed');
		expect(emu.machineApi.action(timedOut.id)?.status).toBe('TimeOut');
		const again = await api(`/api/machineactions/${failed.id}/cancel`, { method: 'POST', body: { Comment: 'late' } });
		expect(again.status).toBe(400);
	});

	test('package URI only for a succeeded collection; 2 per minute', async () => {
		emu.machineApi.setTiming({ pendingMs: 0, inProgressMs: 10 });
		const pkg = (await api(`/api/machines/${fleet[7].id}/collectInvestigationPackage`, { method: 'POST', body: { Comment: 'pkg' } })).body;
		expect((await api(`/api/machineactions/${pkg.id}/GetPackageUri`)).status).toBe(404);
		now += 100;
		const link = await api(`/api/machineactions/${pkg.id}/GetPackageUri`);
		expect(link.status).toBe(200);
		expect(link.body.value).toMatch(/^https:\/\//);
		emu.setRateLimits({ packageUri: [{ limit: 2, windowMs: 60_000 }] });
		await api(`/api/machineactions/${pkg.id}/getPackageUri`);
		await api(`/api/machineactions/${pkg.id}/getPackageUri`);
		const throttled = await api(`/api/machineactions/${pkg.id}/getPackageUri`);
		expect(throttled.status).toBe(429);
		emu.disableRateLimits();
	});

	test('bodies are validated: Comment required, PascalCase, ScanType, Sha1; offboard Linux unsupported', async () => {
		const cases: Array<[string, unknown, string]> = [
			['isolate', { IsolationType: 'Full' }, 'MissingRequiredParameter'],
			['isolate', { comment: 'x' }, 'InvalidRequestBody'],
			['runAntiVirusScan', { Comment: 'x' }, 'MissingRequiredParameter'],
			['runAntiVirusScan', { Comment: 'x', ScanType: 'Deep' }, 'InvalidRequestBody'],
			['StopAndQuarantineFile', { Comment: 'x', Sha1: 'abc' }, 'InvalidHashValue'],
		];
		for (const [path, body, code] of cases) {
			const r = await api(`/api/machines/${fleet[8].id}/${path}`, { method: 'POST', body });
			expect([path, r.status, r.body.error.code]).toEqual([path, 400, code]);
		}
		const linux = fleet.find((m) => m.osPlatform === 'Linux')!;
		const off = await api(`/api/machines/${linux.id}/offboard`, { method: 'POST', body: { Comment: 'x' } });
		expect([off.status, off.body.error.code]).toEqual([400, 'OsPlatformNotSupported']);
	});

	test('roles per endpoint: a read-only app cannot isolate (403 names the role)', async () => {
		emu.setRoles(tenant, clientId, ['Machine.Read.All']);
		const readOnly = await getToken(emu.url, { tenant, clientId, clientSecret: secret });
		const r = await api(`/api/machines/${fleet[1].id}/isolate`, { method: 'POST', body: { Comment: 'x' }, token: readOnly });
		expect(r.status).toBe(403);
		expect(r.body.error.message).toContain('Machine.Isolate');
		expect((await api('/api/machineactions', { token: readOnly })).status).toBe(200);
		emu.setRoles(tenant, clientId, ROLES);
	});

	test('control API: timing, fleets, actions, outcomes', async () => {
		const control = async (method: string, path: string, body?: unknown) => {
			const res = await fetch(`${emu.url}/_emulator/machine-api${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
			return { status: res.status, body: (await res.json()) as any };
		};
		expect((await control('POST', '/timing', { pendingMs: 5, inProgressMs: 6 })).body).toEqual({ pendingMs: 5, inProgressMs: 6 });
		const added = await control('POST', `/tenants/${tenant}/machines`, { fleet: { count: 2, prefix: 'kiosk-' } });
		expect(added.body.value.map((m: Machine) => m.computerDnsName)).toEqual([expect.stringMatching(/^kiosk-001\./), expect.stringMatching(/^kiosk-002\./)]);
		expect((await control('POST', `/tenants/${tenant}/machines/${added.body.value[0].id}/outcome`, { outcome: 'Failed' })).status).toBe(200);
		const actions = await control('GET', `/tenants/${tenant}/actions`);
		expect(actions.body.value.length).toBeGreaterThan(3);
	});
});
