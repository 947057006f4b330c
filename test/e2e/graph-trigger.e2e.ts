/**
 * The trigger on Microsoft Graph (the credential's Alerts API = Microsoft Graph Security API) in a PUBLISHED workflow
 * under `n8n start` (a real n8n 2.41.1), polling the emulator every minute:
 * with three published workflows, New Alert, Updated Alert (watching Status) and New Incident:
 *   publish → activation polls on /v1.0/security/alerts_v2 (nothing yet) → alerts A (two sharing a timestamp)
 *   → tick: New Alert runs once with exactly A, in Graph's shape, with the Defender dedupKey; Updated Alert runs
 *     nothing (a new alert's status is the creation value); New Incident runs once with exactly A's incidents
 *   → one alert's status changes → tick: Updated Alert runs once with it (changedFields status, previous New);
 *     New Alert's tick is one Graph request and no execution.
 * The engine tests (test/trigger/graph.test.ts) cover the rest: ties across pages, Tenants, the switch between the
 * APIs with the stream kept, a service that refuses $orderby, filters.
 */
import { fromTicks, toTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import {
	chain,
	createInstance,
	defenderNode,
	disposeInstance,
	emulatorCredential,
	getExecutions,
	importCredentials,
	importWorkflow,
	installPackage,
	noOpNode,
	packTarball,
	publish,
	sleep,
	start,
	startEmulatorProcess,
	TRIGGER_TYPE,
	waitFor,
	type ApiExecution,
	type EmulatorProcess,
	type N8nInstance,
} from './lib';
import { describeEntry, emulatorNow, emulatorRequests, logMark, triggerItems } from './lib/scenario';

const TRIGGER = 'New alerts via Graph';
const UPDATED = 'Status changes via Graph';
const INCIDENTS = 'New incidents via Graph';
const TICK_TIMEOUT_MS = 100_000;
const GRAPH_CREDENTIAL = { id: 'mdeGraphTrig1', name: 'Defender via Microsoft Graph (emulator)' };

describe('the trigger on Microsoft Graph, published, under n8n start', () => {
	let n8n: N8nInstance;
	let emulator: EmulatorProcess;
	let tenantId: string;
	let workflowId: string;
	let updatedId: string;
	let incidentWf: string;
	let added: string[] = [];
	let addedMark = 0;
	let addedIncidents: string[] = [];

	const pollsSince = async (mark: number) => await emulatorRequests(emulator, { kind: 'api', tenantId, sinceSeq: mark });
	const finished = async (wf = workflowId): Promise<ApiExecution[]> =>
		(await getExecutions(n8n, wf, { includeData: true })).filter((e) => e.status !== 'running' && e.status !== 'new').sort((a, b) => Number(a.id) - Number(b.id));

	beforeAll(async () => {
		const tgz = packTarball();
		emulator = await startEmulatorProcess({ noRateLimits: true });
		const { state } = emulator;
		tenantId = state.tenants[0].id;
		await emulator.control('POST', '/graph', { enabled: true });
		await emulator.control('POST', '/roles', { tenantId, clientId: state.clientId, roles: ['Alert.ReadWrite.All', 'Machine.Read.All', 'SecurityAlert.Read.All', 'SecurityIncident.Read.All'] });
		n8n = await createInstance({ name: 'graph-trigger' });
		await installPackage(n8n, await tgz);
		const cred = emulatorCredential(state, GRAPH_CREDENTIAL);
		Object.assign(cred.data, { alertsApi: 'graph', graphBaseUrl: state.url, graphScope: 'https://graph.microsoft.com/.default' });
		await importCredentials(n8n, [cred]);
		const trigger = defenderNode(
			TRIGGER,
			{ event: 'newAlert', pollTimes: { item: [{ mode: 'everyMinute' }] }, options: { startFrom: 'now', maxAlertsPerPoll: 200 } },
			{ type: TRIGGER_TYPE, credentialId: GRAPH_CREDENTIAL.id, credentialName: GRAPH_CREDENTIAL.name },
		);
		workflowId = await importWorkflow(n8n, chain('e2e: trigger on Microsoft Graph', [trigger, noOpNode()]));
		const updated = defenderNode(
			UPDATED,
			{ event: 'updatedAlert', watchFields: ['status'], pollTimes: { item: [{ mode: 'everyMinute' }] }, options: { startFrom: 'now' } },
			{ type: TRIGGER_TYPE, credentialId: GRAPH_CREDENTIAL.id, credentialName: GRAPH_CREDENTIAL.name },
		);
		updatedId = await importWorkflow(n8n, chain('e2e: updated alerts on Microsoft Graph', [updated, noOpNode()]));
		const incidents = defenderNode(
			INCIDENTS,
			{ event: 'newIncident', pollTimes: { item: [{ mode: 'everyMinute' }] }, startFrom: 'now' },
			{ type: TRIGGER_TYPE, typeVersion: 1.1, credentialId: GRAPH_CREDENTIAL.id, credentialName: GRAPH_CREDENTIAL.name },
		);
		incidentWf = await importWorkflow(n8n, chain('e2e: new incidents on Microsoft Graph', [incidents, noOpNode()]));
		await start(n8n);
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	it('activation reads Microsoft Graph alerts_v2 (never the Defender API) and starts no execution', async () => {
		const mark = await logMark(emulator);
		await publish(n8n, workflowId);
		await publish(n8n, updatedId);
		await publish(n8n, incidentWf);
		await waitFor(async () => (await pollsSince(mark)).length > 3, { timeoutMs: 30_000, what: 'the activation polls' });
		await sleep(2000);
		const requests = await pollsSince(mark);
		// the API's clock is learned once per API origin and process (its Date header), also when the three activate at once
		expect(requests.filter((r) => /desc$/.test(String(r.query?.$orderby)))).toHaveLength(1);
		const reads = requests.filter((r) => /asc$/.test(String(r.query?.$orderby))).map(describeEntry);
		expect(reads.some((r) => /^api GET \/v1\.0\/security\/alerts_v2\?.*createdDateTime ge .*→ 200/.test(r))).toBe(true);
		expect(reads.some((r) => /^api GET \/v1\.0\/security\/alerts_v2\?.*lastUpdateDateTime ge .*→ 200/.test(r))).toBe(true);
		expect(requests.filter((r) => String(r.path).startsWith('/api/'))).toEqual([]);
		expect(await finished()).toEqual([]);
		expect(reads.some((r) => /^api GET \/v1\.0\/security\/incidents\?.*createdDateTime ge .*→ 200/.test(r))).toBe(true);
		expect(await finished(updatedId)).toEqual([]);
		expect(await finished(incidentWf)).toEqual([]);
	});

	it('delivers alerts added while it runs (two sharing a timestamp) in the next tick, exactly once, in the Graph shape', async () => {
		const now = toTicks(await emulatorNow(emulator));
		const specs = [0n, 0n, 1n].map((d, k) => ({ alertCreationTime: fromTicks(now + d), title: `e2e graph trigger ${k}`, status: 'New' }));
		addedMark = await logMark(emulator);
		const created = (await emulator.control<{ value: Array<{ id: string; incidentId: number | string }> }>('POST', `/tenants/${tenantId}/alerts`, specs)).value;
		added = created.map((a) => a.id);
		addedIncidents = [...new Set(created.map((a) => String(a.incidentId)))];
		const list = await waitFor(
			async () => {
				const l = await finished();
				return l.length > 0 ? l : undefined;
			},
			{ timeoutMs: TICK_TIMEOUT_MS, intervalMs: 1000, what: 'the tick after the alerts' },
		);
		expect(list).toHaveLength(1);
		expect(list[0].status).toBe('success');
		const items = triggerItems(list[0], TRIGGER);
		expect(items.map((i) => String(i.providerAlertId)).sort()).toEqual([...added].sort());
		for (const item of items) {
			expect(item).toMatchObject({ event: 'newAlert', tenantId, serviceSource: 'microsoftDefenderForEndpoint', dedupKey: `${tenantId}:${String(item.providerAlertId)}` });
			expect(item).toHaveProperty('createdDateTime');
			expect(item).not.toHaveProperty('alertCreationTime');
		}
	});

	it('New Incident runs once with exactly the incidents of those alerts', async () => {
		const list = await waitFor(
			async () => {
				const l = await finished(incidentWf);
				return l.length > 0 ? l : undefined;
			},
			{ timeoutMs: TICK_TIMEOUT_MS, intervalMs: 1000, what: 'the New Incident tick after the alerts' },
		);
		expect(list).toHaveLength(1);
		const items = triggerItems(list[0], INCIDENTS);
		expect(items.map((i) => String(i.id)).sort()).toEqual([...addedIncidents].sort());
		for (const item of items) expect(item).toMatchObject({ event: 'newIncident', tenantId, dedupKey: `${tenantId}:incident:${String(item.id)}` });
	});

	it('a status change: Updated Alert runs once with it; New Alert\'s tick is one Graph request and no execution', async () => {
		// Updated Alert ran nothing for the new alerts: New is the creation value of the watched Status
		expect(await finished(updatedId)).toEqual([]);
		const target = added[0];
		// The workflows tick at their own random second: let Updated Alert read the new alerts once (their first
		// version) before the change, so the change is compared with what it saw
		await waitFor(async () => (await pollsSince(addedMark)).some((r) => r.path === '/v1.0/security/alerts_v2' && String(r.query?.$filter).includes('lastUpdateDateTime ge')), {
			timeoutMs: TICK_TIMEOUT_MS,
			intervalMs: 500,
			what: 'an Updated Alert tick after the alerts were added',
		});
		await sleep(2000);
		await emulator.control('PATCH', `/tenants/${tenantId}/alerts/${target}`, { status: 'InProgress' });
		const mark = await logMark(emulator);
		const list = await waitFor(
			async () => {
				const l = await finished(updatedId);
				return l.length > 0 ? l : undefined;
			},
			{ timeoutMs: TICK_TIMEOUT_MS, intervalMs: 1000, what: 'the Updated Alert tick after the change' },
		);
		await sleep(5000);
		expect(list).toHaveLength(1);
		const items = triggerItems(list[0], UPDATED);
		expect(items.map((i) => String(i.providerAlertId))).toEqual([target]);
		expect(items[0]).toMatchObject({ event: 'updatedAlert', status: 'inProgress', changedFields: ['status'], previous: { status: 'New' }, previousKnown: true });
		// New Alert: each of its ticks since the change is one request (the two workflows tick at their own random
		// second), and no second execution
		const newReads = async () => (await pollsSince(mark)).map(describeEntry).filter((r) => r.includes('/security/alerts_v2?') && r.includes('createdDateTime'));
		await waitFor(async () => (await newReads()).length > 0, { timeoutMs: TICK_TIMEOUT_MS, intervalMs: 500, what: 'a New Alert tick after the change' });
		await sleep(3000);
		const reads = await newReads();
		for (const r of reads) expect(r).toMatch(/^api GET \/v1\.0\/security\/alerts_v2\?.*createdDateTime ge .*→ 200/);
		expect(reads.length).toBeLessThanOrEqual(2);
		expect(await finished()).toHaveLength(1);
	});
});
