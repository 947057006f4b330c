/**
 * The Incident resource (Microsoft Graph security incidents) in a real n8n 2.41.1 against the emulator (Graph enabled,
 * Contoso consented to SecurityIncident.ReadWrite.All, documented rate limits on), one instance, one `n8n execute`:
 * Get Many past Graph's 50 per page, Get with Expand Alerts, Update (status, classification, custom tags added to the
 * existing ones) and Add Comment — each once — with a credential whose Alerts API is Microsoft Graph Security API.
 */
import {
	createInstance,
	defenderNode,
	disposeInstance,
	emulatorCredential,
	execute,
	importCredentials,
	importWorkflow,
	installPackage,
	packTarball,
	startEmulatorProcess,
	type EmulatorProcess,
	type ExecuteResult,
	type N8nInstance,
} from './lib';
import { describeEntry, emulatorRequests, fanOutWorkflow, jsonOf, logMark, type LogEntry } from './lib/scenario';

interface Incident {
	id: string;
	status: string;
	customTags: string[];
	comments: Array<{ comment: string }>;
	[key: string]: unknown;
}

const CREDENTIAL = { id: 'mdeIncidentCred1', name: 'Defender incidents via Microsoft Graph (emulator)' };
const INCIDENTS = '/v1.0/security/incidents';

describe('the Incident resource in a real n8n', () => {
	let n8n: N8nInstance;
	let emulator: EmulatorProcess;
	let contoso: string;
	let run: ExecuteResult;
	let api: LogEntry[];
	let incidents: Incident[];
	let got: Incident;
	let updated: Incident;
	let commented: Incident;

	const listIncidents = async (): Promise<Incident[]> => (await emulator.control<{ value: Incident[] }>('GET', `/graph/incidents/${contoso}`)).value;

	beforeAll(async () => {
		const tgz = packTarball();
		emulator = await startEmulatorProcess({});
		const { state } = emulator;
		contoso = state.tenants[0].id;
		await emulator.control('POST', '/graph', { enabled: true });
		await emulator.control('POST', '/roles', { tenantId: contoso, clientId: state.clientId, roles: ['Alert.ReadWrite.All', 'SecurityAlert.ReadWrite.All', 'SecurityIncident.ReadWrite.All'] });
		// more incidents than one Graph page (every new alert opens its own incident)
		await emulator.control('POST', `/tenants/${contoso}/alerts`, { count: 40 });
		incidents = await listIncidents();
		[got, updated, commented] = incidents.slice(0, 3);
		await emulator.control('POST', `/graph/incidents/${contoso}/${updated.id}`, { customTags: ['existing'] });

		const cred = emulatorCredential(state, CREDENTIAL);
		Object.assign(cred.data, { alertsApi: 'graph', graphBaseUrl: state.url, graphScope: 'https://graph.microsoft.com/.default' });

		n8n = await createInstance({ name: 'incidents' });
		await installPackage(n8n, await tgz);
		await importCredentials(n8n, [cred]);

		const node = (name: string, parameters: Record<string, unknown>) => defenderNode(name, parameters as never, { credentialId: CREDENTIAL.id, credentialName: CREDENTIAL.name });
		const locator = (id: string) => ({ __rl: true, mode: 'id', value: id });
		const workflow = fanOutWorkflow('e2e: Incident resource', [
			[node('Get Many', { resource: 'incident', operation: 'getAll', limit: 60, filters: { createdAfter: '2000-01-01T00:00:00Z' } })],
			[node('Get', { resource: 'incident', operation: 'get', incidentId: locator(got.id), expandAlerts: true, simplify: true })],
			[
				node('Update', {
					resource: 'incident',
					operation: 'update',
					incidentId: locator(updated.id),
					updateFields: { status: 'resolved', classification: 'truePositive', determination: 'malware', customTags: 'e2e, ticket-42', customTagsMode: 'add' },
				}),
			],
			[node('Add Comment', { resource: 'incident', operation: 'addComment', incidentId: locator(commented.id), comment: 'Ticket INC-42 opened (incident, via Microsoft Graph)' })],
		]);
		const id = await importWorkflow(n8n, workflow);
		const mark = await logMark(emulator);
		run = await execute(n8n, id);
		api = (await emulatorRequests(emulator, { sinceSeq: mark })).filter((e) => e.kind === 'api');
		console.log(`[e2e] Incident run: ${run.status} in ${run.durationMs} ms; ${api.length} API requests: ${api.map(describeEntry).join(' | ')}`);
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	it('runs without a workflow error; every request went to Graph incidents, none failed', () => {
		expect(run.errorMessage).toBeUndefined();
		expect(run.ok).toBe(true);
		expect(api.filter((e) => !e.path.startsWith(INCIDENTS)).map(describeEntry)).toEqual([]);
		expect(api.filter((e) => e.status >= 400).map(describeEntry)).toEqual([]);
	});

	it('Get Many: 60 simplified incidents over two Graph pages of at most 50, with the filter sent', () => {
		const items = jsonOf(run.run, 'Get Many');
		expect(items).toHaveLength(60);
		expect(items.map((i) => i.id)).toEqual(incidents.slice(0, 60).map((i) => i.id));
		for (const item of items) {
			expect(Object.keys(item)).toEqual(['id', 'displayName', 'severity', 'status', 'classification', 'determination', 'assignedTo', 'createdDateTime', 'lastUpdateDateTime', 'incidentWebUrl', 'alertCount', 'alertIds', 'customTags', 'tenantId', 'dedupKey']);
			expect(item.dedupKey).toBe(`${contoso}:incident:${String(item.id)}`);
		}
		const lists = api.filter((e) => e.method === 'GET' && e.path === INCIDENTS);
		expect(lists).toHaveLength(2);
		for (const e of lists) {
			expect(Number(e.query.$top)).toBeLessThanOrEqual(50);
			expect(e.query.$filter).toBe('createdDateTime ge 2000-01-01T00:00:00.0000000Z');
		}
	});

	it('Get: the incident with its alerts (alertCount, alertIds)', () => {
		const [item] = jsonOf(run.run, 'Get');
		expect(item).toMatchObject({ id: got.id, tenantId: contoso, alertCount: expect.any(Number) });
		expect((item.alertIds as string[]).length).toBe(item.alertCount);
		expect(api.filter((e) => e.path === `${INCIDENTS}/${got.id}`).map((e) => e.query)).toEqual([{ $expand: 'alerts' }]);
	});

	it('Update: the tags are added to the existing ones (read, then one PATCH); the emulator shows the change', async () => {
		const [item] = jsonOf(run.run, 'Update');
		expect(item).toMatchObject({ id: updated.id, status: 'resolved', classification: 'truePositive', determination: 'malware', customTags: ['existing', 'e2e', 'ticket-42'] });
		expect(api.filter((e) => e.path === `${INCIDENTS}/${updated.id}`).map((e) => e.method)).toEqual(['GET', 'PATCH']);
		expect((await listIncidents()).find((i) => i.id === updated.id)).toMatchObject({ status: 'resolved', customTags: ['existing', 'e2e', 'ticket-42'] });
	});

	it('Add Comment: POST …/comments once; the incident carries the comment', async () => {
		const [item] = jsonOf(run.run, 'Add Comment');
		expect((item.comments as Array<{ comment: string }>).map((c) => c.comment)).toEqual(['Ticket INC-42 opened (incident, via Microsoft Graph)']);
		expect(api.filter((e) => e.method === 'POST' && e.path === `${INCIDENTS}/${commented.id}/comments`)).toHaveLength(1);
		expect((await listIncidents()).find((i) => i.id === commented.id)!.comments.map((c) => c.comment)).toEqual(['Ticket INC-42 opened (incident, via Microsoft Graph)']);
	});
});
