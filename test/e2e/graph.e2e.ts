/**
 * The Microsoft Graph Security API backend in a real n8n 2.41.1 against the emulator (Graph enabled, Contoso
 * consented to SecurityAlert.ReadWrite.All again, documented rate limits on): a credential whose Alerts API is
 * Microsoft Graph Security API runs Get Many, Get Many → Update Many ($batch), Add Comment, Get (portal URL) →
 * Update → Get Related (machine, from the evidence), and Create by Reference (a clear error, nothing sent) (`n8n execute`), then
 * n8n's credential test button runs through the REST API (`POST /rest/credentials/{id}/test`) for that credential
 * and for a customer that has not consented to the Graph permissions.
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
	start,
	startEmulatorProcess,
	testCredential,
	type EmulatorProcess,
	type ExecuteResult,
	type N8nInstance,
} from './lib';
import { describeEntry, emulatorRequests, fanOutWorkflow, jsonOf, logMark, type LogEntry } from './lib/scenario';

interface Alert {
	id: string;
	status: string;
	comments: Array<{ comment: string }>;
	[key: string]: unknown;
}

const GRAPH_CREDENTIAL = { id: 'mdeGraphCred1', name: 'Defender via Microsoft Graph (emulator)' };

describe('the Microsoft Graph Security API backend in a real n8n', () => {
	let n8n: N8nInstance;
	let emulator: EmulatorProcess;
	let contoso: string;
	let fabrikam: string;
	let run: ExecuteResult;
	let api: LogEntry[];
	let commented: string;
	let triaged: string;
	let newIds: string[];
	let subRequests: Array<{ method: string; status: number; url: string }>;
	const tests: Record<string, { status: string; message: string }> = {};
	const testRequests: Record<string, LogEntry[]> = {};

	const alerts = async (tenant: string): Promise<Alert[]> => (await emulator.control<{ value: Alert[] }>('GET', `/tenants/${tenant}/alerts`)).value;

	beforeAll(async () => {
		const tgz = packTarball();
		emulator = await startEmulatorProcess({});
		const { state } = emulator;
		contoso = state.tenants[0].id;
		fabrikam = state.tenants[1].id;
		await emulator.control('POST', '/graph', { enabled: true });
		// Contoso's administrator consented again after the Graph permission was added; Fabrikam's did not.
		await emulator.control('POST', '/roles', { tenantId: contoso, clientId: state.clientId, roles: ['Alert.ReadWrite.All', 'Machine.Read.All', 'SecurityAlert.ReadWrite.All'] });

		const all = await alerts(contoso);
		newIds = all.filter((a) => a.status === 'New').map((a) => a.id);
		commented = all[0].id;
		triaged = all.find((a) => a.id !== commented && a.machineId)!.id as string;

		const graphData = { alertsApi: 'graph', graphBaseUrl: state.url, graphScope: 'https://graph.microsoft.com/.default' };
		const graphCred = emulatorCredential(state, GRAPH_CREDENTIAL);
		Object.assign(graphCred.data, graphData);
		const fabrikamCred = emulatorCredential(state, { id: 'mdeGraphFabrikam', name: 'Fabrikam via Graph (no Graph consent)', tenantId: fabrikam });
		Object.assign(fabrikamCred.data, graphData);

		n8n = await createInstance({ name: 'graph' });
		await installPackage(n8n, await tgz);
		await importCredentials(n8n, [graphCred, fabrikamCred]);

		const node = (name: string, parameters: Record<string, unknown>) => defenderNode(name, parameters as never, { credentialId: GRAPH_CREDENTIAL.id, credentialName: GRAPH_CREDENTIAL.name });
		const workflow = fanOutWorkflow('e2e: Microsoft Graph backend', [
			[node('Get Many', { resource: 'alert', operation: 'getAll', limit: 5 })],
			[
				node('Get New', { resource: 'alert', operation: 'getAll', returnAll: true, filters: { status: ['New'] } }),
				node('Update Many', { resource: 'alert', operation: 'updateMany', alertIds: '={{ $json.id }}', updateFields: { status: 'InProgress', assignedTo: 'soc@contoso.com' } }),
			],
			[node('Add Comment', { resource: 'alert', operation: 'addComment', alertId: { __rl: true, mode: 'id', value: commented }, comment: 'Ticket INC-42 opened (via Microsoft Graph)' })],
			[
				node('Get', { resource: 'alert', operation: 'get', alertId: { __rl: true, mode: 'url', value: `https://security.microsoft.com/alerts/${triaged}` } }),
				node('Update', { resource: 'alert', operation: 'update', alertId: { __rl: true, mode: 'id', value: '={{ $json.id }}' }, updateFields: { status: 'Resolved', classification: 'TruePositive', determination: 'Malware' } }),
				node('Get Related', { resource: 'alert', operation: 'getRelated', alertId: { __rl: true, mode: 'id', value: '={{ $json.id }}' }, entities: 'machine' }),
			],
			[
				{
					...node('Create by Reference', {
						resource: 'alert',
						operation: 'createByReference',
						eventTime: '2026-12-01T00:00:00Z',
						reportId: '1',
						machineId: 'f'.repeat(40),
						severity: 'High',
						title: 't',
						description: 'd',
						recommendedAction: 'r',
						category: 'Persistence',
					}),
					onError: 'continueRegularOutput',
				},
			],
		]);
		const id = await importWorkflow(n8n, workflow);

		const mark = await logMark(emulator);
		const sub0 = (await emulator.control<{ lastSeq: number }>('GET', '/graph/sub-requests')).lastSeq;
		run = await execute(n8n, id);
		api = (await emulatorRequests(emulator, { sinceSeq: mark })).filter((e) => e.kind === 'api');
		subRequests = (await emulator.control<{ value: Array<{ method: string; status: number; url: string }> }>('GET', `/graph/sub-requests?sinceSeq=${sub0}`)).value;
		console.log(`[e2e] Graph run: ${run.status} in ${run.durationMs} ms; ${api.length} API requests, ${subRequests.length} $batch sub-requests`);

		await start(n8n);
		for (const credentialId of [GRAPH_CREDENTIAL.id, 'mdeGraphFabrikam']) {
			const before = await logMark(emulator);
			tests[credentialId] = await testCredential(n8n, credentialId);
			testRequests[credentialId] = await emulatorRequests(emulator, { sinceSeq: before });
			console.log(`[e2e] credential test ${credentialId}: ${tests[credentialId].status} — ${tests[credentialId].message.slice(0, 200)}; requests: ${testRequests[credentialId].map(describeEntry).join(' | ')}`);
		}
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	it('runs without a workflow error; every request went to Graph (/v1.0/…), none failed', () => {
		expect(run.errorMessage).toBeUndefined();
		expect(run.ok).toBe(true);
		expect(api.length).toBeGreaterThan(0);
		expect(api.filter((e) => !e.path.startsWith('/v1.0/')).map(describeEntry)).toEqual([]);
		expect(api.filter((e) => e.status >= 400).map(describeEntry)).toEqual([]);
	});

	it('Get Many: Simplify gives the Defender-named fields from Graph alerts', () => {
		const items = jsonOf(run.run, 'Get Many');
		expect(items).toHaveLength(5);
		for (const item of items) {
			expect(Object.keys(item)).toEqual(expect.arrayContaining(['id', 'title', 'severity', 'status', 'alertCreationTime', 'lastUpdateTime', 'portalUrl', 'tenantId', 'dedupKey']));
			expect(['New', 'InProgress', 'Resolved']).toContain(item.status);
			expect(item.dedupKey).toBe(`${contoso}:${String(item.id)}`);
		}
		const gets = api.filter((e) => e.method === 'GET' && e.path === '/v1.0/security/alerts_v2');
		expect(gets.map((e) => e.query.$filter)).toContain("serviceSource eq 'microsoftDefenderForEndpoint'");
	});

	it(`Update Many: the New alerts through JSON batching, ⌈N/20⌉ $batch calls, one output item per input item`, async () => {
		const out = jsonOf(run.run, 'Update Many');
		expect(out).toHaveLength(newIds.length);
		expect(out.every((j) => j.updated === true && j.itemsInBatch === newIds.length && j.verificationReads === 0)).toBe(true);
		const batches = api.filter((e) => e.method === 'POST' && e.path === '/v1.0/$batch');
		expect(batches).toHaveLength(Math.ceil(newIds.length / 20));
		expect(subRequests.filter((s) => s.method === 'PATCH').map((s) => s.status)).toEqual(newIds.map(() => 200));
		const after = await alerts(contoso);
		for (const id of newIds) expect(after.find((a) => a.id === id)).toMatchObject({ status: 'InProgress', assignedTo: 'soc@contoso.com' });
	});

	it('Add Comment: POST …/comments, the alert carries the comment (visible through the Defender API too)', async () => {
		const [item] = jsonOf(run.run, 'Add Comment');
		expect((item.comments as Array<{ comment: string }>).map((c) => c.comment)).toContain('Ticket INC-42 opened (via Microsoft Graph)');
		expect(api.filter((e) => e.method === 'POST' && e.path === `/v1.0/security/alerts_v2/${commented}/comments`)).toHaveLength(1);
		expect((await alerts(contoso)).find((a) => a.id === commented)!.comments.map((c) => c.comment)).toContain('Ticket INC-42 opened (via Microsoft Graph)');
	});

	it('Get (portal URL) → Update → Get Related on Graph: one GET, one PATCH, the machine from the evidence; the emulator shows the change', async () => {
		const [got] = jsonOf(run.run, 'Get');
		expect(got.id).toBe(triaged);
		const [updated] = jsonOf(run.run, 'Update');
		// raw output (node version 1: Simplify off) is Graph's own spelling
		expect(updated).toMatchObject({ id: triaged, status: 'resolved', classification: 'truePositive', determination: 'malware' });
		expect(api.filter((e) => e.method === 'PATCH' && e.path === `/v1.0/security/alerts_v2/${triaged}`)).toHaveLength(1);
		const after = (await alerts(contoso)).find((a) => a.id === triaged)!;
		expect(after).toMatchObject({ status: 'Resolved', classification: 'TruePositive', determination: 'Malware' });
		const [related] = jsonOf(run.run, 'Get Related');
		expect(related).toMatchObject({ alertId: triaged, machine: { id: after.machineId } });
	});

	it('Create by Reference on Graph: the error names the Defender API option and nothing is sent', () => {
		const [item] = jsonOf(run.run, 'Create by Reference');
		expect(String(item.error)).toMatch(/Create by Reference exists on the Defender for Endpoint API only/);
		expect(api.filter((e) => e.method === 'POST' && /alerts\/createAlertByReference|CreateAlertByReference/i.test(e.path))).toEqual([]);
	});

	it('the credential test button (REST API) on Graph: passes with a Graph token; a customer without Graph consent gets the permission named', () => {
		expect(tests[GRAPH_CREDENTIAL.id]).toEqual({ status: 'OK', message: expect.any(String) });
		const ok = testRequests[GRAPH_CREDENTIAL.id];
		// n8n may send the Graph token the execution stored in the credential; any sign-in is for the Graph scope
		expect(ok.filter((e) => e.kind === 'token').every((e) => e.scope === 'https://graph.microsoft.com/.default')).toBe(true);
		expect(testRequests.mdeGraphFabrikam.filter((e) => e.kind === 'token').map((e) => [e.scope, e.status])).toEqual([['https://graph.microsoft.com/.default', 200]]);
		expect(ok.filter((e) => e.kind === 'api').map(describeEntry)).toEqual([expect.stringMatching(/^api GET \/v1\.0\/security\/alerts_v2\?\$top=1 → 200/)]);
		expect(tests.mdeGraphFabrikam.status).toBe('Error');
		expect(tests.mdeGraphFabrikam.message).toMatch(/SecurityAlert\.Read\.All/);
		expect(testRequests.mdeGraphFabrikam.filter((e) => e.kind === 'api').map((e) => e.status)).toEqual([403]);
	});
});
