/**
 * Every operation of the action node, run by a real n8n 2.41.1 (`n8n execute`) against the Defender + Entra
 * emulator, checked twice: on the node's output items and on what the emulator saw (request log, alert state).
 *
 * Two workflows, one run each:
 *  - "operations": Manual Trigger fanned out to Get Many (filters, limit, simplify), Get by ID, Get by portal URL,
 *    Update, Add Comment, Create by Reference, Get Related, Get Many → Update Many, Tenant → Check Access
 *    (two tenants, one without consent);
 *  - "no requests": Tenant → Get Consent Link and Get with an invalid alert ID under "continue on error". The ID is
 *    an expression (as when it is mapped from a ticket): a literal invalid ID is already refused by n8n's own
 *    parameter check (the resource locator's regex) before the workflow starts.
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
import { describeEntry, emulatorNow, emulatorRequests, fanOutWorkflow, jsonOf, logMark, outputOf, type LogEntry } from './lib/scenario';

interface Alert {
	id: string;
	title: string;
	status: string;
	severity: string;
	assignedTo: string | null;
	classification: string | null;
	determination: string | null;
	machineId: string | null;
	relatedUser: { userName: string; domainName: string } | null;
	comments: Array<{ comment: string; createdBy: string; createdTime: string }>;
	evidence: Array<{ ipAddress: string | null; url: string | null; sha1: string | null }>;
	[key: string]: unknown;
}

const SIMPLE_FIELDS = [
	'id', 'title', 'severity', 'status', 'category', 'detectionSource', 'alertCreationTime', 'lastUpdateTime', 'computerDnsName', 'machineId',
	'relatedUser', 'assignedTo', 'classification', 'determination', 'incidentId', 'mitreTechniques', 'portalUrl', 'tenantId', 'dedupKey',
];

const LIST_OWNER = 'e2e-list@contoso.com';
const BULK_OWNER = 'e2e-bulk@contoso.com';
const UPDATE_COMMENT = 'Closed by the n8n e2e suite: confirmed malware, machine reimaged';
const ADD_COMMENT = 'INC-4711 opened by n8n (e2e)';
const CREATED_TITLE = 'e2e: suspicious tool found by advanced hunting';

describe('every alert and tenant operation in a real n8n (n8n execute) against the emulator', () => {
	let n8n: N8nInstance;
	let emulator: EmulatorProcess;
	let contoso: { id: string; domain: string };
	let fabrikam: { id: string; domain: string };
	let mine: Record<string, Alert>;
	let listed: Alert[];
	let bulk: Alert[];
	let related: Alert;
	let event: { reportId: string; eventTime: string; machineId: string };
	let run: ExecuteResult;
	let runApi: LogEntry[];
	let runAll: LogEntry[];
	let quiet: ExecuteResult;
	let quietRequests: LogEntry[];

	const alertAt = async (id: string): Promise<Alert> => await emulator.control<Alert>('GET', `/tenants/${contoso.id}/alerts/${encodeURIComponent(id)}`);
	const apiTo = (method: string, path: string): LogEntry[] => runApi.filter((e) => e.method === method && e.path === path);

	beforeAll(async () => {
		const tgz = packTarball();
		emulator = await startEmulatorProcess({ noRateLimits: true });
		const { state } = emulator;
		contoso = state.tenants[0] as unknown as { id: string; domain: string };
		fabrikam = state.tenants[1] as unknown as { id: string; domain: string };
		event = (state.tenants[0] as unknown as { events: Array<{ reportId: string; eventTime: string; machineId: string }> }).events[0];
		expect(event).toBeDefined();

		// Alerts of our own, with fixed creation times two hours ago (one second apart), in Contoso.
		const base = Date.parse(await emulatorNow(emulator)) - 2 * 3600_000;
		const at = (s: number): string => new Date(base + s * 1000).toISOString();
		const add = async (alerts: Array<Record<string, unknown>>): Promise<Alert[]> =>
			(await emulator.control<{ value: Alert[] }>('POST', `/tenants/${contoso.id}/alerts`, alerts)).value;
		listed = await add([
			{ alertCreationTime: at(1), severity: 'High', status: 'New', assignedTo: LIST_OWNER, title: 'e2e list 1 (High, New)' },
			{ alertCreationTime: at(2), severity: 'Medium', status: 'New', assignedTo: LIST_OWNER, title: 'e2e list 2 (Medium, New)' },
			{ alertCreationTime: at(3), severity: 'Low', status: 'New', assignedTo: LIST_OWNER, title: 'e2e list 3 (Low, New)' },
			{ alertCreationTime: at(4), severity: 'High', status: 'Resolved', assignedTo: LIST_OWNER, title: 'e2e list 4 (High, Resolved)' },
			{ alertCreationTime: at(5), severity: 'Medium', status: 'New', assignedTo: LIST_OWNER, title: 'e2e list 5 (Medium, New)' },
		]);
		bulk = await add([11, 12, 13].map((s) => ({ alertCreationTime: at(s), status: 'New', assignedTo: BULK_OWNER, title: `e2e bulk ${s}` })));
		const [byId, byUrl, toUpdate, toComment] = await add([
			{ alertCreationTime: at(21), status: 'New', title: 'e2e get by id' },
			{ alertCreationTime: at(22), status: 'New', title: 'e2e get by url' },
			{ alertCreationTime: at(23), status: 'New', assignedTo: null, title: 'e2e update' },
			{ alertCreationTime: at(24), status: 'New', title: 'e2e comment' },
		]);
		mine = { byId, byUrl, toUpdate, toComment };
		// A seeded alert that has every related entity (machine, user, IPs, URLs, files).
		const seeded = (await emulator.control<{ value: Alert[] }>('GET', `/tenants/${contoso.id}/alerts`)).value;
		const candidate = seeded.find(
			(a) => a.machineId && a.relatedUser && ['ipAddress', 'url', 'sha1'].every((k) => a.evidence.some((e) => e[k as 'url'])),
		);
		if (!candidate) throw new Error('The emulator seeded no Contoso alert with a machine, a user, IPs, URLs and files');
		related = candidate;
		// Fabrikam's administrator withdraws consent: Check Access must say so (the other operations use Contoso only).
		await emulator.control('POST', '/revoke-consent', { tenantId: fabrikam.id, clientId: state.clientId });

		n8n = await createInstance({ name: 'operations' });
		await installPackage(n8n, await tgz);
		await importCredentials(n8n, [emulatorCredential(state)]);

		const continueOnFail = { extra: { onError: 'continueRegularOutput' as const } };
		const operations = fanOutWorkflow('e2e: every operation', [
			[
				defenderNode('Get Many', {
					resource: 'alert',
					operation: 'getAll',
					returnAll: false,
					limit: 2,
					filters: { severity: ['High', 'Medium'], status: ['New'], assignedTo: LIST_OWNER },
					sort: { field: 'alertCreationTime', direction: 'asc' },
					simplify: true,
					options: { customerLabel: 'Contoso' },
				}),
			],
			[defenderNode('Get by ID', { resource: 'alert', operation: 'get', alertId: { __rl: true, mode: 'id', value: byId.id } })],
			[
				defenderNode('Get by URL', {
					resource: 'alert',
					operation: 'get',
					alertId: { __rl: true, mode: 'url', value: `https://security.microsoft.com/alerts/${byUrl.id}?tid=${contoso.id}` },
				}),
			],
			[
				defenderNode('Update', {
					resource: 'alert',
					operation: 'update',
					alertId: { __rl: true, mode: 'id', value: toUpdate.id },
					updateFields: { status: 'Resolved', assignedTo: 'analyst@contoso.com', classification: 'TruePositive', determination: 'Malware', comment: UPDATE_COMMENT },
				}),
			],
			[defenderNode('Add Comment', { resource: 'alert', operation: 'addComment', alertId: { __rl: true, mode: 'id', value: toComment.id }, comment: ADD_COMMENT })],
			[
				defenderNode('Create by Reference', {
					resource: 'alert',
					operation: 'createByReference',
					eventTime: event.eventTime,
					reportId: event.reportId,
					machineId: event.machineId,
					severity: 'High',
					title: CREATED_TITLE,
					description: 'Created from an advanced hunting event by the e2e suite',
					recommendedAction: 'Isolate the device and collect an investigation package',
					category: 'Malware',
				}),
			],
			[
				defenderNode('Get Related', {
					resource: 'alert',
					operation: 'getRelated',
					alertId: { __rl: true, mode: 'id', value: related.id },
					entities: ['machine', 'user', 'ips', 'domains', 'files'],
				}),
			],
			[
				defenderNode('List bulk', {
					resource: 'alert',
					operation: 'getAll',
					limit: 10,
					filters: { assignedTo: BULK_OWNER },
					sort: { field: 'alertCreationTime', direction: 'asc' },
				}),
				defenderNode('Update Many', {
					resource: 'alert',
					operation: 'updateMany',
					alertIds: '={{ $json.id }}',
					updateFields: { status: 'InProgress', assignedTo: 'tier2@contoso.com' },
				}),
			],
			[defenderNode('Check Access', { resource: 'tenant', operation: 'checkAccess', tenants: `${contoso.id}, ${fabrikam.domain}` })],
		]);
		const noRequests = fanOutWorkflow('e2e: operations without requests', [
			[defenderNode('Get Consent Link', { resource: 'tenant', operation: 'getConsentLink' })],
			[defenderNode('Get invalid ID', { resource: 'alert', operation: 'get', alertId: { __rl: true, mode: 'id', value: `={{ 'da638712345678901234' }}` } }, continueOnFail)],
		]);
		const operationsId = await importWorkflow(n8n, operations);
		const noRequestsId = await importWorkflow(n8n, noRequests);

		let mark = await logMark(emulator);
		run = await execute(n8n, operationsId);
		runAll = await emulatorRequests(emulator, { sinceSeq: mark });
		runApi = runAll.filter((e) => e.kind === 'api');
		console.log(`[e2e] operations run: ${run.status} in ${run.durationMs} ms${run.crashedAfterOutput ? ' (crashed after output)' : ''}; ${runAll.length} requests`);

		mark = await logMark(emulator);
		quiet = await execute(n8n, noRequestsId);
		quietRequests = await emulatorRequests(emulator, { sinceSeq: mark });
		console.log(`[e2e] no-request run: ${quiet.status} in ${quiet.durationMs} ms${quiet.crashedAfterOutput ? ' (crashed after output)' : ''}`);
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	it('runs the whole workflow without a workflow error', () => {
		expect(run.errorMessage).toBeUndefined();
		expect(run.ok).toBe(true);
	});

	it('Get Many: filters become the $filter the API saw; limit and sort are honoured; simplified items', () => {
		const items = jsonOf(run.run, 'Get Many');
		expect(items.map((i) => i.id)).toEqual([listed[0].id, listed[1].id]);
		for (const item of items) {
			expect(Object.keys(item).sort()).toEqual([...SIMPLE_FIELDS, 'customerLabel'].sort());
			expect(item.customerLabel).toBe('Contoso');
			expect(item.tenantId).toBe(contoso.id);
			expect(item.dedupKey).toBe(`${contoso.id}:${String(item.id)}`);
		}
		expect(items[0]).toMatchObject({ severity: 'High', status: 'New', assignedTo: LIST_OWNER });
		expect(items[1]).toMatchObject({ severity: 'Medium', status: 'New', assignedTo: LIST_OWNER });
		const lists = runApi.filter((e) => e.method === 'GET' && e.path === '/api/alerts' && String(e.query.$filter ?? '').includes(LIST_OWNER));
		expect(lists.map(describeEntry)).toHaveLength(1);
		expect(lists[0].query).toMatchObject({
			$filter: `status eq 'New' and (severity eq 'High' or severity eq 'Medium') and assignedTo eq '${LIST_OWNER}'`,
			$top: '2',
			$orderby: 'alertCreationTime asc',
		});
		expect(lists[0].query.$skip ?? '0').toBe('0');
		expect(lists[0].status).toBe(200);
	});

	it('Get: by ID and by portal URL, full alert with evidence, one GET each', () => {
		const [byId] = jsonOf(run.run, 'Get by ID');
		const [byUrl] = jsonOf(run.run, 'Get by URL');
		expect(jsonOf(run.run, 'Get by ID')).toHaveLength(1);
		expect(jsonOf(run.run, 'Get by URL')).toHaveLength(1);
		expect(byId).toMatchObject({ id: mine.byId.id, title: 'e2e get by id', tenantId: contoso.id, dedupKey: `${contoso.id}:${mine.byId.id}` });
		expect(byUrl).toMatchObject({ id: mine.byUrl.id, title: 'e2e get by url', tenantId: contoso.id });
		expect(Array.isArray(byId.evidence)).toBe(true);
		expect(String(byUrl.portalUrl)).toContain(`/alerts/${mine.byUrl.id}`);
		expect(apiTo('GET', `/api/alerts/${mine.byId.id}`).map(describeEntry)).toHaveLength(1);
		expect(apiTo('GET', `/api/alerts/${mine.byUrl.id}`).map(describeEntry)).toHaveLength(1);
		expect(apiTo('GET', `/api/alerts/${mine.byUrl.id}`)[0].status).toBe(200);
	});

	it('Update: status, assignee, classification, determination and comment reach Defender in one PATCH', async () => {
		const [item] = jsonOf(run.run, 'Update');
		expect(item).toMatchObject({ id: mine.toUpdate.id, status: 'Resolved', assignedTo: 'analyst@contoso.com', classification: 'TruePositive', determination: 'Malware' });
		const patches = apiTo('PATCH', `/api/alerts/${mine.toUpdate.id}`);
		expect(patches.map(describeEntry)).toHaveLength(1);
		expect(patches[0].status).toBe(200);
		const stored = await alertAt(mine.toUpdate.id);
		expect(stored).toMatchObject({ status: 'Resolved', assignedTo: 'analyst@contoso.com', classification: 'TruePositive', determination: 'Malware' });
		expect(stored.resolvedTime).not.toBeNull();
		expect(stored.comments.map((c) => c.comment)).toEqual([UPDATE_COMMENT]);
		expect(stored.comments[0].createdBy.toLowerCase()).toBe(emulator.state.clientId.toLowerCase());
	});

	it('Update Many: three input items with the same change → ONE batchUpdate call, one output item per input item', async () => {
		const input = jsonOf(run.run, 'List bulk');
		expect(input.map((i) => i.id)).toEqual(bulk.map((a) => a.id));
		const out = outputOf(run.run, 'Update Many');
		expect(out).toHaveLength(3);
		out.forEach((item, i) => {
			expect(item.json).toMatchObject({
				alertIds: [bulk[i].id],
				updated: true,
				changes: { status: 'InProgress', assignedTo: 'tier2@contoso.com' },
				batchCalls: 1,
				alertsInBatch: 3,
				itemsInBatch: 3,
				tenantId: contoso.id,
			});
			expect(item.pairedItem).toEqual({ item: i });
		});
		const batches = apiTo('POST', '/api/alerts/batchUpdate');
		expect(batches.map(describeEntry)).toHaveLength(1);
		expect(batches[0].status).toBe(200);
		// No per-alert PATCH for these alerts.
		expect(runApi.filter((e) => e.method === 'PATCH' && bulk.some((a) => e.path.endsWith(a.id)))).toEqual([]);
		for (const a of bulk) expect(await alertAt(a.id)).toMatchObject({ status: 'InProgress', assignedTo: 'tier2@contoso.com' });
	});

	it('Add Comment: the comment is appended in Defender (one PATCH)', async () => {
		const [item] = jsonOf(run.run, 'Add Comment');
		expect(item.id).toBe(mine.toComment.id);
		expect((item.comments as Array<{ comment: string }>).map((c) => c.comment)).toContain(ADD_COMMENT);
		expect(apiTo('PATCH', `/api/alerts/${mine.toComment.id}`).map(describeEntry)).toHaveLength(1);
		const stored = await alertAt(mine.toComment.id);
		expect(stored.comments.map((c) => c.comment)).toEqual([ADD_COMMENT]);
		expect(stored.status).toBe('New');
	});

	it('Create by Reference: a new alert on the hunting event (report ID, event time, machine)', async () => {
		const [item] = jsonOf(run.run, 'Create by Reference');
		expect(item).toMatchObject({ title: CREATED_TITLE, severity: 'High', category: 'Malware', machineId: event.machineId, tenantId: contoso.id });
		expect(typeof item.id).toBe('string');
		const creates = apiTo('POST', '/api/alerts/CreateAlertByReference');
		expect(creates.map(describeEntry)).toHaveLength(1);
		expect(creates[0].status).toBe(200);
		const stored = await alertAt(String(item.id));
		expect(stored).toMatchObject({ id: item.id, title: CREATED_TITLE, machineId: event.machineId, severity: 'High' });
	});

	it('Get Related: machine, user, IPs, domains and files merged into one item', () => {
		const items = jsonOf(run.run, 'Get Related');
		expect(items).toHaveLength(1);
		const [item] = items;
		expect(item).toMatchObject({ alertId: related.id, tenantId: contoso.id, dedupKey: `${contoso.id}:${related.id}` });
		expect((item.machine as { id?: string } | null)?.id).toBe(related.machineId);
		expect(item.user).toEqual(expect.objectContaining({ id: expect.any(String) }));
		const ips = (item.ips as Array<{ id: string }>).map((i) => i.id).sort();
		const expectedIps = [...new Set(related.evidence.map((e) => e.ipAddress).filter((x): x is string => !!x))].sort();
		expect(ips).toEqual(expectedIps);
		const hosts = (item.domains as Array<{ host: string }>).map((d) => d.host).sort();
		const expectedHosts = [...new Set(related.evidence.map((e) => e.url).filter((x): x is string => !!x).map((u) => new URL(u).hostname))].sort();
		expect(hosts).toEqual(expectedHosts);
		const shas = (item.files as Array<{ sha1: string }>).map((f) => f.sha1).sort();
		expect(shas).toEqual([...new Set(related.evidence.map((e) => e.sha1).filter((x): x is string => !!x))].sort());
		const calls = runApi.filter((e) => e.path.startsWith(`/api/alerts/${related.id}/`));
		expect(calls.map((e) => `${e.method} ${e.path.split('/').pop()} ${e.status}`).sort()).toEqual(
			['domains', 'files', 'ips', 'machine', 'user'].map((k) => `GET ${k} 200`),
		);
	});

	it('Tenant → Check Access: one item per tenant; the tenant without consent gets a plain next step', () => {
		const items = jsonOf(run.run, 'Check Access');
		expect(items).toHaveLength(2);
		const [ok, revoked] = items;
		expect(ok).toMatchObject({ tenant: contoso.id, tokenAcquired: true, ready: true, apiAccess: 'ok' });
		expect(ok.roles).toEqual(expect.arrayContaining(['Alert.ReadWrite.All']));
		expect(String(ok.nextStep)).toMatch(/^Ready: every (alert )?operation works in tenant/);
		expect(revoked).toMatchObject({ tenant: fabrikam.domain, tokenAcquired: false, ready: false, tokenErrorKind: 'notConsented', apiAccess: 'notChecked' });
		expect(String(revoked.tokenError)).toContain('AADSTS7000229');
		const next = String(revoked.nextStep);
		expect(next).toBe(
			`An administrator of tenant ${fabrikam.domain} has not consented to the app yet: send them the link from Tenant → Get Consent Link, then run Check Access again.`,
		);
		// What the emulator saw: Fabrikam's token request refused with 7000229 and no API call for Fabrikam;
		// Contoso probed with one cheap list request.
		const fabrikamTokens = runAll.filter((e) => e.kind === 'token' && e.tenantId?.toLowerCase() === fabrikam.id);
		expect(fabrikamTokens.map(describeEntry)).toHaveLength(1);
		expect(fabrikamTokens[0].aadsts).toBe(7000229);
		expect(fabrikamTokens[0].status).toBeGreaterThanOrEqual(400);
		expect(runApi.filter((e) => e.tenantId?.toLowerCase() === fabrikam.id).map(describeEntry)).toEqual([]);
		const probes = runApi.filter((e) => e.path === '/api/alerts' && e.query.$top === '1' && e.query.$filter === undefined);
		expect(probes.map(describeEntry)).toHaveLength(1);
		expect(probes[0].tenantId?.toLowerCase()).toBe(contoso.id);
	});

	it('Tenant → Get Consent Link: the admin-consent URL for the credential\'s app and cloud', () => {
		const [item] = jsonOf(quiet.run, 'Get Consent Link');
		const url = new URL(String(item.consentUrl));
		expect(url.origin).toBe(new URL(emulator.state.url).origin);
		expect(url.pathname).toBe('/common/oauth2/authorize');
		expect(Object.fromEntries(url.searchParams)).toEqual({ prompt: 'consent', client_id: emulator.state.clientId, response_type: 'code', sso_reload: 'true' });
		expect(item.clientId).toBe(emulator.state.clientId);
		expect((item.permissions as Array<{ permission?: string; name?: string }>).map((p) => p.permission ?? p.name)).toEqual(
			expect.arrayContaining(['Alert.ReadWrite.All']),
		);
	});

	it('Get with an invalid alert ID under "continue on error": an error item, the run goes on', () => {
		expect(quiet.errorMessage).toBeUndefined();
		const out = outputOf(quiet.run, 'Get invalid ID');
		expect(out).toHaveLength(1);
		expect(out[0].json.error).toMatch(/da638712345678901234.*does not look like a Defender alert ID/);
		expect(String(out[0].json.description ?? '')).toMatch(/da638712345678901234_-1234567890/);
		expect(out[0].pairedItem).toEqual({ item: 0 });
	});

	it('neither Get Consent Link nor the invalid ID made any request (no token, no API call)', () => {
		expect(quietRequests.map(describeEntry)).toEqual([]);
	});

	it('made no unexpected API call and got no API error in the main run', () => {
		const unexpected = runApi.filter((e) => e.status >= 400);
		expect(unexpected.map(describeEntry)).toEqual([]);
		// 2 lists + 2 gets + 2 PATCH + 1 create + 5 related + 1 batch + 1 read-back (Update Many's verification) + 1 probe = 15.
		expect(runApi.map(describeEntry)).toHaveLength(15);
	});
});
