/**
 * Issue 12, every Machine and Machine Action operation not covered by respond.e2e.ts, in ONE real n8n 2.41.1
 * (`n8n execute`, plus `n8n start` for the editor's list search) against the HTTPS emulator (documented rate
 * limits on). Each effect is checked on the emulator: its request log, its stored machines and actions, or the
 * emulator's own API answer read directly with a token it issued.
 *
 *  - "phase 1" (one workflow, one execution): Machine Get (By ID, By DNS Name, From List), Find by IP (with a
 *    timestamp), Find by Tag, Add Tag → Find by Tag → Remove Tag → Find by Tag, Get Logged-On Users, Get Alerts,
 *    Get with a per-item Customer Tenant (Contoso and Fabrikam items); Machine Action Release from Isolation →
 *    Get, Antivirus Scan Quick (by ID) and Full (by DNS name), Restrict → Remove App Restriction, Stop and
 *    Quarantine File, Offboard (confirmed), Isolate → Cancel, Isolate twice (alreadyPending), Collect
 *    Investigation Package from an alert item, Get Many Actions with filters; the default comment everywhere.
 *  - "guards" (one execution): Offboard without the confirmation, Dry Run, Exclude Tags (skip and fail), a DNS
 *    name of two machines: nothing is POSTed, the emulator stores no new action.
 *  - the emulator clock is moved (Pending → InProgress → Succeeded, no sleeping), then "phase 2": Get Action,
 *    Get Package Download Link, Get Many by status, Collect Investigation Package with Wait for Completion and
 *    the download link (short real-time lifecycle, polled).
 *  - the Machine locator's From List search through n8n's REST API (`n8n start`).
 */
import {
	createInstance,
	defenderNode,
	disposeInstance,
	emulatorCredential,
	execute,
	importCredentials,
	installPackage,
	packTarball,
	start,
	startEmulatorProcess,
	type EmulatorProcess,
	type ExecuteResult,
	type N8nInstance,
} from './lib';
import { importWorkflows } from './lib/importMany';
import { listSearch } from './lib/listSearch';
import { describeEntry, emulatorNow, emulatorRequests, fanOutWorkflow, jsonOf, logMark, type LogEntry } from './lib/scenario';
import type { INode, INodeListSearchResult } from 'n8n-workflow';

interface FleetMachine {
	id: string;
	computerDnsName: string;
	machineTags: string[];
	lastIpAddress: string;
	osPlatform: string;
	[key: string]: unknown;
}

interface StoredAction {
	id: string;
	type: string;
	status: string;
	machineId: string;
	scope: string | null;
	requestorComment: string;
	cancellationComment: string | null;
	relatedFileInfo: { fileIdentifier: string; fileIdentifierType: string } | null;
	[key: string]: unknown;
}

const ROLES = [
	'Alert.ReadWrite.All',
	'Machine.ReadWrite.All',
	'Machine.Isolate',
	'Machine.Scan',
	'Machine.RestrictExecution',
	'Machine.CollectForensics',
	'Machine.StopAndQuarantine',
	'Machine.Offboard',
	'User.Read.All',
];
const SHA1 = '87662bc3d60e4200ceaf7aae249d1c343f4b83c9';
const TAG = 'e2e-investigating';
/** Phase-1 actions stay Pending this long on the emulator clock (nothing moves them but the clock). */
const SLOW = { pendingMs: 120_000, inProgressMs: 120_000 };
const continueOnFail = { extra: { onError: 'continueRegularOutput' as const } };

const rl = (mode: 'id' | 'dnsName' | 'list', value: string) => ({ __rl: true, mode, value });

function setNode(name: string, json: unknown): INode {
	return { id: `node-${name.replace(/\W+/g, '-').toLowerCase()}`, name, type: 'n8n-nodes-base.set', typeVersion: 3.4, position: [0, 0], parameters: { mode: 'raw', jsonOutput: typeof json === 'string' ? json : JSON.stringify(json), options: {} } };
}

function splitOutNode(name: string, field: string): INode {
	return { id: `node-${name.replace(/\W+/g, '-').toLowerCase()}`, name, type: 'n8n-nodes-base.splitOut', typeVersion: 1, position: [0, 0], parameters: { fieldToSplitOut: field, options: {} } };
}

const api = (entries: LogEntry[]) => entries.filter((e) => e.kind === 'api');
const decoded = (e: LogEntry) => decodeURIComponent(e.path);

describe('respond operations: every machine and machine-action operation in a real n8n against the emulator', () => {
	const t0 = Date.now();
	let n8n: N8nInstance;
	let emulator: EmulatorProcess;
	let contoso: { id: string; domain: string };
	let fabrikam: { id: string; domain: string };
	let clientId: string;
	let F: FleetMachine[];
	let fab: FleetMachine[];
	let alertMachineId: string;
	let alert: { id: string; machineId: string; title: string };
	let findByIpTimestamp: string;

	let p1WorkflowId: string;
	let p1: ExecuteResult;
	let p1Api: LogEntry[];
	let p1ExecutionId: string;
	let actionsAfterP1: StoredAction[];
	let actionsBeforeP1: StoredAction[];

	let guard: ExecuteResult;
	let guardAll: LogEntry[];
	let actionsAfterGuard: StoredAction[];

	const lifecycle: Record<string, string[]> = {};
	let p2: ExecuteResult;
	let p2Api: LogEntry[];
	let actionsAfterP2: StoredAction[];

	let search: INodeListSearchResult;
	let searchApi: LogEntry[];
	const timings: Record<string, number> = {};

	const actions = async (tenantId = contoso.id): Promise<StoredAction[]> => (await emulator.control<{ value: StoredAction[] }>('GET', `/machine-api/tenants/${tenantId}/actions`)).value;
	const machines = async (tenantId = contoso.id): Promise<FleetMachine[]> => (await emulator.control<{ value: FleetMachine[] }>('GET', `/machine-api/tenants/${tenantId}/machines`)).value;
	/** The emulator's own answer to a Defender API GET, with a token it issues (ground truth for read operations). */
	const direct = async <T>(path: string): Promise<T> => {
		const { access_token: token } = await emulator.control<{ access_token: string }>('POST', '/issue-token', { tenantId: contoso.id, clientId });
		const r = await emulator.request<T>('GET', path, undefined, { authorization: `Bearer ${token}` });
		if (r.status !== 200) throw new Error(`GET ${path} -> ${r.status}: ${JSON.stringify(r.body).slice(0, 300)}`);
		return r.body;
	};
	const byNode = (run: ExecuteResult, name: string) => jsonOf(run.run, name);
	const one = (run: ExecuteResult, name: string) => {
		const items = byNode(run, name);
		expect(items).toHaveLength(1);
		return items[0];
	};
	const stored = (list: StoredAction[], id: unknown) => {
		const a = list.find((x) => x.id === id);
		if (!a) throw new Error(`action ${String(id)} is not stored in the emulator`);
		return a;
	};

	beforeAll(async () => {
		const tgz = packTarball();
		emulator = await startEmulatorProcess();
		const { state } = emulator;
		clientId = state.clientId;
		contoso = state.tenants[0] as unknown as { id: string; domain: string };
		fabrikam = state.tenants[1] as unknown as { id: string; domain: string };
		for (const tenant of [contoso, fabrikam]) await emulator.control('POST', '/roles', { tenantId: tenant.id, clientId, roles: ROLES });
		// 14 machines; ops-001 has an old second record with the same DNS name; every 5th is critical-server; #7 and #14 Linux.
		F = (await emulator.control<{ value: FleetMachine[] }>('POST', `/machine-api/tenants/${contoso.id}/machines`, { fleet: { count: 14, prefix: 'ops-', criticalEvery: 5, duplicateDnsName: true } })).value;
		fab = (await emulator.control<{ value: FleetMachine[] }>('POST', `/machine-api/tenants/${fabrikam.id}/machines`, { fleet: { count: 2, prefix: 'fab-', criticalEvery: 0 } })).value;
		expect(F[0].computerDnsName).toBe(F[14].computerDnsName);
		expect(F[4].machineTags).toEqual(['critical-server']);
		expect(F[9].machineTags).toEqual(['critical-server']);
		expect(F[7].osPlatform).toMatch(/^Windows/);
		await emulator.control('POST', '/machine-api/timing', SLOW);
		const seeded = (await emulator.control<{ value: Array<{ id: string; machineId: string | null; title: string }> }>('GET', `/tenants/${contoso.id}/alerts`)).value;
		const withDevice = seeded.find((a) => typeof a.machineId === 'string' && a.machineId);
		if (!withDevice?.machineId) throw new Error('the default scenario has no alert with a device');
		alert = { id: withDevice.id, machineId: withDevice.machineId, title: withDevice.title };
		alertMachineId = withDevice.machineId;
		const now = Date.parse(await emulatorNow(emulator));
		findByIpTimestamp = new Date(Math.floor((now - 60_000) / 1000) * 1000).toISOString().replace('.000Z', 'Z');

		n8n = await createInstance({ name: 'respond-operations' });
		await installPackage(n8n, await tgz);
		await importCredentials(n8n, [emulatorCredential(state)]);
		timings.setup = Date.now() - t0;

		const phase1 = fanOutWorkflow('e2e: respond operations', [
			[setNode('Execution', '={ "executionId": "{{ $execution.id }}", "workflowId": "{{ $workflow.id }}" }')],
			// Machine
			[defenderNode('Get by ID', { resource: 'machine', operation: 'get', machineId: rl('id', F[1].id) })],
			[defenderNode('Get by DNS Name', { resource: 'machine', operation: 'get', machineId: rl('dnsName', F[2].computerDnsName.toUpperCase()), simplify: true })],
			[defenderNode('Get from List', { resource: 'machine', operation: 'get', machineId: rl('list', F[3].id) })],
			[defenderNode('Find by IP', { resource: 'machine', operation: 'findByIp', ip: F[5].lastIpAddress, timestamp: findByIpTimestamp })],
			[defenderNode('Find by Tag', { resource: 'machine', operation: 'findByTag', tag: 'critical-server' })],
			[
				defenderNode('Add Tag', { resource: 'machine', operation: 'addTag', machineId: rl('dnsName', F[6].computerDnsName), tag: TAG }),
				defenderNode('Tagged', { resource: 'machine', operation: 'findByTag', tag: TAG }),
				defenderNode('Remove Tag', { resource: 'machine', operation: 'removeTag', machineId: rl('id', '={{ $json.id }}'), tag: TAG }),
				defenderNode('Tagged After Remove', { resource: 'machine', operation: 'findByTag', tag: TAG }, { extra: { alwaysOutputData: true } }),
			],
			[defenderNode('Logged-On Users', { resource: 'machine', operation: 'getLogonUsers', machineId: rl('id', F[7].id), options: { customerLabel: 'Contoso' } })],
			[defenderNode('Machine Alerts', { resource: 'machine', operation: 'getAlerts', machineId: rl('id', alertMachineId) })],
			[
				setNode('Customers', {
					customers: [
						{ tenant: contoso.id, label: 'Contoso', dns: F[8].computerDnsName },
						{ tenant: fabrikam.domain, label: 'Fabrikam', dns: fab[0].computerDnsName },
					],
				}),
				splitOutNode('Customer Items', 'customers'),
				defenderNode('Get per Customer', {
					resource: 'machine',
					operation: 'get',
					customerTenant: '={{ $json.tenant }}',
					machineId: rl('dnsName', '={{ $json.dns }}'),
					simplify: true,
					options: { customerLabel: '={{ $json.label }}' },
				}),
			],
			// Machine Action
			[
				defenderNode('Release', { resource: 'machineAction', operation: 'releaseIsolation', machineId: rl('id', F[1].id) }),
				defenderNode('Get Action', { resource: 'machineAction', operation: 'get', actionId: '={{ $json.id }}' }),
			],
			[defenderNode('Quick Scan', { resource: 'machineAction', operation: 'runAntivirusScan', machineId: rl('id', F[2].id), scanType: 'Quick' })],
			[defenderNode('Full Scan by DNS Name', { resource: 'machineAction', operation: 'runAntivirusScan', machineId: rl('dnsName', F[3].computerDnsName), scanType: 'Full' })],
			[
				defenderNode('Restrict', { resource: 'machineAction', operation: 'restrictAppExecution', machineId: rl('id', F[5].id) }),
				defenderNode('Remove Restriction', { resource: 'machineAction', operation: 'removeAppRestriction', machineId: rl('id', F[5].id) }),
			],
			[defenderNode('Quarantine', { resource: 'machineAction', operation: 'stopAndQuarantineFile', machineId: rl('id', F[6].id), sha1: SHA1.toUpperCase() })],
			[defenderNode('Offboard', { resource: 'machineAction', operation: 'offboard', machineId: rl('id', F[7].id), confirmOffboard: true })],
			[
				defenderNode('Isolate to Cancel', { resource: 'machineAction', operation: 'isolate', machineId: rl('id', F[10].id), isolationType: 'Selective' }),
				defenderNode('Cancel', { resource: 'machineAction', operation: 'cancel', actionId: '={{ $json.id }}' }),
			],
			[
				defenderNode('Isolate', { resource: 'machineAction', operation: 'isolate', machineId: rl('id', F[11].id) }),
				defenderNode('Isolate Again', { resource: 'machineAction', operation: 'isolate', machineId: rl('dnsName', F[11].computerDnsName) }),
			],
			[
				setNode('Alert', alert),
				defenderNode('Collect from Alert', { resource: 'machineAction', operation: 'collectInvestigationPackage', machineSource: 'alertItem' }),
			],
			[
				defenderNode('Get Many Actions', {
					resource: 'machineAction',
					operation: 'getAll',
					returnAll: true,
					filters: { machineId: F[5].id, type: ['RestrictCodeExecution', 'UnrestrictCodeExecution'], status: ['Pending', 'InProgress'] },
					options: { customerLabel: 'Contoso' },
				}),
			],
		]);
		const guards = fanOutWorkflow('e2e: respond guard-rails', [
			[defenderNode('Offboard Unconfirmed', { resource: 'machineAction', operation: 'offboard', machineId: rl('id', F[8].id) }, continueOnFail)],
			[defenderNode('Dry Run', { resource: 'machineAction', operation: 'isolate', machineId: rl('dnsName', F[12].computerDnsName), isolationType: 'Selective', comment: 'INC-4711: dry run', dryRun: true }, continueOnFail)],
			[defenderNode('Excluded (Skip)', { resource: 'machineAction', operation: 'isolate', machineId: rl('id', F[4].id), excludeTags: 'domain-controller, Critical-Server' }, continueOnFail)],
			[defenderNode('Excluded (Fail)', { resource: 'machineAction', operation: 'runAntivirusScan', machineId: rl('id', F[9].id), excludeTags: 'critical-server', options: { onExcluded: 'error' } }, continueOnFail)],
			[defenderNode('Ambiguous DNS Name', { resource: 'machineAction', operation: 'isolate', machineId: rl('dnsName', F[0].computerDnsName) }, continueOnFail)],
		]);
		// Phase 2 finds phase 1's actions itself (Get Many by machine and type), so all three import in one CLI call.
		const phase2 = fanOutWorkflow('e2e: respond operations, phase 2', [
			[
				defenderNode('Find Release', { resource: 'machineAction', operation: 'getAll', returnAll: true, filters: { machineId: F[1].id, type: ['Unisolate'] } }),
				defenderNode('Get Finished Action', { resource: 'machineAction', operation: 'get', actionId: '={{ $json.id }}' }),
			],
			[
				defenderNode('Find Collection', { resource: 'machineAction', operation: 'getAll', limit: 1, filters: { machineId: alertMachineId, type: ['CollectInvestigationPackage'], status: ['Succeeded'] } }),
				defenderNode('Download Link', { resource: 'machineAction', operation: 'getPackageDownloadLink', actionId: '={{ $json.id }}', options: { customerLabel: 'Contoso' } }),
			],
			[defenderNode('Cancelled Actions', { resource: 'machineAction', operation: 'getAll', returnAll: true, filters: { status: ['Cancelled'] } })],
			[
				defenderNode('Collect and Wait', {
					resource: 'machineAction',
					operation: 'collectInvestigationPackage',
					machineId: rl('id', F[13].id),
					comment: 'INC-4711: forensics',
					waitForCompletion: true,
					pollInterval: 1,
					maxWait: 30,
				}),
			],
		]);
		const [p1Id, guardId, p2Id] = await importWorkflows(n8n, [phase1, guards, phase2]);
		p1WorkflowId = p1Id;
		timings.imports = Date.now() - t0 - timings.setup;

		// The server (for the list search) starts while the CLI executions run.
		const server = start(n8n);

		actionsBeforeP1 = await actions();
		let mark = await logMark(emulator);
		p1 = await execute(n8n, p1WorkflowId);
		p1Api = api(await emulatorRequests(emulator, { sinceSeq: mark }));
		actionsAfterP1 = await actions();
		p1ExecutionId = String(byNode(p1, 'Execution')[0]?.executionId);
		console.log(`[e2e] phase 1: ${p1.status} in ${p1.durationMs} ms; ${p1Api.length} API requests; ${actionsAfterP1.length - actionsBeforeP1.length} actions`);

		mark = await logMark(emulator);
		guard = await execute(n8n, guardId);
		guardAll = await emulatorRequests(emulator, { sinceSeq: mark });
		actionsAfterGuard = await actions();
		console.log(`[e2e] guards: ${guard.status} in ${guard.durationMs} ms; ${guardAll.length} requests`);

		// Move the lifecycle on the emulator clock: Pending → InProgress → Succeeded (Cancelled stays Cancelled).
		const record = (list: StoredAction[]) => {
			for (const a of list) (lifecycle[a.id] ??= []).push(a.status);
		};
		record(await actions());
		await emulator.control('POST', '/clock', { advanceMs: SLOW.pendingMs + 5_000 });
		record(await actions());
		await emulator.control('POST', '/clock', { advanceMs: SLOW.inProgressMs + 5_000 });
		record(await actions());

		// Phase 2: reads of the finished actions, and Collect with Wait for Completion in real time.
		await emulator.control('POST', '/machine-api/timing', { pendingMs: 1200, inProgressMs: 1200 });
		mark = await logMark(emulator);
		p2 = await execute(n8n, p2Id);
		p2Api = api(await emulatorRequests(emulator, { sinceSeq: mark }));
		actionsAfterP2 = await actions();
		console.log(`[e2e] phase 2: ${p2.status} in ${p2.durationMs} ms; ${p2Api.length} API requests`);

		// The editor's From List search for the Machine locator, through n8n's REST API.
		await server;
		mark = await logMark(emulator);
		search = await listSearch(n8n, {
			methodName: 'searchMachines',
			currentNodeParameters: { resource: 'machine', operation: 'get', machineId: rl('list', '') },
			filter: F[3].computerDnsName.split('.')[0].toUpperCase(),
		});
		searchApi = api(await emulatorRequests(emulator, { sinceSeq: mark }));
		timings.total = Date.now() - t0;
		console.log(`[e2e] respond-operations timings (ms): ${JSON.stringify(timings)}`);
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	it('phase 1 runs without an error and without a 4xx/5xx answer', () => {
		expect(p1.errorMessage).toBeUndefined();
		expect(p1.ok).toBe(true);
		// The only non-2xx answer allowed: the second Isolate's 400 ActiveRequestAlreadyExists.
		expect(p1Api.filter((e) => e.status >= 400).map((e) => `${describeEntry(e)} ${e.errorCode ?? ''}`)).toEqual([
			expect.stringMatching(new RegExp(`POST /api/machines/${F[11].id}/isolate → 400 .*ActiveRequestAlreadyExists`)),
		]);
	});

	describe('Machine', () => {
		it('Get By ID: one GET of the machine, the stored record with portal link, tenant and dedup key', async () => {
			const item = one(p1, 'Get by ID');
			const truth = (await machines()).find((m) => m.id === F[1].id)!;
			const { id, computerDnsName, osPlatform, healthStatus, lastIpAddress, machineTags, riskScore, exposureLevel } = truth;
			expect(item).toMatchObject({ id, computerDnsName, osPlatform, healthStatus, lastIpAddress, machineTags, riskScore, exposureLevel, tenantId: contoso.id, dedupKey: `${contoso.id}:${F[1].id}` });
			expect(String(item.portalUrl)).toContain(F[1].id);
			expect(p1Api.filter((e) => e.path === `/api/machines/${F[1].id}` && e.method === 'GET')).toHaveLength(1);
		});

		it('Get By DNS Name (any case): one startswith list call, the one machine of that name (simplified)', () => {
			const item = one(p1, 'Get by DNS Name');
			expect(item).toMatchObject({ id: F[2].id, computerDnsName: F[2].computerDnsName, machineTags: F[2].machineTags, tenantId: contoso.id });
			// Simplified: the key fields only (the full record has ipAddresses, aadDeviceId, …).
			expect(Object.keys(item)).not.toContain('ipAddresses');
			expect(Object.keys(item)).not.toContain('aadDeviceId');
			const lookups = p1Api.filter((e) => e.path === '/api/machines' && e.query.$filter === `startswith(computerDnsName,'${F[2].computerDnsName}')`);
			expect(lookups.map((e) => e.query)).toEqual([{ $filter: `startswith(computerDnsName,'${F[2].computerDnsName}')`, $top: '100' }]);
		});

		it('From List: the editor\'s search (n8n REST API) finds the machine by name; its value runs as the locator', () => {
			expect(search.results).toEqual([expect.objectContaining({ value: F[3].id, name: expect.stringContaining(F[3].computerDnsName) })]);
			expect(searchApi.map((e) => [e.path, e.query, e.status, e.tenantId])).toEqual([
				['/api/machines', { $top: '100', $filter: `startswith(computerDnsName,'${F[3].computerDnsName.split('.')[0]}')` }, 200, contoso.id],
			]);
			expect(one(p1, 'Get from List')).toMatchObject({ id: F[3].id, computerDnsName: F[3].computerDnsName });
		});

		it('Find by IP with a timestamp: the findbyip call carries IP and time; the machines that had the IP', async () => {
			const items = byNode(p1, 'Find by IP');
			const ip = F[5].lastIpAddress;
			const calls = p1Api.filter((e) => decoded(e).toLowerCase().startsWith('/api/machines/findbyip('));
			expect(calls.map(decoded)).toEqual([`/api/machines/findbyip(ip='${ip}',timestamp=${findByIpTimestamp})`]);
			expect(calls[0].status).toBe(200);
			const truth = (await direct<{ value: Array<{ id: string }> }>(`/api/machines/findbyip(ip='${ip}',timestamp=${findByIpTimestamp})`)).value;
			expect(items.map((i) => i.id).sort()).toEqual(truth.map((m) => m.id).sort());
			expect(items.map((i) => i.id)).toContain(F[5].id);
			for (const item of items) expect(item.lastIpAddress).toBe(ip);
		});

		it('Find by Tag: exactly the stored machines carrying the tag', async () => {
			const items = byNode(p1, 'Find by Tag');
			const tagged = (await machines()).filter((m) => m.machineTags.some((t) => t.toLowerCase() === 'critical-server')).map((m) => m.id);
			expect(items.map((i) => i.id).sort()).toEqual(tagged.sort());
			expect(items.map((i) => i.id)).toEqual(expect.arrayContaining([F[4].id, F[9].id]));
		});

		it('Add Tag then Remove Tag: the emulator had the tag between the two calls and not after', async () => {
			const added = one(p1, 'Add Tag');
			expect(added).toMatchObject({ id: F[6].id, tenantId: contoso.id });
			expect(added.machineTags).toContain(TAG);
			expect(byNode(p1, 'Tagged').map((i) => i.id)).toEqual([F[6].id]);
			const removed = one(p1, 'Remove Tag');
			expect(removed.id).toBe(F[6].id);
			expect(removed.machineTags).not.toContain(TAG);
			expect(byNode(p1, 'Tagged After Remove').filter((i) => i.id)).toEqual([]);
			const tagCalls = p1Api.filter((e) => e.path === `/api/machines/${F[6].id}/tags`);
			expect(tagCalls.map((e) => `${e.method} ${e.status}`)).toEqual(['POST 200', 'POST 200']);
			const findCalls = p1Api.filter((e) => e.path === '/api/machines/findbytag' && e.query.tag === TAG);
			expect(findCalls).toHaveLength(2);
			// Order on the emulator: add < find (hit) < remove < find (none).
			expect(tagCalls[0].seq).toBeLessThan(findCalls[0].seq);
			expect(findCalls[0].seq).toBeLessThan(tagCalls[1].seq);
			expect(tagCalls[1].seq).toBeLessThan(findCalls[1].seq);
			expect((await machines()).find((m) => m.id === F[6].id)?.machineTags).toEqual(F[6].machineTags);
		});

		it('Get Logged-On Users: the emulator\'s users of the machine, each with machineId, tenant and label', async () => {
			const items = byNode(p1, 'Logged-On Users');
			const truth = (await direct<{ value: Array<Record<string, unknown>> }>(`/api/machines/${F[7].id}/logonusers`)).value;
			expect(truth.length).toBeGreaterThan(0);
			expect(items).toHaveLength(truth.length);
			items.forEach((item, k) => expect(item).toMatchObject({ ...truth[k], machineId: F[7].id, tenantId: contoso.id, customerLabel: 'Contoso' }));
			expect(p1Api.filter((e) => e.path === `/api/machines/${F[7].id}/logonusers`).map((e) => e.status)).toEqual([200]);
		});

		it('Get Alerts: the emulator\'s alerts of the device, shaped like Alert output (tenantId, dedupKey)', async () => {
			const items = byNode(p1, 'Machine Alerts');
			const truth = (await direct<{ value: Array<{ id: string }> }>(`/api/machines/${alertMachineId}/alerts`)).value;
			expect(truth.length).toBeGreaterThan(0);
			expect(items.map((i) => i.id).sort()).toEqual(truth.map((a) => a.id).sort());
			for (const item of items) expect(item).toMatchObject({ machineId: alertMachineId, tenantId: contoso.id, dedupKey: `${contoso.id}:${String(item.id)}` });
			expect(p1Api.filter((e) => e.path === `/api/machines/${alertMachineId}/alerts`).map((e) => e.status)).toEqual([200]);
		});

		it('per-item Customer Tenant: each item read in its own tenant (GUID and domain), tenantId and label on the output', () => {
			const items = byNode(p1, 'Get per Customer');
			expect(items).toEqual([
				expect.objectContaining({ id: F[8].id, tenantId: contoso.id, customerLabel: 'Contoso', dedupKey: `${contoso.id}:${F[8].id}` }),
				expect.objectContaining({ id: fab[0].id, tenantId: fabrikam.id, customerLabel: 'Fabrikam', dedupKey: `${fabrikam.id}:${fab[0].id}` }),
			]);
			const lookups = p1Api.filter((e) => e.path === '/api/machines' && [F[8], fab[0]].some((m) => e.query.$filter === `startswith(computerDnsName,'${m.computerDnsName}')`));
			expect(lookups.map((e) => [e.query.$filter, e.tenantId])).toEqual([
				[`startswith(computerDnsName,'${F[8].computerDnsName}')`, contoso.id],
				[`startswith(computerDnsName,'${fab[0].computerDnsName}')`, fabrikam.id],
			]);
		});
	});

	describe('Machine Action', () => {
		const comment = () => `n8n workflow e2e: respond operations (${p1WorkflowId}), execution ${p1ExecutionId}`;
		const posts = () => p1Api.filter((e) => e.method === 'POST' && e.path.startsWith('/api/machines/') && !e.path.endsWith('/tags'));

		it('phase 1 POSTed exactly one request per action, and the emulator stored exactly those actions', () => {
			expect(
				posts()
					.map((e) => `${e.path} ${e.status}`)
					.sort(),
			).toEqual(
				[
					`/api/machines/${F[1].id}/unisolate 201`,
					`/api/machines/${F[2].id}/runAntiVirusScan 201`,
					`/api/machines/${F[3].id}/runAntiVirusScan 201`,
					`/api/machines/${F[5].id}/restrictCodeExecution 201`,
					`/api/machines/${F[5].id}/unrestrictCodeExecution 201`,
					`/api/machines/${F[6].id}/StopAndQuarantineFile 201`,
					`/api/machines/${F[7].id}/offboard 201`,
					`/api/machines/${F[10].id}/isolate 201`,
					`/api/machines/${F[11].id}/isolate 201`,
					`/api/machines/${F[11].id}/isolate 400`,
					`/api/machines/${alertMachineId}/collectInvestigationPackage 201`,
				].sort(),
			);
			const created = actionsAfterP1.filter((a) => !actionsBeforeP1.some((b) => b.id === a.id));
			expect(created.map((a) => `${a.type} ${a.machineId}`).sort()).toEqual(
				[
					`Unisolate ${F[1].id}`,
					`RunAntiVirusScan ${F[2].id}`,
					`RunAntiVirusScan ${F[3].id}`,
					`RestrictCodeExecution ${F[5].id}`,
					`UnrestrictCodeExecution ${F[5].id}`,
					`StopAndQuarantineFile ${F[6].id}`,
					`Offboard ${F[7].id}`,
					`Isolate ${F[10].id}`,
					`Isolate ${F[11].id}`,
					`CollectInvestigationPackage ${alertMachineId}`,
				].sort(),
			);
		});

		it('Comment default: every action\'s requestor comment names this workflow and execution', () => {
			expect(p1ExecutionId).toMatch(/^\d+$/);
			const created = actionsAfterP1.filter((a) => !actionsBeforeP1.some((b) => b.id === a.id));
			expect(new Set(created.map((a) => a.requestorComment))).toEqual(new Set([comment()]));
		});

		it('Release from Isolation → Get: the Unisolate action, read back with its current status', () => {
			const released = one(p1, 'Release');
			expect(released).toMatchObject({ type: 'Unisolate', machineId: F[1].id, status: 'Pending', alreadyPending: false, tenantId: contoso.id });
			const got = one(p1, 'Get Action');
			expect(got).toMatchObject({ id: released.id, type: 'Unisolate', status: 'Pending', tenantId: contoso.id, dedupKey: `${contoso.id}:${String(released.id)}` });
			expect(p1Api.filter((e) => e.method === 'GET' && e.path === `/api/machineactions/${String(released.id)}`)).toHaveLength(1);
		});

		it('Run Antivirus Scan: Quick by ID and Full by DNS name, the scan type stored as the scope', () => {
			const quick = one(p1, 'Quick Scan');
			const full = one(p1, 'Full Scan by DNS Name');
			expect(stored(actionsAfterP1, quick.id)).toMatchObject({ type: 'RunAntiVirusScan', scope: 'Quick', machineId: F[2].id });
			expect(stored(actionsAfterP1, full.id)).toMatchObject({ type: 'RunAntiVirusScan', scope: 'Full', machineId: F[3].id });
			expect(p1Api.some((e) => e.path === '/api/machines' && e.query.$filter === `startswith(computerDnsName,'${F[3].computerDnsName}')`)).toBe(true);
		});

		it('Restrict App Execution, then Remove App Restriction on the same machine', () => {
			expect(stored(actionsAfterP1, one(p1, 'Restrict').id)).toMatchObject({ type: 'RestrictCodeExecution', machineId: F[5].id });
			expect(stored(actionsAfterP1, one(p1, 'Remove Restriction').id)).toMatchObject({ type: 'UnrestrictCodeExecution', machineId: F[5].id });
		});

		it('Stop and Quarantine File: the SHA-1 (sent in lower case) is the action\'s file', () => {
			expect(stored(actionsAfterP1, one(p1, 'Quarantine').id)).toMatchObject({ type: 'StopAndQuarantineFile', machineId: F[6].id, relatedFileInfo: { fileIdentifier: SHA1, fileIdentifierType: 'Sha1' } });
		});

		it('Offboard with the confirmation: sent and stored', () => {
			expect(stored(actionsAfterP1, one(p1, 'Offboard').id)).toMatchObject({ type: 'Offboard', machineId: F[7].id, status: 'Pending' });
		});

		it('Cancel: the pending isolation is Cancelled in the emulator, with the default comment', () => {
			const isolated = one(p1, 'Isolate to Cancel');
			const cancelled = one(p1, 'Cancel');
			expect(cancelled).toMatchObject({ id: isolated.id, status: 'Cancelled', tenantId: contoso.id });
			expect(stored(actionsAfterP1, isolated.id)).toMatchObject({ status: 'Cancelled', scope: 'Selective', cancellationComment: comment() });
			expect(p1Api.filter((e) => e.path === `/api/machineactions/${String(isolated.id)}/cancel`).map((e) => `${e.method} ${e.status}`)).toEqual(['POST 200']);
			expect(lifecycle[String(isolated.id)]).toEqual(['Cancelled', 'Cancelled', 'Cancelled']);
		});

		it('alreadyPending: a second Isolate (by DNS name) of the same machine outputs the pending action; one action stored', () => {
			const first = one(p1, 'Isolate');
			const again = one(p1, 'Isolate Again');
			expect(first).toMatchObject({ type: 'Isolate', machineId: F[11].id, alreadyPending: false });
			expect(again).toMatchObject({ id: first.id, type: 'Isolate', machineId: F[11].id, alreadyPending: true, status: 'Pending' });
			expect(actionsAfterP1.filter((a) => a.machineId === F[11].id && a.type === 'Isolate').map((a) => a.id)).toEqual([first.id]);
		});

		it('Machine from an alert item: the package collection runs on the alert\'s device', () => {
			expect(one(p1, 'Collect from Alert')).toMatchObject({ type: 'CollectInvestigationPackage', machineId: alertMachineId, status: 'Pending' });
			// The alert's machine ID is used as it is: no lookup of the machine before the POST.
			expect(p1Api.filter((e) => e.path === `/api/machines/${alertMachineId}`)).toEqual([]);
		});

		it('Get Many Actions with filters: the OData filter is the API\'s, the result the emulator\'s matching actions', () => {
			const items = byNode(p1, 'Get Many Actions');
			const truth = actionsAfterP1.filter((a) => a.machineId === F[5].id && ['RestrictCodeExecution', 'UnrestrictCodeExecution'].includes(a.type));
			expect(truth).toHaveLength(2);
			expect(items.map((i) => i.id).sort()).toEqual(truth.map((a) => a.id).sort());
			for (const item of items) expect(item).toMatchObject({ tenantId: contoso.id, customerLabel: 'Contoso', machineId: F[5].id });
			// (The other list call of phase 1 is the second Isolate's look-up of the pending action.)
			const list = p1Api.filter((e) => e.path === '/api/machineactions' && String(e.query.$filter).includes(F[5].id));
			expect(list).toHaveLength(1);
			const filter = String(list[0].query.$filter);
			for (const part of [`machineId eq '${F[5].id}'`, "type eq 'RestrictCodeExecution'", "type eq 'UnrestrictCodeExecution'", "status eq 'Pending'", "status eq 'InProgress'"]) {
				expect(filter).toContain(part);
			}
		});

		it('the action lifecycle moves on the emulator clock: Pending → InProgress → Succeeded', () => {
			const release = String(one(p1, 'Release').id);
			expect(lifecycle[release]).toEqual(['Pending', 'InProgress', 'Succeeded']);
			const offboard = String(one(p1, 'Offboard').id);
			expect(lifecycle[offboard]).toEqual(['Pending', 'InProgress', 'Succeeded']);
		});
	});

	describe('guard-rails: nothing is sent when they trip', () => {
		it('the guard run sent no POST at all and the emulator stored no action', () => {
			expect(guard.ok).toBe(true);
			expect(guardAll.filter((e) => e.kind === 'api' && e.method !== 'GET').map(describeEntry)).toEqual([]);
			expect(actionsAfterGuard.map((a) => a.id)).toEqual(actionsAfterP1.map((a) => a.id));
		});

		it('Offboard without the confirmation: an error that says so, and not one request about that machine', () => {
			expect(one(guard, 'Offboard Unconfirmed')).toMatchObject({ error: 'Offboarding is not confirmed', description: expect.stringContaining('nothing was sent') });
			expect(guardAll.filter((e) => e.path.includes(F[8].id)).map(describeEntry)).toEqual([]);
		});

		it('Dry Run: the request that would be sent (path, body with the comment), after resolving the DNS name', () => {
			expect(one(guard, 'Dry Run')).toMatchObject({
				dryRun: true,
				operation: 'isolate',
				machineId: F[12].id,
				computerDnsName: F[12].computerDnsName,
				tenantId: contoso.id,
				request: { method: 'POST', path: expect.stringMatching(new RegExp(`/api/machines/${F[12].id}/isolate$`)), body: { Comment: 'INC-4711: dry run', IsolationType: 'Selective' } },
			});
			expect(guardAll.some((e) => e.path === '/api/machines' && e.query.$filter === `startswith(computerDnsName,'${F[12].computerDnsName}')`)).toBe(true);
		});

		it('Exclude Tags: a tagged machine is skipped (tags compared without case) or fails, as chosen; its tags were read', () => {
			expect(one(guard, 'Excluded (Skip)')).toMatchObject({ skipped: true, machineId: F[4].id, excludedTags: ['critical-server'], reason: expect.stringContaining('was not sent') });
			expect(one(guard, 'Excluded (Fail)')).toMatchObject({ error: expect.stringMatching(new RegExp(`Machine ${F[9].id} carries the excluded tag critical-server: run antivirus scan was not sent`)) });
			const reads = guardAll.filter((e) => e.kind === 'api' && e.path === '/api/machines' && String(e.query.$filter ?? '').includes(F[4].id));
			expect(reads.length).toBeGreaterThanOrEqual(1);
		});

		it('a DNS name of two machines: an error that lists both, nothing sent', () => {
			const item = one(guard, 'Ambiguous DNS Name');
			expect(String(item.error)).toContain(`matches 2 machines in tenant ${contoso.id}`);
			expect(String(item.error)).toContain(F[0].id);
			expect(String(item.error)).toContain(F[14].id);
			expect(String(item.description)).toContain('Nothing was sent');
		});
	});

	describe('phase 2, after the clock moved', () => {
		it('runs without an error or a 4xx/5xx', () => {
			expect(p2.errorMessage).toBeUndefined();
			expect(p2.ok).toBe(true);
			expect(p2Api.filter((e) => e.status >= 400).map(describeEntry)).toEqual([]);
		});

		it('Get Many by machine and type finds the release; Get Action: it is Succeeded now', () => {
			const release = one(p1, 'Release').id;
			expect(byNode(p2, 'Find Release').map((i) => i.id)).toEqual([release]);
			expect(one(p2, 'Get Finished Action')).toMatchObject({ id: release, status: 'Succeeded', type: 'Unisolate', machineId: F[1].id });
		});

		it('Get Package Download Link: the emulator\'s link of the succeeded collection', () => {
			const id = String(one(p1, 'Collect from Alert').id);
			expect(one(p2, 'Find Collection')).toMatchObject({ id, status: 'Succeeded' });
			const item = one(p2, 'Download Link');
			expect(item).toMatchObject({ actionId: id, tenantId: contoso.id, customerLabel: 'Contoso', dedupKey: `${contoso.id}:${id}` });
			expect(String(item.packageDownloadUrl)).toMatch(new RegExp(`^https://userrequests-us\\.securitycenter\\.windows\\.com:443/safedownload/WDATP_Investigation_Package\\.zip\\?token=${id.replace(/-/g, '')}&se=`));
			expect(p2Api.filter((e) => e.path === `/api/machineactions/${id}/GetPackageUri`).map((e) => e.status)).toEqual([200]);
		});

		it('Get Many Actions by status: exactly the cancelled action', () => {
			expect(byNode(p2, 'Cancelled Actions').map((i) => i.id)).toEqual(actionsAfterP2.filter((a) => a.status === 'Cancelled').map((a) => a.id));
			expect(byNode(p2, 'Cancelled Actions').map((i) => i.id)).toEqual([one(p1, 'Isolate to Cancel').id]);
		});

		it('Collect Investigation Package with Wait for Completion: polled until Succeeded, the download link added', () => {
			const item = one(p2, 'Collect and Wait');
			expect(item).toMatchObject({ type: 'CollectInvestigationPackage', machineId: F[13].id, status: 'Succeeded', completed: true, waitTimedOut: false, requestorComment: 'INC-4711: forensics' });
			expect(String(item.packageDownloadUrl)).toContain(`token=${String(item.id).replace(/-/g, '')}`);
			expect(stored(actionsAfterP2, item.id).status).toBe('Succeeded');
			const polls = p2Api.filter((e) => e.path === '/api/machineactions' && e.query.$filter === `id eq '${String(item.id)}'`);
			expect(polls.length).toBeGreaterThanOrEqual(2);
			expect(p2Api.filter((e) => e.method === 'POST').map((e) => `${e.path} ${e.status}`)).toEqual([`/api/machines/${F[13].id}/collectInvestigationPackage 201`]);
		});
	});

});
