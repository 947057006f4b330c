/**
 * The respond example (examples/mssp-respond-isolate-block.workflow.json) in a real n8n 2.41.1 (`n8n execute`)
 * against the emulator, as the demo's second step runs it: a new High alert with a file in each of two customer
 * tenants → isolate its device (Wait for Completion) → block the file's SHA-256 → comment on the alert → ticket.
 * Checked on the emulator: one Succeeded isolate action per machine, one Block indicator per hash in its own tenant,
 * the comment on each alert, and no write to any other tenant, machine or alert. Plus the guard-rail: the same
 * workflow with Max Machines per Execution = 1 while 2 machines qualify stops before sending any isolate request.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { checkRespond, plantAlerts, prepareRespond, RESPOND_EXAMPLE, type PlantedAlert, type RespondCheck, type ResponseTicket } from '../../demo/run';
import {
	createInstance,
	disposeInstance,
	emulatorCredential,
	execute,
	importCredentials,
	importWorkflow,
	installPackage,
	newWorkflowId,
	nodeItems,
	packTarball,
	REPO_ROOT,
	startEmulatorProcess,
	type EmulatorProcess,
	type ExecuteResult,
	type ImportableWorkflow,
	type N8nInstance,
} from './lib';
import { describeEntry, emulatorRequests, jsonOf, logMark, type LogEntry } from './lib/scenario';

const ISOLATE_NODE = 'Isolate the device';

describe('the respond example (isolate → block → comment → ticket, two tenants) in a real n8n against the emulator', () => {
	let n8n: N8nInstance;
	let emulator: EmulatorProcess;
	let planted: PlantedAlert[];
	let guard: ExecuteResult;
	let guardLog: LogEntry[];
	let respond: ExecuteResult;
	let check: RespondCheck | undefined;
	let checkError: unknown;

	beforeAll(async () => {
		const tgz = packTarball();
		emulator = await startEmulatorProcess();
		const { state } = emulator;
		const customers = state.tenants.filter((t) => /contoso|fabrikam/.test(t.domain ?? ''));
		expect(customers).toHaveLength(2);
		await prepareRespond(emulator, customers);
		planted = await plantAlerts(emulator, customers);

		n8n = await createInstance({ name: 'respond-example' });
		await installPackage(n8n, await tgz);
		await importCredentials(n8n, [emulatorCredential(state, { id: 'mdeMsspCredential', name: 'Defender (MSSP app)', tenantId: String(state.homeTenantId ?? customers[0].id) })]);
		const example = JSON.parse(readFileSync(join(REPO_ROOT, 'examples', RESPOND_EXAMPLE), 'utf8')) as ImportableWorkflow;
		const guarded: ImportableWorkflow = {
			...example,
			id: newWorkflowId(),
			name: `${example.name} (max 1 machine)`,
			nodes: example.nodes.map((n) => (n.name === ISOLATE_NODE ? { ...n, parameters: { ...n.parameters, maxMachines: 1 } } : n)),
		};
		const guardId = await importWorkflow(n8n, guarded);
		const respondId = await importWorkflow(n8n, { ...example, id: newWorkflowId() });

		// The guard-rail run first: it must leave nothing behind, so the real run's checks also prove that.
		let mark = await logMark(emulator);
		guard = await execute(n8n, guardId);
		guardLog = await emulatorRequests(emulator, { sinceSeq: mark });
		console.log(`[e2e] guard run: ${guard.status} in ${guard.durationMs} ms; ${guardLog.length} requests`);

		mark = await logMark(emulator);
		respond = await execute(n8n, respondId);
		try {
			check = await checkRespond(emulator, planted, nodeItems(respond.run, 'Ticket') as unknown as ResponseTicket[], mark);
		} catch (error) {
			checkError = error;
		}
		console.log(`[e2e] respond run: ${respond.status} in ${respond.durationMs} ms; ${check?.api.length ?? '?'} API requests`);
	});

	afterAll(async () => {
		if (n8n) await disposeInstance(n8n);
		if (emulator) await emulator.stop();
	});

	it('Max Machines per Execution = 1 with 2 qualifying machines: the node stops before any isolate, block or comment', () => {
		expect(guard.ok).toBe(false);
		expect(guard.errorMessage ?? '').toMatch(/Max Machines per Execution exceeded: this would act on 2 machines .*1 allowed.*Nothing was sent/);
		// The alerts were read (one list per tenant); after that, nothing: no machine read, no action, no indicator, no comment.
		expect(jsonOf(guard.run, 'Has a device and a file hash')).toHaveLength(2);
		const api = guardLog.filter((e) => e.kind === 'api');
		expect(api.map((e) => `${e.method} ${e.path}`)).toEqual(['GET /api/alerts', 'GET /api/alerts']);
		expect(guardLog.filter((e) => e.kind === 'api' && (e.method !== 'GET' || e.path !== '/api/alerts')).map(describeEntry)).toEqual([]);
		expect(guard.run.data.resultData.runData['Block the file hash']).toBeUndefined();
	});

	it('runs the example without an error', () => {
		expect(respond.errorMessage).toBeUndefined();
		expect(respond.ok).toBe(true);
	});

	it('isolates each alert device (Succeeded), blocks each file hash in its own tenant, comments on each alert, writes nothing else', () => {
		if (checkError) throw checkError;
		expect(check).toBeDefined();
		for (const counts of check!.perTenant.values()) expect(counts).toMatchObject({ isolated: 1, blocked: 1, commented: 1 });
		expect([...check!.perTenant.keys()].sort()).toEqual(['Contoso', 'Fabrikam']);
	});

	it('the isolation is Selective, waited for, and its comment points back to the n8n workflow and execution', () => {
		const actions = jsonOf(respond.run, ISOLATE_NODE);
		expect(actions).toHaveLength(2);
		for (const a of actions) {
			expect(a).toMatchObject({ type: 'Isolate', scope: 'Selective', status: 'Succeeded', completed: true, waitTimedOut: false });
			const p = planted.find((x) => x.machineId === a.machineId)!;
			expect(p).toBeDefined();
			expect(a.tenantId).toBe(p.tenantId);
			expect(String(a.requestorComment)).toMatch(new RegExp(`^n8n workflow .+ \\(.+\\), execution \\d+: alert ${p.alertId} `));
		}
	});

	it('the tickets carry the customer, the action, the indicator and the hash', () => {
		const tickets = jsonOf(respond.run, 'Ticket');
		expect(tickets.map((t) => t.customer).sort()).toEqual(['Contoso', 'Fabrikam']);
		for (const t of tickets) {
			const p = planted.find((x) => x.alertId === t.alertId)!;
			expect(t).toMatchObject({ machineId: p.machineId, machine: p.computerDnsName, isolationStatus: 'Succeeded', indicatorType: 'FileSha256', blockedHash: p.sha256 });
			expect(String(t.indicatorId)).not.toBe('');
		}
	});
});
