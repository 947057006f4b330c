/**
 * The trigger on Microsoft Graph security alerts_v2 (the credential's Alerts API = Microsoft Graph), through
 * n8n-core's PollContext against the emulator: the same exactly-once poller as on the Defender for Endpoint API
 * (trigger/graphStream.pure.ts). Covers priming and the idle poll's one request, ties across pages via $skip, Updated
 * Alert with watched fields in the package's spelling, multi-tenant, a credential switched between the APIs with the
 * stream kept (no duplicate, no loss; Graph ids equal to or distinct from the Defender ids), a service that refuses
 * $orderby (undocumented for alerts_v2), Category applied at delivery without stalling, and a Detection Source Graph
 * does not know (stops before any request).
 */
import { START_MARGIN_MS } from '../../nodes/MicrosoftDefenderForEndpoint/trigger/orchestrator.pure';
import { MSSP_ROLES } from '../emulator';
import { resetBetweenTests } from '../harness';
import { createTriggerEnv, expectNoDuplicates, sleepMs, type TriggerEnv } from './env';

const GRAPH_SCOPE = 'https://graph.microsoft.com/.default';
let env: TriggerEnv;
let graphCred: ReturnType<TriggerEnv['addCredential']>;

beforeAll(async () => {
	env = await createTriggerEnv({
		emulator: { graph: true },
		scenario: { tenants: 2, alertsPerTenant: 20, roles: [...MSSP_ROLES, 'SecurityAlert.ReadWrite.All', 'SecurityIncident.Read.All'] },
	});
	graphCred = env.addCredential('graph-cred', { alertsApi: 'graph', graphBaseUrl: env.emu.url, graphScope: GRAPH_SCOPE });
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => {
	resetBetweenTests(env.emu);
	env.emu.graph.configure({ orderBy: true, defaultOrder: 'stored', idStyle: 'same', nextLink: 'skip', extraFilterable: [] });
	env.emu.advanceClock(START_MARGIN_MS + 1000);
});

const graphRequests = (api: Array<{ path: string }>) => api.filter((r) => r.path.startsWith('/v1.0/'));
/** The Defender alert id of each emitted Graph alert (its providerAlertId). */
const defenderIds = (alerts: Array<Record<string, unknown>>) => alerts.map((a) => String(a.providerAlertId));

async function instant(): Promise<string> {
	await sleepMs(3);
	return env.emu.now();
}

test('New Alert on Graph: priming, each alert once in the Graph shape with the Defender dedupKey, an idle poll is ONE request', async () => {
	const d = env.deploy({ event: 'newAlert' }, { cred: graphCred });
	const first = await d.poll();
	expect(first.raw).toBeNull();
	expect(first.api.every((r) => r.path === '/v1.0/security/alerts_v2')).toBe(true);
	expect(first.api.map((r) => r.query.$orderby)).toEqual(['createdDateTime desc', 'createdDateTime asc']);

	const added = env.emu.addAlerts(env.tenantId, 3);
	const p1 = await d.poll();
	expect(defenderIds(p1.alerts)).toEqual(added.map((a) => a.id));
	for (const a of p1.alerts) {
		// raw mode is the API's own shape; the decoration is the action node's
		expect(a).toHaveProperty('createdDateTime');
		expect(a).not.toHaveProperty('alertCreationTime');
		expect(a.event).toBe('newAlert');
		expect(a.serviceSource).toBe('microsoftDefenderForEndpoint');
		expect(a.dedupKey).toBe(`${env.tenantId}:${a.providerAlertId}`);
		expect(a.tenantId).toBe(env.tenantId);
	}

	const idle = await d.poll();
	expect(idle.raw).toBeNull();
	expect(idle.api).toHaveLength(1);
	expect(idle.tokens).toHaveLength(0);
	const q = idle.api[0];
	expect(q.path).toBe('/v1.0/security/alerts_v2');
	expect(q.query.$orderby).toBe('createdDateTime asc');
	expect(String(q.query.$filter)).toMatch(/serviceSource eq 'microsoftDefenderForEndpoint' and createdDateTime ge \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
	// none of the Defender API's paths was used
	expect(idle.api.filter((r) => r.path.startsWith('/api/'))).toEqual([]);
});

test.each(['skip', 'skiptoken', 'none'] as const)('250 alerts at ONE timestamp, page size 100: every one exactly once over 3 polls via $skip (nextLink form: %s, not used)', async (nextLink) => {
	env.emu.graph.configure({ nextLink });
	const d = env.deploy({ event: 'newAlert', options: { maxAlertsPerPoll: 100, pageSize: 100 } }, { cred: graphCred });
	expect((await d.poll()).raw).toBeNull();
	const t = await instant();
	const added = env.emu.addAlerts(env.tenantId, Array.from({ length: 250 }, () => ({ alertCreationTime: t })));
	const { alerts, polls } = await d.drain(10);
	expect(polls.map((p) => p.alerts.length)).toEqual([100, 100, 50, 0]);
	expect(new Set(defenderIds(alerts))).toEqual(new Set(added.map((a) => a.id)));
	expectNoDuplicates(defenderIds(alerts));
	expect(polls.flatMap((p) => p.api).some((r) => r.query.$skip !== undefined)).toBe(true);
});

test('Updated Alert watching status on Graph: a change is emitted once with changedFields in the package spelling; an unwatched one is not', async () => {
	const d = env.deploy({ event: 'updatedAlert', watchFields: ['status'] }, { cred: graphCred });
	expect((await d.poll()).raw).toBeNull();
	const [a] = env.emu.addAlerts(env.tenantId, 1);
	// a brand-new alert: status New equals the creation default, so it is not a watched change
	const p0 = await d.poll();
	expect(p0.alerts).toEqual([]);
	env.emu.advanceClock(1000);
	env.emu.updateAlert(env.tenantId, a.id, { status: 'InProgress' });
	const p1 = await d.poll();
	expect(defenderIds(p1.alerts)).toEqual([a.id]);
	expect(p1.alerts[0].status).toBe('inProgress');
	expect(p1.alerts[0].event).toBe('updatedAlert');
	expect(p1.alerts[0].changedFields).toEqual(['status']);
	expect(p1.alerts[0].previous).toEqual({ status: 'New' });
	expect(p1.alerts[0].previousKnown).toBe(true);
	env.emu.advanceClock(1000);
	env.emu.updateAlert(env.tenantId, a.id, { assignedTo: 'analyst@contoso.com' });
	const p2 = await d.poll();
	expect(p2.alerts).toEqual([]);
	expect(graphRequests(p2.api).length).toBe(p2.api.length);
});

test('Tenants on Graph: each customer tenant its own stream, alerts carry their tenant', async () => {
	const [t0, t1] = env.scenario.tenants.map((t) => t.id);
	const d = env.deploy({ event: 'newAlert', tenants: `${t0}=Contoso\n${t1}=Fabrikam` }, { cred: graphCred });
	expect((await d.poll()).raw).toBeNull();
	const a0 = env.emu.addAlerts(t0, 2);
	const a1 = env.emu.addAlerts(t1, 3);
	const p = await d.poll();
	expect(p.failures).toEqual([]);
	const byTenant = (tid: string) => p.alerts.filter((a) => a.tenantId === tid);
	expect(defenderIds(byTenant(t0))).toEqual(a0.map((a) => a.id));
	expect(defenderIds(byTenant(t1))).toEqual(a1.map((a) => a.id));
	expect(byTenant(t1).every((a) => a.customerLabel === 'Fabrikam')).toBe(true);
	expect(Object.keys(d.state().streams ?? {}).sort()).toEqual([`created:${t0}`, `created:${t1}`].sort());
});

describe.each(['same', 'distinct'] as const)('switching the credential between the APIs keeps the stream (Graph ids: %s)', (idStyle) => {
	test('Defender → Graph → Defender: nothing twice, nothing lost, alerts inside the overlap window included', async () => {
		env.emu.graph.configure({ idStyle });
		const workflowId = `wf-switch-${idStyle}`;
		const onDefender = env.deploy({ event: 'newAlert' }, { workflowId });
		expect((await onDefender.poll()).raw).toBeNull();
		const before = env.emu.addAlerts(env.tenantId, 4);
		const p1 = await onDefender.poll();
		expect(p1.alerts.map((a) => a.id)).toEqual(before.map((a) => a.id));

		// The user sets the credential's Alerts API to Microsoft Graph: same workflow, same saved static data.
		const onGraph = env.deploy({ event: 'newAlert' }, { workflowId, cred: graphCred, staticData: onDefender.saved });
		const during = env.emu.addAlerts(env.tenantId, 3);
		const p2 = await onGraph.poll();
		// the 4 alerts already delivered are in the window Graph reads again, and are recognised
		expect(defenderIds(p2.alerts)).toEqual(during.map((a) => a.id));
		if (idStyle === 'distinct') expect(p2.alerts.every((a) => a.id !== a.providerAlertId)).toBe(true);

		// … and back
		const back = env.deploy({ event: 'newAlert' }, { workflowId, staticData: onGraph.saved });
		const after = env.emu.addAlerts(env.tenantId, 2);
		const p3 = await back.poll();
		expect(p3.alerts.map((a) => a.id)).toEqual(after.map((a) => a.id));
		expectNoDuplicates([...p1.alerts.map((a) => String(a.id)), ...defenderIds(p2.alerts), ...p3.alerts.map((a) => String(a.id))]);
	});
});

test.each(['newestFirst', 'hashed'] as const)('a service that refuses $orderby (its own order: %s): the window is read and sorted here, still exactly once across ties and pages', async (defaultOrder) => {
	env.emu.graph.configure({ orderBy: false, defaultOrder, nextLink: defaultOrder === 'hashed' ? 'skiptoken' : 'skip' });
	const d = env.deploy({ event: 'newAlert', options: { maxAlertsPerPoll: 60, pageSize: 50 } }, { cred: graphCred });
	expect((await d.poll()).raw).toBeNull();
	const t = await instant();
	const tied = env.emu.addAlerts(env.tenantId, Array.from({ length: 70 }, () => ({ alertCreationTime: t })));
	env.emu.advanceClock(1000);
	const later = env.emu.addAlerts(env.tenantId, 40);
	const { alerts, polls } = await d.drain(10);
	expectNoDuplicates(defenderIds(alerts));
	expect(new Set(defenderIds(alerts))).toEqual(new Set([...tied, ...later].map((a) => a.id)));
	expect(polls[0].alerts).toHaveLength(60);
	// the order of delivery is ascending by createdDateTime, as with a service that sorts
	const times = alerts.map((a) => String(a.createdDateTime));
	expect([...times].sort()).toEqual(times);
	// it asked once with $orderby, was refused, and this process reads that API without it from then on
	const all = polls.flatMap((p) => p.api);
	expect(all.filter((r) => r.status === 400 && r.query.$orderby !== undefined)).toHaveLength(0); // learned at priming
	expect(all.filter((r) => r.status === 200).every((r) => r.query.$orderby === undefined)).toBe(true);
	// per poll: the whole window, read once (pages of the API's size), not once per page of the poller
	for (const p of polls) expect(p.api.length).toBeLessThanOrEqual(3);
});

test('Category filter on Graph is applied at delivery: a page full of other categories does not stall the stream', async () => {
	const d = env.deploy({ event: 'newAlert', filters: { category: ['Ransomware'] }, options: { pageSize: 100, maxAlertsPerPoll: 500 } }, { cred: graphCred });
	expect((await d.poll()).raw).toBeNull();
	env.emu.addAlerts(env.tenantId, Array.from({ length: 150 }, () => ({ category: 'Execution' })));
	env.emu.advanceClock(1000);
	const wanted = env.emu.addAlerts(env.tenantId, Array.from({ length: 5 }, () => ({ category: 'Ransomware' })));
	const p = await d.poll();
	expect(defenderIds(p.alerts)).toEqual(wanted.map((a) => a.id));
	// category is not in the Graph $filter (not documented as filterable); severity/status would be
	expect(p.api.every((r) => !String(r.query.$filter ?? '').includes('category'))).toBe(true);
	// idle: the 155 alerts of the window are recognised (2 pages of 100), nothing is delivered again
	const idle = await d.poll();
	expect(idle.raw).toBeNull();
	expect(idle.api.length).toBeLessThanOrEqual(2);
});

test('Severity and Status filters go to Graph in its spelling', async () => {
	const d = env.deploy({ event: 'newAlert', filters: { severity: ['High'], status: ['New', 'InProgress'] } }, { cred: graphCred });
	expect((await d.poll()).raw).toBeNull();
	const high = env.emu.addAlerts(env.tenantId, [{ severity: 'High' }, { severity: 'Low' }, { severity: 'High', status: 'Resolved' }]);
	const p = await d.poll();
	expect(defenderIds(p.alerts)).toEqual([high[0].id]);
	const filter = String(p.api[p.api.length - 1].query.$filter);
	expect(filter).toContain("severity eq 'high'");
	expect(filter).toContain("status eq 'new'");
	expect(filter).toContain("status eq 'inProgress'");
});

test('a Detection Source Graph does not know stops the poll before any request, with the option that has it', async () => {
	const d = env.deploy({ event: 'newAlert', filters: { detectionSource: ['ThirdPartySensors'] } }, { cred: graphCred });
	const error = await d.pollError();
	expect(error.message).toMatch(/Detection Source "ThirdPartySensors" has no Microsoft Graph equivalent/);
	expect(env.emu.requests({ kind: 'api' })).toEqual([]);
});

test('Fetch test event on Graph: the newest alert in the Graph shape', async () => {
	const [a] = env.emu.addAlerts(env.tenantId, 1);
	const d = env.deploy({ event: 'newAlert' }, { cred: graphCred });
	const { items, error } = await d.manual();
	expect(error).toBeUndefined();
	expect(items).toHaveLength(1);
	expect(items[0].providerAlertId).toBe(a.id);
	expect(items[0]).toHaveProperty('createdDateTime');
});

test('Simplify: the same trigger on the Defender API and on Graph outputs the same items (a workflow survives the switch)', async () => {
	const onDefender = env.deploy({ event: 'updatedAlert', watchFields: ['status'], options: { simplify: true } });
	const onGraph = env.deploy({ event: 'updatedAlert', watchFields: ['status'], options: { simplify: true } }, { cred: graphCred });
	expect((await onDefender.poll()).raw).toBeNull();
	expect((await onGraph.poll()).raw).toBeNull();
	const [a, b] = env.emu.addAlerts(env.tenantId, [{ severity: 'High' }, { severity: 'Low' }]);
	env.emu.advanceClock(1000);
	env.emu.updateAlert(env.tenantId, a.id, { status: 'InProgress', classification: 'TruePositive' });
	env.emu.updateAlert(env.tenantId, b.id, { status: 'Resolved' });
	const d = await onDefender.poll();
	const g = await onGraph.poll();
	expect(d.alerts.map((x) => x.id)).toEqual([a.id, b.id]);
	expect(g.alerts).toEqual(d.alerts);
	// created and changed between two polls: compared with the creation values, the old ones never observed
	expect(d.alerts[0]).toMatchObject({ event: 'updatedAlert', status: 'InProgress', classification: 'TruePositive', changedFields: ['status'], previous: {}, previousKnown: false });
	expect(Object.keys(d.alerts[0])).toContain('dedupKey');
	expect(Object.keys(d.alerts[0])).not.toContain('createdDateTime');
});

test('triggers priming at the same time learn the API clock with ONE request between them', async () => {
	const a = env.deploy({ event: 'newAlert' }, { cred: graphCred });
	const b = env.deploy({ event: 'updatedAlert' }, { cred: graphCred });
	const c = env.deploy({ event: 'newIncident' }, { cred: graphCred });
	const since = env.emu.lastSeq();
	const polls = await Promise.all([a.poll(), b.poll(), c.poll()]);
	expect(polls.map((p) => p.raw)).toEqual([null, null, null]);
	const probes = env.emu.requests({ kind: 'api', sinceSeq: since }).filter((r) => /desc$/.test(String(r.query.$orderby)));
	expect(probes).toHaveLength(1);
});
