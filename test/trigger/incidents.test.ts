/**
 * New Incident / Updated Incident (Microsoft Graph security incidents) through n8n-core's PollContext against the
 * emulator, on the same exactly-once poller as alerts (trigger/incidentStream.pure.ts): priming, each incident once,
 * ties across pages of 50 via $skip, each version of an updated incident once, an idle poll's one request, Incident
 * Filters, a service that refuses $orderby, incident and alert streams side by side in one node's static data, and a
 * tenant without SecurityIncident.Read.All.
 */
import { START_MARGIN_MS } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/orchestrator.pure';
import { MSSP_ROLES } from '../emulator';
import { resetBetweenTests } from '../harness';
import { createTriggerEnv, expectNoDuplicates, sleepMs, type TriggerEnv } from './env';

let env: TriggerEnv;
let cred: ReturnType<TriggerEnv['addCredential']>;
let nextIncident = 800_000;

beforeAll(async () => {
	env = await createTriggerEnv({
		emulator: { graph: true },
		scenario: { tenants: 2, alertsPerTenant: 10, roles: [...MSSP_ROLES, 'SecurityAlert.Read.All', 'SecurityIncident.ReadWrite.All'] },
	});
	// Alerts API = Defender for Endpoint API (as saved credentials are): incidents use Graph with the same app anyway
	cred = env.addCredential('incident-cred', { graphBaseUrl: env.emu.url, graphScope: 'https://graph.microsoft.com/.default' });
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => {
	resetBetweenTests(env.emu);
	env.emu.graph.incidents.configure({ orderBy: true, nextLink: 'skip' });
	env.emu.advanceClock(START_MARGIN_MS + 1000);
});

const ids = (items: Array<Record<string, unknown>>) => items.map((i) => String(i.id));

/** New incidents: `sizes[i]` alerts in the i-th new incident, all created now (or at `at`). */
function addIncidents(sizes: number[], at?: string, tenant = env.tenantId): string[] {
	const out: string[] = [];
	for (const size of sizes) {
		const id = ++nextIncident;
		env.emu.addAlerts(tenant, Array.from({ length: size }, () => ({ incidentId: id, ...(at ? { alertCreationTime: at } : {}) })));
		out.push(String(id));
	}
	return out;
}

test('New Incident: priming, each incident once (not again when it gains an alert), Graph shape, its own dedupKey; idle = ONE request', async () => {
	const d = env.deploy({ event: 'newIncident' }, { cred });
	const first = await d.poll();
	expect(first.raw).toBeNull();
	expect(first.api.every((r) => r.path === '/v1.0/security/incidents')).toBe(true);

	const added = addIncidents([2, 1]);
	const p1 = await d.poll();
	expect(ids(p1.alerts)).toEqual(added);
	for (const i of p1.alerts) {
		expect(i).toMatchObject({ event: 'newIncident', tenantId: env.tenantId, dedupKey: `${env.tenantId}:incident:${String(i.id)}` });
		expect(i).toHaveProperty('displayName');
		expect(String(i.portalUrl)).toContain(String(i.id));
	}
	const q = p1.api[p1.api.length - 1];
	expect(Number(q.query.$top)).toBeLessThanOrEqual(50);
	expect(q.query.$orderby).toBe('createdDateTime asc');
	expect(String(q.query.$filter)).toMatch(/^createdDateTime ge \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);

	// the first incident gains an alert: it is not new
	env.emu.advanceClock(1000);
	env.emu.addAlerts(env.tenantId, [{ incidentId: Number(added[0]) }]);
	const p2 = await d.poll();
	expect(p2.alerts).toEqual([]);
	const idle = await d.poll();
	expect(idle.raw).toBeNull();
	expect(idle.api).toHaveLength(1);
	expect(idle.api.filter((r) => r.path.startsWith('/api/'))).toEqual([]);
});

test('120 incidents created at ONE timestamp, Max per Poll 50: every one exactly once over 3 polls, pages of 50 via $skip', async () => {
	const d = env.deploy({ event: 'newIncident', options: { maxAlertsPerPoll: 50 } }, { cred });
	expect((await d.poll()).raw).toBeNull();
	await sleepMs(3);
	const added = addIncidents(Array.from({ length: 120 }, () => 1), env.emu.now());
	const { alerts, polls } = await d.drain(10);
	expect(polls.map((p) => p.alerts.length)).toEqual([50, 50, 20, 0]);
	expectNoDuplicates(ids(alerts));
	expect(new Set(ids(alerts))).toEqual(new Set(added));
	const all = polls.flatMap((p) => p.api);
	expect(all.every((r) => Number(r.query.$top) <= 50)).toBe(true);
	expect(all.some((r) => r.query.$skip !== undefined)).toBe(true);
});

test('Updated Incident: each new version once (a status change, then an owner change); an idle poll is one request', async () => {
	const [id] = addIncidents([1]);
	env.emu.advanceClock(START_MARGIN_MS + 1000); // older than Start From = Now's margin
	const d = env.deploy({ event: 'updatedIncident' }, { cred });
	expect((await d.poll()).raw).toBeNull();
	env.emu.advanceClock(1000);
	env.emu.graph.incidents.set(env.tenantId, id, { status: 'resolved' });
	const p1 = await d.poll();
	expect(ids(p1.alerts)).toEqual([id]);
	expect(p1.alerts[0]).toMatchObject({ event: 'updatedIncident', status: 'resolved' });
	expect(p1.api[p1.api.length - 1].query.$orderby).toBe('lastUpdateDateTime asc');
	const idle = await d.poll();
	expect(idle.raw).toBeNull();
	expect(idle.api).toHaveLength(1);
	env.emu.advanceClock(1000);
	env.emu.graph.incidents.set(env.tenantId, id, { assignedTo: 'soc@contoso.com' });
	const p2 = await d.poll();
	expect(ids(p2.alerts)).toEqual([id]);
	expect(p2.alerts[0].assignedTo).toBe('soc@contoso.com');
	expect(p2.alerts[0].lastUpdateDateTime).not.toBe(p1.alerts[0].lastUpdateDateTime);
});

test('Incident Filters (Status, Severity) go to Graph; only matching incidents are delivered', async () => {
	const d = env.deploy({ event: 'newIncident', incidentFilters: { status: ['active'], severity: ['high'] } }, { cred });
	expect((await d.poll()).raw).toBeNull();
	const high = env.emu.addAlerts(env.tenantId, [{ incidentId: ++nextIncident, severity: 'High' }]);
	env.emu.addAlerts(env.tenantId, [{ incidentId: ++nextIncident, severity: 'Low' }]);
	env.emu.addAlerts(env.tenantId, [{ incidentId: ++nextIncident, severity: 'High', status: 'Resolved' }]);
	const p = await d.poll();
	expect(ids(p.alerts)).toEqual([String(high[0].incidentId)]);
	const filter = String(p.api[p.api.length - 1].query.$filter);
	expect(filter).toContain("status eq 'active'");
	expect(filter).toContain("severity eq 'high'");
});

test('an Incident Filters value Graph does not have stops the poll before any request', async () => {
	const d = env.deploy({ event: 'newIncident', incidentFilters: { status: ['New'] } }, { cred });
	const error = await d.pollError();
	expect(error.message).toMatch(/Incident Status/);
	expect(env.emu.requests({ kind: 'api' })).toEqual([]);
});

test('a service that refuses $orderby on incidents: the window is read and sorted here, each incident once, in creation order', async () => {
	env.emu.graph.incidents.configure({ orderBy: false });
	const d = env.deploy({ event: 'newIncident', options: { maxAlertsPerPoll: 40 } }, { cred });
	expect((await d.poll()).raw).toBeNull();
	const batch1 = addIncidents(Array.from({ length: 30 }, () => 1));
	env.emu.advanceClock(1000);
	const batch2 = addIncidents(Array.from({ length: 30 }, () => 1));
	const { alerts } = await d.drain(10);
	expectNoDuplicates(ids(alerts));
	expect(new Set(ids(alerts))).toEqual(new Set([...batch1, ...batch2]));
	const times = alerts.map((a) => String(a.createdDateTime));
	expect([...times].sort()).toEqual(times);
});

test('incident and alert streams live side by side: switching Event keeps both positions', async () => {
	const workflowId = 'wf-incident-alert';
	const d = env.deploy({ event: 'newAlert' }, { workflowId, cred });
	expect((await d.poll()).raw).toBeNull();
	const a1 = env.emu.addAlerts(env.tenantId, 2);
	expect((await d.poll()).alerts.map((a) => a.id)).toEqual(a1.map((a) => a.id));

	env.emu.advanceClock(START_MARGIN_MS + 1000);
	d.restart({ event: 'newIncident' });
	expect((await d.poll()).raw).toBeNull(); // primes the incident stream (the incidents of the alerts above are older)
	const inc = addIncidents([1]);
	const p = await d.poll();
	expect(ids(p.alerts)).toEqual(inc);
	const state = d.state() as { streams?: Record<string, unknown>; incidents?: { streams?: Record<string, unknown> } };
	expect(Object.keys(state.streams ?? {})).toEqual([`created:${env.tenantId}`]);
	expect(Object.keys(state.incidents?.streams ?? {})).toEqual([`created:${env.tenantId}`]);

	// back to New Alert: its stream continues where it was (the alerts of the incident above are new alerts)
	d.restart({ event: 'newAlert' });
	const back = await d.poll();
	expect(back.alerts.map((a) => String(a.incidentId))).toEqual(inc);
	expect(back.failures).toEqual([]);
	expect((d.state() as { incidents?: unknown }).incidents).toBeDefined();
});

test('a customer tenant without SecurityIncident.Read.All goes to Tenant Failures with the permission named; the others are polled', async () => {
	const [t0, t1] = env.scenario.tenants.map((t) => t.id);
	env.emu.setRoles(t1, env.scenario.clientId, [...MSSP_ROLES, 'SecurityAlert.Read.All']);
	try {
		const d = env.deploy({ event: 'newIncident', tenants: `${t0}=Contoso\n${t1}=Fabrikam` }, { cred });
		const first = await d.poll();
		expect(first.failures).toHaveLength(1);
		expect(first.failures[0]).toMatchObject({ tenantId: t1, customerLabel: 'Fabrikam', httpCode: 403 });
		expect(`${String(first.failures[0].error)} ${String(first.failures[0].description)}`).toMatch(/SecurityIncident\.Read\.All/);
		const inc = addIncidents([1], undefined, t0);
		const p = await d.poll();
		expect(ids(p.alerts)).toEqual(inc);
	} finally {
		env.emu.setRoles(t1, env.scenario.clientId, [...MSSP_ROLES, 'SecurityAlert.Read.All', 'SecurityIncident.ReadWrite.All']);
	}
});

test('Fetch test event: the newest incident', async () => {
	const [id] = addIncidents([1]);
	const d = env.deploy({ event: 'newIncident' }, { cred });
	const { items, error } = await d.manual();
	expect(error).toBeUndefined();
	expect(ids(items)).toEqual([id]);
	expect(items[0].event).toBe('newIncident');
});
