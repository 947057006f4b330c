/** Machine resource through n8n's engine against the emulator: Get (ID / DNS name / ambiguity), Get Many, Find by IP / Tag, tags, logon users, alerts. */
import { tokenBroker } from '../../nodes/MicrosoftDefenderForEndpoint/transport/tokens';
import type { Machine } from '../emulator';
import { createEnv, rl, type TestEnv } from './env';
import { MACHINE_TEST_ROLES } from './machineEnv';


let env: TestEnv;
let tenant: string;
let fleet: Machine[];

beforeAll(async () => {
	env = await createEnv({ scenario: { tenants: 2, alertsPerTenant: 4, roles: MACHINE_TEST_ROLES } });
	tenant = env.tenantId;
	fleet = env.emu.machineApi.seedFleet(tenant, { count: 12, duplicateDnsName: true });
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => env.emu.resetLog());

/** New roles take effect with a new token: revoke the issued ones (the stored token then gets a 401 and is renewed). */
function setRoles(roles: string[]): void {
	env.emu.setRoles(tenant, env.scenario.clientId, roles);
	env.emu.revokeTokens({ tenantId: tenant });
	tokenBroker.reset();
}

const dnsRl = (value: string) => ({ __rl: true, mode: 'dnsName', value });

describe('Get', () => {
	test('by ID: one GET; tenantId, dedupKey, portal link, customer label', async () => {
		const r = await env.run({ resource: 'machine', operation: 'get', machineId: rl(fleet[2].id), options: { customerLabel: 'Contoso' } });
		expect(r.error).toBeUndefined();
		const m = r.items[0].json;
		expect(m).toMatchObject({ id: fleet[2].id, computerDnsName: fleet[2].computerDnsName, tenantId: tenant, dedupKey: `${tenant}:${fleet[2].id}`, customerLabel: 'Contoso' });
		expect(String(m.portalUrl)).toContain(`/machines/v2/${fleet[2].id}/overview`);
		expect(m['@odata.context']).toBeUndefined();
		expect(env.api().map((q) => `${q.method} ${q.path}`)).toEqual([`GET /api/machines/${fleet[2].id}`]);
	});

	test('by DNS name, full or bare host name; Simplify keeps the key fields', async () => {
		const host = fleet[3].computerDnsName.split('.')[0];
		const r = await env.run({ resource: 'machine', operation: 'get', machineId: dnsRl(host.toUpperCase()), simplify: true });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ id: fleet[3].id, computerDnsName: fleet[3].computerDnsName, dedupKey: `${tenant}:${fleet[3].id}` });
		expect(Object.keys(r.items[0].json)).not.toContain('ipAddresses');
		const [q] = env.api();
		expect(q.query.$filter).toBe(`startswith(computerDnsName,'${host}')`);
	});

	test('a DNS name with two machine records is an error that lists both, never a guess', async () => {
		const r = await env.run({ resource: 'machine', operation: 'get', machineId: dnsRl(fleet[0].computerDnsName) });
		expect(r.error?.message).toContain(`The DNS name "${fleet[0].computerDnsName}" matches 2 machines in tenant ${tenant}`);
		expect(r.error?.message).toContain(fleet[0].id);
		expect(r.error?.message).toContain(fleet[12].id);
		expect(r.error?.description).toMatch(/give the machine by its ID/);
		expect(env.api()).toHaveLength(1);
	});

	test('unknown machine: 404 with the tenant; malformed ID: no request', async () => {
		const missing = await env.run({ resource: 'machine', operation: 'get', machineId: rl('0'.repeat(40)) });
		expect(missing.error?.message).toBe(`Machine ${'0'.repeat(40)} was not found in tenant ${tenant}`);
		env.emu.resetLog();
		const bad = await env.run({ resource: 'machine', operation: 'get', machineId: rl('={{ "ws-1" }}') });
		expect(bad.error?.message).toMatch(/"ws-1" is not a Defender device ID/);
		expect(env.emu.count()).toBe(0);
	});

	test('a customer tenant given by domain still outputs the tenant GUID', async () => {
		const other = env.scenario.tenants[1];
		const [m] = env.emu.machineApi.seedFleet(other.id, { count: 1, prefix: 'fab-' });
		const r = await env.run({ resource: 'machine', operation: 'get', customerTenant: other.domain, machineId: rl(m.id) });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ tenantId: other.id, dedupKey: `${other.id}:${m.id}` });
	});
});

describe('Get Many', () => {
	test('filters become $filter; Limit becomes $top; simplified by default', async () => {
		const r = await env.run({
			resource: 'machine',
			operation: 'getAll',
			limit: 3,
			filters: { healthStatus: ['Active'], riskScore: ['High', 'Low'], tag: 'critical-server', dnsNameStartsWith: 'WS-', lastSeenAfter: '2020-01-01T00:00:00Z' },
		});
		expect(r.error).toBeUndefined();
		const expected = fleet.filter((m) => m.healthStatus === 'Active' && m.machineTags.includes('critical-server') && ['High', 'Low'].includes(m.riskScore));
		expect(r.items.map((i) => i.json.id)).toEqual(expected.slice(0, 3).map((m) => m.id));
		expect(r.items[0].json.tenantId).toBe(tenant);
		const [q] = env.api();
		expect(q.query).toEqual({
			$top: '3',
			$filter:
				"healthStatus eq 'Active' and (riskScore eq 'High' or riskScore eq 'Low') and machineTags/any(tag: tag eq 'critical-server') and lastSeen gt 2020-01-01T00:00:00.0000000Z and startswith(computerDnsName,'ws-')",
		});
	});

	test('Return All pages with $top/$skip', async () => {
		const r = await env.run({ resource: 'machine', operation: 'getAll', returnAll: true, simplify: false });
		expect(r.error).toBeUndefined();
		expect(r.items.length).toBe(env.emu.machines(tenant).length);
		expect(r.items[0].json.ipAddresses).toBeDefined();
	});

	test('bad filter values stop before any request', async () => {
		const r = await env.run({ resource: 'machine', operation: 'getAll', filters: { healthStatus: '={{ ["Online"] }}' } });
		expect(r.error?.message).toMatch(/Health Status "Online" is not a valid value/);
		expect(env.emu.count()).toBe(0);
	});
});

describe('Find by IP, Find by Tag', () => {
	test('findbyip with the timestamp (default now), one item per machine', async () => {
		const r = await env.run({ resource: 'machine', operation: 'findByIp', ip: fleet[5].lastIpAddress });
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => i.json.id)).toEqual([fleet[5].id]);
		expect(decodeURIComponent(env.api()[0].path)).toMatch(new RegExp(`^/api/machines/findbyip\\(ip='${fleet[5].lastIpAddress.replace(/\./g, '\\.')}',timestamp=\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z\\)$`));
	});

	test('a timestamp older than 30 days, or a CIDR, is refused before any request', async () => {
		const old = await env.run({ resource: 'machine', operation: 'findByIp', ip: '10.0.0.1', timestamp: '2020-01-01T00:00:00Z' });
		expect(old.error?.message).toMatch(/more than 30 days ago/);
		const cidr = await env.run({ resource: 'machine', operation: 'findByIp', ip: '10.0.0.0/8' });
		expect(cidr.error?.message).toMatch(/is not an IP address/);
		expect(env.emu.count()).toBe(0);
	});

	test('findbytag, exact and starts-with', async () => {
		const r = await env.run({ resource: 'machine', operation: 'findByTag', tag: 'critical', startsWith: true });
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => i.json.id).sort()).toEqual(fleet.filter((m) => m.machineTags.some((t) => t.startsWith('critical'))).map((m) => m.id).sort());
		expect(env.api()[0].query).toEqual({ tag: 'critical', useStartsWithFilter: 'true' });
	});
});

describe('tags, logon users, alerts', () => {
	test('Add Tag / Remove Tag (by DNS name) send PascalCase bodies and return the machine', async () => {
		const dns = fleet[6].computerDnsName;
		const added = await env.run({ resource: 'machine', operation: 'addTag', machineId: dnsRl(dns), tag: 'isolated-by-n8n' });
		expect(added.error).toBeUndefined();
		expect(added.items[0].json.machineTags).toContain('isolated-by-n8n');
		expect(env.emu.machines(tenant).find((m) => m.id === fleet[6].id)?.machineTags).toContain('isolated-by-n8n');
		const removed = await env.run({ resource: 'machine', operation: 'removeTag', machineId: rl(fleet[6].id), tag: 'isolated-by-n8n' });
		expect(removed.items[0].json.machineTags).not.toContain('isolated-by-n8n');
		expect(env.api().map((q) => `${q.method} ${q.path.replace(fleet[6].id, 'ID')} ${q.status}`)).toEqual(['GET /api/machines 200', 'POST /api/machines/ID/tags 200', 'POST /api/machines/ID/tags 200']);
	});

	test('Get Logged-On Users: one item per user with machine, tenant and a stable key', async () => {
		const r = await env.run({ resource: 'machine', operation: 'getLogonUsers', machineId: rl(fleet[1].id) });
		expect(r.error).toBeUndefined();
		expect(r.items.length).toBeGreaterThan(0);
		const u = r.items[0].json;
		expect(u).toMatchObject({ machineId: fleet[1].id, tenantId: tenant, accountName: expect.any(String) });
		expect(u.dedupKey).toBe(`${tenant}:${fleet[1].id}:${String(u.id).toLowerCase()}`);
	});

	test('Get Alerts: shaped like the Alert resource (same dedupKey and portal link)', async () => {
		const [alert] = env.emu.addAlerts(tenant, [{ machineId: fleet[7].id, title: 'machine alert' }]);
		const r = await env.run({ resource: 'machine', operation: 'getAlerts', machineId: rl(fleet[7].id) });
		expect(r.error).toBeUndefined();
		const a = r.items.find((i) => i.json.id === alert.id)!.json;
		expect(a).toMatchObject({ title: 'machine alert', tenantId: tenant, dedupKey: `${tenant}:${alert.id}`, machineId: fleet[7].id });
		expect(String(a.portalUrl)).toContain(`/alerts/${alert.id}`);
	});

	test('a 403 names the missing permission (Get Logged-On Users needs User.Read.All)', async () => {
		setRoles(MACHINE_TEST_ROLES.filter((r) => r !== 'User.Read.All'));
		const r = await env.run({ resource: 'machine', operation: 'getLogonUsers', machineId: rl(fleet[1].id) });
		expect(r.error?.httpCode).toBe('403');
		expect(r.error?.message).toMatch(/it needs User\.Read\.All/);
		setRoles(MACHINE_TEST_ROLES);
	});
});

describe('Tenant → Check Access lists the machine operations from the permissions table', () => {
	test('allowed and blocked machine operations', async () => {
		// A customer tenant whose consent grants machine read and scan only.
		const other = env.scenario.tenants[1];
		env.emu.setRoles(other.id, env.scenario.clientId, ['Alert.ReadWrite.All', 'Machine.Read.All', 'Machine.Scan']);
		env.emu.revokeTokens({ tenantId: other.id });
		tokenBroker.reset();
		const r = await env.run({ resource: 'tenant', operation: 'checkAccess', tenants: other.id });
		const j = r.items[0].json;
		expect(j.roles).toEqual(['Alert.ReadWrite.All', 'Machine.Read.All', 'Machine.Scan']);
		expect(j.allowedOperations).toEqual(expect.arrayContaining(['Machine: Get Many', 'Machine Action: Run Antivirus Scan', 'Machine Action: Get Many', 'Machine Action: Cancel']));
		expect(j.blockedOperations).toEqual(expect.arrayContaining([{ operation: 'Machine Action: Isolate', needs: 'Machine.Isolate' }]));
		expect(j.ready).toBe(true);
	});
});
