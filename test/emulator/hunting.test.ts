/** The emulator's advanced hunting (hunting.ts: `POST /v1.0/security/runHuntingQuery`), over HTTPS with real tokens. */
import { startEmulator, type Emulator } from './index';
import { ensureFetchTrustsEmulator, getToken } from './test-helpers';

ensureFetchTrustsEmulator();

const GRAPH = 'https://graph.microsoft.com/.default';
const DAY = 86_400_000;

let emu: Emulator;
let tenant: string;
let noHunting: string;
let clientId: string;
let secret: string;
let token: string;

interface Json {
	status: number;
	headers: Headers;
	body: any;
}

async function hunt(body: unknown, init: { token?: string; method?: string; raw?: string } = {}): Promise<Json> {
	const res = await fetch(`${emu.url}/v1.0/security/runHuntingQuery`, {
		method: init.method ?? 'POST',
		headers: { authorization: `Bearer ${init.token ?? token}`, 'content-type': 'application/json' },
		body: init.method === 'GET' ? undefined : (init.raw ?? JSON.stringify(body)),
	});
	const text = await res.text();
	return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

const q = async (query: string, timespan?: string) => await hunt(timespan === undefined ? { Query: query } : { Query: query, Timespan: timespan });

function expectGraphError(res: Json, status: number, code: string, message?: RegExp): void {
	expect(res.status).toBe(status);
	expect(Object.keys(res.body)).toEqual(['error']);
	expect(res.body.error.code).toBe(code);
	expect(Object.keys(res.body.error.innerError)).toEqual(['date', 'request-id', 'client-request-id']);
	if (message) expect(res.body.error.message).toMatch(message);
}

/** The stored alerts of the tenant created within the last `days` days (computed here, not by the interpreter). */
const recentAlerts = (days = 30) => emu.listAlerts(tenant).filter((a) => Date.parse(a.alertCreationTime) >= Date.now() - days * DAY);

beforeAll(async () => {
	emu = await startEmulator({ rateLimits: false, graph: true });
	const home = emu.addTenant({ name: 'MSSP' }).id;
	tenant = emu.addTenant({ name: 'Contoso' }).id;
	noHunting = emu.addTenant({ name: 'Fabrikam' }).id;
	const app = emu.addApp({ name: 'MSSP app', homeTenantId: home });
	clientId = app.clientId;
	secret = app.secrets[0];
	emu.grantConsent(tenant, clientId, ['Alert.Read.All', 'ThreatHunting.Read.All']);
	emu.grantConsent(noHunting, clientId, ['Alert.Read.All', 'SecurityAlert.Read.All']);
	// alerts over the last 20 days, 12 hunting events
	emu.seedTenant(tenant, { alerts: 50, seed: 'h', start: new Date(Date.now() - 20 * DAY), end: new Date(Date.now() - 60_000) });
	emu.seedTenant(noHunting, { alerts: 3, seed: 'n' });
	token = await getToken(emu.url, { tenant, clientId, clientSecret: secret, scope: GRAPH });
});
afterAll(async () => {
	await emu.close();
});
afterEach(() => {
	emu.graph.hunting.reset();
	emu.graph.hunting.configure({ rateLimit: null });
});
beforeEach(() => {
	emu.graph.hunting.configure({ rateLimit: null });
});

describe('the KQL subset over the tenant data', () => {
	test('where == with project: the rows and the schema, computed from the stored alerts', async () => {
		const r = await q('AlertInfo | where Severity == "High" | project AlertId, Severity, Timestamp');
		expect(r.status).toBe(200);
		expect(r.body.schema).toEqual([
			{ name: 'AlertId', type: 'String' },
			{ name: 'Severity', type: 'String' },
			{ name: 'Timestamp', type: 'DateTime' },
		]);
		const high = recentAlerts().filter((a) => a.severity === 'High');
		expect(high.length).toBeGreaterThan(0);
		expect(r.body.results.map((x: any) => x.AlertId).sort()).toEqual(high.map((a) => a.id).sort());
		expect(r.body.results.every((x: any) => Object.keys(x).join() === 'AlertId,Severity,Timestamp')).toBe(true);
	});

	test('count, take/limit, order by asc|desc (default desc), top', async () => {
		const all = recentAlerts();
		expect((await q('AlertInfo | count')).body).toMatchObject({ schema: [{ name: 'Count', type: 'Int64' }], results: [{ Count: all.length }] });
		const byTime = [...all].sort((a, b) => Date.parse(a.alertCreationTime) - Date.parse(b.alertCreationTime)).map((a) => a.id);
		expect((await q('AlertInfo | order by Timestamp asc | take 3 | project AlertId')).body.results.map((x: any) => x.AlertId)).toEqual(byTime.slice(0, 3));
		expect((await q('AlertInfo | sort by Timestamp | limit 2 | project AlertId')).body.results.map((x: any) => x.AlertId)).toEqual(byTime.reverse().slice(0, 2));
		expect((await q('AlertInfo | top 4 by Timestamp desc | project AlertId')).body.results.map((x: any) => x.AlertId)).toEqual(byTime.slice(0, 4));
	});

	test('and / or / not(), contains, has, startswith, in, !=, =~, ago()', async () => {
		const all = recentAlerts();
		const ids = async (kql: string) => ((await q(`${kql} | project AlertId`)).body.results as any[]).map((x) => x.AlertId).sort();
		const expectIds = (pred: (a: (typeof all)[number]) => boolean) => all.filter(pred).map((a) => a.id).sort();
		expect(await ids('AlertInfo | where Severity == "High" or Severity == "Low"')).toEqual(expectIds((a) => a.severity === 'High' || a.severity === 'Low'));
		expect(await ids('AlertInfo | where Severity != "High" and not(Severity == "Low")')).toEqual(expectIds((a) => a.severity !== 'High' && a.severity !== 'Low'));
		expect(await ids('AlertInfo | where Severity =~ "high"')).toEqual(expectIds((a) => a.severity === 'High'));
		expect(await ids('AlertInfo | where Severity in ("Medium", "Informational")')).toEqual(expectIds((a) => a.severity === 'Medium' || a.severity === 'Informational'));
		const word = all[0].title.split(' ')[0];
		expect(await ids(`AlertInfo | where Title has "${word.toLowerCase()}"`)).toEqual(expectIds((a) => new RegExp(`(^|[^a-z0-9])${word.toLowerCase()}($|[^a-z0-9])`, 'i').test(a.title)));
		expect(await ids(`AlertInfo | where Title contains "${word.slice(1, 4)}"`)).toEqual(expectIds((a) => a.title.toLowerCase().includes(word.slice(1, 4).toLowerCase())));
		expect(await ids(`AlertInfo | where Title startswith "${word}"`)).toEqual(expectIds((a) => a.title.toLowerCase().startsWith(word.toLowerCase())));
		expect(await ids('AlertInfo | where Timestamp > ago(5d)')).toEqual(expectIds((a) => Date.parse(a.alertCreationTime) > Date.now() - 5 * DAY));
	});

	test('DeviceProcessEvents from the stored hunting events; DeviceInfo from the machines; AlertEvidence per entity', async () => {
		const events = emu.events(tenant);
		const ps = await q('DeviceProcessEvents | where FileName == "powershell.exe" | project ReportId, DeviceId', 'P365D');
		expect(ps.status).toBe(200);
		expect(ps.body.results.map((x: any) => String(x.ReportId)).sort()).toEqual(events.filter((e) => e.fileName === 'powershell.exe').map((e) => e.reportId).sort());
		const machines = emu.machines(tenant);
		const devices = await q('DeviceInfo | project DeviceId, DeviceName', 'P3650D');
		expect(devices.body.results.map((x: any) => x.DeviceId).sort()).toEqual(machines.map((m) => m.id).sort());
		const evidence = await q('AlertEvidence | where EntityType == "Machine" | count');
		expect(evidence.body.results[0].Count).toBe(recentAlerts().filter((a) => a.machineId).length);
	});

	test('Timespan: a shorter duration sees fewer rows; an interval works; the default is 30 days', async () => {
		emu.seedTenant(tenant, { alerts: 4, seed: 'old', start: new Date(Date.now() - 45 * DAY), end: new Date(Date.now() - 40 * DAY) });
		const count = async (timespan?: string) => (await q('AlertInfo | count', timespan)).body.results[0].Count as number;
		const inDays = (days: number) => emu.listAlerts(tenant).filter((a) => Date.parse(a.alertCreationTime) >= Date.now() - days * DAY).length;
		expect(await count()).toBe(inDays(30));
		expect(await count('P60D')).toBe(inDays(60));
		expect(await count('P60D')).toBe((await count()) + 4);
		expect(await count('P3D')).toBe(inDays(3));
		const start = new Date(Date.now() - 50 * DAY).toISOString();
		const end = new Date(Date.now() - 35 * DAY).toISOString();
		expect(await count(`${start}/${end}`)).toBe(4);
		expectGraphError(await q('AlertInfo', '7 days'), 400, 'BadRequest', /'7 days' of 'Timespan' is not a valid ISO 8601/);
		emu.graph.hunting.configure({ intervals: false });
		expectGraphError(await q('AlertInfo', `${start}/${end}`), 400, 'BadRequest', /not a valid ISO 8601 duration/);
	});
});

describe('errors shaped like Graph, with KQL-like messages', () => {
	test('unknown table, unknown or miscased column, syntax, type mismatch, unsupported operator', async () => {
		expectGraphError(await q('AlertInf | take 1'), 400, 'BadRequest', /Failed to resolve table or column expression named 'AlertInf'/);
		expectGraphError(await q('alertinfo | take 1'), 400, 'BadRequest', /did you mean 'AlertInfo'/);
		expectGraphError(await q('AlertInfo | where Severty == "High"'), 400, 'BadRequest', /'where' operator: Failed to resolve scalar expression named 'Severty'/);
		expectGraphError(await q('AlertInfo | project alertid'), 400, 'BadRequest', /'project' operator: .*'alertid'.*did you mean 'AlertId'/);
		expectGraphError(await q('AlertInfo | where Severity == '), 400, 'BadRequest', /Syntax error: Query could not be parsed at '<end of query>' on line \[1,31\]/);
		expectGraphError(await q('AlertInfo\n| wher Severity == "High"'), 400, 'BadRequest', /does not support the 'wher' operator/);
		expectGraphError(await q('AlertInfo | where Timestamp > 5'), 400, 'BadRequest', /Cannot compare values of types datetime and long/);
		expectGraphError(await q('AlertInfo | summarize count() by Severity'), 400, 'BadRequest', /does not support the 'summarize' operator/);
		// an empty result still resolves its columns (no data needed to find the mistake)
		expectGraphError(await q('AlertInfo | where Severity == "None" | project Nope'), 400, 'BadRequest', /'Nope'/);
	});

	test('body: Query required (any casing of the property names), JSON only, POST only', async () => {
		expectGraphError(await hunt({ Timespan: 'P1D' }), 400, 'BadRequest', /'Query' is required/);
		expect((await hunt({ query: 'AlertInfo | count', timespan: 'P1D' })).status).toBe(200);
		expectGraphError(await hunt(undefined, { raw: '{not json' }), 400, 'BadRequest', /Unable to read JSON/);
		expectGraphError(await hunt(undefined, { method: 'GET' }), 405, 'MethodNotAllowed');
	});

	test('auth: Graph audience only; ThreatHunting.Read.All needed (403 names it)', async () => {
		const defenderToken = await getToken(emu.url, { tenant, clientId, clientSecret: secret });
		expectGraphError(await q('AlertInfo').then(() => hunt({ Query: 'AlertInfo' }, { token: defenderToken })), 401, 'InvalidAuthenticationToken', /Invalid audience/);
		const other = await getToken(emu.url, { tenant: noHunting, clientId, clientSecret: secret, scope: GRAPH });
		expectGraphError(await hunt({ Query: 'AlertInfo' }, { token: other }), 403, 'Forbidden', /requires one of 'ThreatHunting\.Read\.All'/);
	});
});

describe('limits and faults', () => {
	test('row limit: a 400 beyond maxRows, or the rows cut off (rowLimit: truncate)', async () => {
		emu.graph.hunting.configure({ maxRows: 5 });
		expectGraphError(await q('AlertInfo'), 400, 'BadRequest', /exceeded the internal record count limit 5 \(E_QUERY_RESULT_SET_TOO_LARGE\)/);
		expect((await q('AlertInfo | take 5')).status).toBe(200);
		emu.graph.hunting.configure({ rowLimit: 'truncate' });
		expect((await q('AlertInfo')).body.results).toHaveLength(5);
	});

	test('timeout (400 or 504), CPU quota (429 with Retry-After, or 400), forced 429; each once', async () => {
		const h = emu.graph.hunting;
		h.failNext('timeout');
		expectGraphError(await q('AlertInfo | count'), 400, 'BadRequest', /exceeded the allowed execution time/);
		h.configure({ timeoutStatus: 504 });
		h.failNext('timeout');
		expectGraphError(await q('AlertInfo | count'), 504, 'GatewayTimeout');
		h.failNext('cpuQuota', 1, 7);
		const cpu = await q('AlertInfo | count');
		expectGraphError(cpu, 429, 'TooManyRequests', /CPU quota/);
		expect(cpu.headers.get('retry-after')).toBe('7');
		h.configure({ cpuQuotaStatus: 400 });
		h.failNext('cpuQuota');
		expectGraphError(await q('AlertInfo | count'), 400, 'BadRequest', /CPU quota/);
		h.failNext('throttle', 1, 3);
		const t = await q('AlertInfo | count');
		expect([t.status, t.headers.get('retry-after')]).toEqual([429, '3']);
		expect((await q('AlertInfo | count')).status).toBe(200);
	});

	test('45 calls per window per app and tenant, then 429 with Retry-After ≥ 1; the log counts every call', async () => {
		emu.graph.hunting.configure({ rateLimit: { limit: 45, windowMs: 60_000 } });
		const since = emu.graph.hunting.lastSeq();
		const statuses: number[] = [];
		for (let k = 0; k < 46; k++) statuses.push((await q('AlertInfo | take 1')).status);
		expect(statuses.slice(0, 45).every((s) => s === 200)).toBe(true);
		const last = await q('AlertInfo | take 1');
		expect(last.status).toBe(429);
		expect(Number(last.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
		expect(statuses[45]).toBe(429);
		const log = emu.graph.hunting.queries({ sinceSeq: since });
		expect(log).toHaveLength(47);
		expect(log.filter((e) => e.status === 429)).toHaveLength(2);
		expect(log[0]).toMatchObject({ tenantId: tenant, clientId, query: 'AlertInfo | take 1', status: 200, rows: 1 });
	});

	test('pascalCase: Schema/Results, Name/Type', async () => {
		emu.graph.hunting.configure({ pascalCase: true });
		const r = await q('AlertInfo | project AlertId | take 1');
		expect(r.body.Schema).toEqual([{ Name: 'AlertId', Type: 'String' }]);
		expect(r.body.Results).toHaveLength(1);
	});

	test('control API over HTTP: settings, fail, queries', async () => {
		const control = async (method: string, path: string, body?: unknown) => {
			const res = await fetch(`${emu.url}/_emulator/graph/hunting${path}`, { method, headers: { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
			return (await res.json()) as any;
		};
		expect((await control('POST', '', { maxRows: 2 })).maxRows).toBe(2);
		await control('POST', '/fail', { kind: 'timeout' });
		expect((await q('AlertInfo | take 1')).status).toBe(400);
		const { value, lastSeq } = await control('GET', `/queries?tenantId=${tenant}`);
		expect(value[value.length - 1]).toMatchObject({ status: 400, query: 'AlertInfo | take 1' });
		expect(lastSeq).toBe(emu.graph.hunting.lastSeq());
		expect((await control('POST', '', { reset: true })).maxRows).toBe(100_000);
	});
});
