/**
 * Respond safely, in a real n8n 2.41.1 (`n8n execute`) against the emulator with Defender's documented rate limits
 * on: Machine → Get Many; Machine Action → Isolate (by DNS name) with Wait for Completion; and the Max Machines per
 * Execution guard-rail tripping on 11 machines with NOTHING sent (checked on the emulator's request log).
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
import { manualWorkflow } from './lib/workflows';

interface FleetMachine {
	id: string;
	computerDnsName: string;
	machineTags: string[];
}

const ROLES = ['Alert.ReadWrite.All', 'Machine.ReadWrite.All', 'Machine.Isolate', 'Machine.Scan', 'File.Read.All', 'Ip.Read.All', 'URL.Read.All', 'User.Read.All'];

describe('respond safely: machines and machine actions in a real n8n against the emulator', () => {
	let n8n: N8nInstance;
	let emulator: EmulatorProcess;
	let contoso: { id: string };
	let fleet: FleetMachine[];
	let respond: ExecuteResult;
	let respondApi: LogEntry[];
	let guard: ExecuteResult;
	let guardAll: LogEntry[];

	beforeAll(async () => {
		const tgz = packTarball();
		emulator = await startEmulatorProcess();
		const { state } = emulator;
		contoso = state.tenants[0] as unknown as { id: string };
		// Consent with the response permissions (before any token is issued), a fleet, and a quick action lifecycle.
		await emulator.control('POST', '/roles', { tenantId: contoso.id, clientId: state.clientId, roles: ROLES });
		fleet = (await emulator.control<{ value: FleetMachine[] }>('POST', `/machine-api/tenants/${contoso.id}/machines`, { fleet: { count: 15, prefix: 'e2e-ws-', criticalEvery: 5 } })).value;
		await emulator.control('POST', '/machine-api/timing', { pendingMs: 1000, inProgressMs: 1500 });

		n8n = await createInstance({ name: 'respond' });
		await installPackage(n8n, await tgz);
		await importCredentials(n8n, [emulatorCredential(state)]);

		const respondWf = fanOutWorkflow('e2e: respond', [
			[
				defenderNode('Get Many Machines', {
					resource: 'machine',
					operation: 'getAll',
					limit: 50,
					filters: { dnsNameStartsWith: 'e2e-ws-' },
					options: { customerLabel: 'Contoso' },
				}),
			],
			[
				defenderNode('Isolate and Wait', {
					resource: 'machineAction',
					operation: 'isolate',
					machineId: { __rl: true, mode: 'dnsName', value: fleet[1].computerDnsName },
					isolationType: 'Full',
					waitForCompletion: true,
					pollInterval: 1,
					maxWait: 60,
					excludeTags: 'critical-server',
				}),
			],
		]);
		const guardWf = manualWorkflow('e2e: max machines guard', [
			{
				id: 'node-ids',
				name: 'Machine IDs',
				type: 'n8n-nodes-base.set',
				typeVersion: 3.4,
				position: [0, 0],
				parameters: {
					mode: 'manual',
					assignments: { assignments: [{ id: 'a1', name: 'ids', type: 'array', value: `={{ ${JSON.stringify(fleet.slice(2, 13).map((m) => m.id))} }}` }] },
					options: {},
				},
			},
			{ id: 'node-split', name: 'One item per machine', type: 'n8n-nodes-base.splitOut', typeVersion: 1, position: [0, 0], parameters: { fieldToSplitOut: 'ids', options: {} } },
			defenderNode('Isolate 11', { resource: 'machineAction', operation: 'isolate', machineId: { __rl: true, mode: 'id', value: '={{ $json.ids }}' } }),
		]);
		const respondId = await importWorkflow(n8n, respondWf);
		const guardId = await importWorkflow(n8n, guardWf);

		let mark = await logMark(emulator);
		respond = await execute(n8n, respondId);
		respondApi = (await emulatorRequests(emulator, { sinceSeq: mark })).filter((e) => e.kind === 'api');
		console.log(`[e2e] respond run: ${respond.status} in ${respond.durationMs} ms; ${respondApi.length} API requests`);

		mark = await logMark(emulator);
		guard = await execute(n8n, guardId);
		guardAll = await emulatorRequests(emulator, { sinceSeq: mark });
		console.log(`[e2e] guard run: ${guard.status} in ${guard.durationMs} ms; ${guardAll.length} requests`);
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	it('runs the respond workflow without an error and without a 429', () => {
		expect(respond.errorMessage).toBeUndefined();
		expect(respond.ok).toBe(true);
		expect(respondApi.filter((e) => e.status >= 400).map(describeEntry)).toEqual([]);
	});

	it('Machine → Get Many: the fleet, filtered by the API, each with tenantId, dedupKey and the label', () => {
		const items = jsonOf(respond.run, 'Get Many Machines');
		expect(items.map((i) => i.id).sort()).toEqual(fleet.map((m) => m.id).sort());
		for (const item of items) {
			expect(item).toMatchObject({ tenantId: contoso.id, dedupKey: `${contoso.id}:${String(item.id)}`, customerLabel: 'Contoso' });
		}
		const lists = respondApi.filter((e) => e.path === '/api/machines' && String(e.query.$filter ?? '').startsWith('startswith(computerDnsName,'));
		expect(lists.map((e) => e.query)).toEqual([
			{ $top: '50', $filter: "startswith(computerDnsName,'e2e-ws-')" },
			{ $top: '100', $filter: `startswith(computerDnsName,'${fleet[1].computerDnsName}')` },
		]);
	});

	it('Machine Action → Isolate by DNS name with Wait for Completion: one POST, polled by ID list until Succeeded', async () => {
		const [item] = jsonOf(respond.run, 'Isolate and Wait');
		expect(item).toMatchObject({ type: 'Isolate', scope: 'Full', machineId: fleet[1].id, status: 'Succeeded', completed: true, waitTimedOut: false, alreadyPending: false, tenantId: contoso.id });
		expect(String(item.requestorComment)).toMatch(/^n8n workflow e2e: respond \(.+\), execution \d+$/);
		const postsSeen = respondApi.filter((e) => e.method === 'POST');
		expect(postsSeen.map((e) => `${e.path} ${e.status}`)).toEqual([`/api/machines/${fleet[1].id}/isolate 201`]);
		const polls = respondApi.filter((e) => e.path === '/api/machineactions');
		expect(polls.length).toBeGreaterThanOrEqual(1);
		expect(polls.length).toBeLessThanOrEqual(6);
		for (const p of polls) expect(p.query).toEqual({ $filter: `id eq '${String(item.id)}'`, $top: '1' });
		const stored = (await emulator.control<{ value: Array<{ id: string; status: string }> }>('GET', `/machine-api/tenants/${contoso.id}/actions`)).value;
		expect(stored.find((a) => a.id === item.id)?.status).toBe('Succeeded');
	});

	it('Max Machines per Execution: 11 machines with the default 10 stop the node before anything is sent', () => {
		expect(guard.ok).toBe(false);
		expect(guard.errorMessage ?? '').toMatch(/Max Machines per Execution exceeded: this would act on 11 machines .*10 allowed.*Nothing was sent/);
		// Not one request of any kind reached the emulator: no token, no read, no action.
		expect(guardAll.filter((e) => e.kind !== 'control').map(describeEntry)).toEqual([]);
		expect(jsonOf(guard.run, 'One item per machine')).toHaveLength(11);
	});
});
