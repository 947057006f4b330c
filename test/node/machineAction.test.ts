/**
 * Machine Action resource through n8n's engine against the emulator: response actions with their guard-rails
 * (comment, Max Machines per Execution, Exclude Tags, Dry Run, Offboard confirmation, AI-agent opt-in), wait for
 * completion (many actions polled together), ActiveRequestAlreadyExists, lost responses, permissions, reads.
 */
import { type IDataObject, type IExecuteFunctions, type INode, type INodeExecutionData, type INodeParameters, type INodeType, NodeConnectionTypes } from 'n8n-workflow';

import { MicrosoftDefenderForEndpoint } from '../../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node';
import { tokenBroker } from '../../nodes/MicrosoftDefenderForEndpoint/transport/tokens';
import type { Machine, RequestLogEntry } from '../emulator';
import { errorOf, outputOf, PACKAGE, runWorkflow, singleNodeWorkflow, TestNodeTypes } from '../harness';
import { createEnv, NODE_NAME, rl, type TestEnv } from './env';
import { MACHINE_TEST_ROLES } from './machineEnv';

let env: TestEnv;
let tenant: string;
let fleet: Machine[];

beforeAll(async () => {
	env = await createEnv({ scenario: { tenants: 1, alertsPerTenant: 0, roles: MACHINE_TEST_ROLES } });
	tenant = env.tenantId;
	fleet = env.emu.machineApi.seedFleet(tenant, { count: 100, duplicateDnsName: true });
});
afterAll(async () => {
	await env.close();
});
beforeEach(() => {
	env.emu.resetLog();
	env.emu.clearFaults();
	env.emu.machineApi.setTiming({ pendingMs: 300, inProgressMs: 400 });
});

const critical = () => fleet.filter((m) => m.machineTags.includes('critical-server'));
const plain = () => fleet.filter((m) => !m.machineTags.includes('critical-server') && m.healthStatus === 'Active' && m.osPlatform.startsWith('Windows'));
const posts = (reqs: RequestLogEntry[]) => reqs.filter((q) => q.method === 'POST');
const dnsRl = (value: string) => ({ __rl: true, mode: 'dnsName', value });

/** fleet machines not yet used by another test (each test acts on machines of its own) */
let nextFree = 0;
const take = (n: number): Machine[] => {
	const list = plain().slice(nextFree, nextFree + n);
	nextFree += n;
	if (list.length < n) throw new Error('fleet too small');
	return list;
};

describe('Isolate', () => {
	test('by ID with Wait for Completion: one POST, then polled until Succeeded; the final action is output', async () => {
		const [m] = take(1);
		const r = await env.run({ resource: 'machineAction', operation: 'isolate', machineId: rl(m.id), isolationType: 'Selective', waitForCompletion: true, pollInterval: 1, options: { customerLabel: 'Contoso' } });
		expect(r.error).toBeUndefined();
		const a = r.items[0].json;
		expect(a).toMatchObject({ type: 'Isolate', scope: 'Selective', status: 'Succeeded', machineId: m.id, completed: true, waitTimedOut: false, alreadyPending: false, tenantId: tenant, customerLabel: 'Contoso' });
		expect(a.dedupKey).toBe(`${tenant}:${String(a.id)}`);
		expect(String(a.requestorComment)).toMatch(/^n8n workflow wf-1, execution exec-/);
		const reqs = env.api();
		expect(posts(reqs).map((q) => q.path)).toEqual([`/api/machines/${m.id}/isolate`]);
		const polls = reqs.filter((q) => q.method === 'GET');
		expect(polls.length).toBeGreaterThanOrEqual(1);
		for (const p of polls) expect(p.query).toEqual({ $filter: `id eq '${String(a.id)}'`, $top: '1' });
	});

	test('many items: one POST per machine, waited for together (one list call per round for ≤ 25 actions)', async () => {
		const ms = take(8);
		const r = await env.run(
			{ resource: 'machineAction', operation: 'isolate', machineId: rl('={{ $json.id }}'), waitForCompletion: true, pollInterval: 1, maxMachines: 8 },
			{ input: ms.map((m) => ({ id: m.id })) },
		);
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => [i.json.machineId, i.json.status])).toEqual(ms.map((m) => [m.id, 'Succeeded']));
		expect(r.items.map((i) => i.pairedItem)).toEqual(ms.map((_, k) => ({ item: k })));
		const reqs = env.api();
		expect(posts(reqs)).toHaveLength(8);
		const polls = reqs.filter((q) => q.method === 'GET');
		expect(polls.length).toBeGreaterThanOrEqual(1);
		expect(polls.length).toBeLessThanOrEqual(2);
		for (const p of polls) expect(String(p.query.$filter).split(' or ')).toHaveLength(8);
	});

	test('the machine of an alert item (machineId of the Alert resource); an alert without a device fails before any request', async () => {
		const [m] = take(1);
		const [alert] = env.emu.addAlerts(tenant, [{ machineId: m.id, title: 'ransomware' }]);
		const r = await env.run({ resource: 'machineAction', operation: 'isolate', machineSource: 'alertItem' }, { input: [{ id: alert.id, machineId: alert.machineId, title: alert.title }] });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ machineId: m.id, type: 'Isolate', status: 'Pending' });
		env.emu.resetLog();
		const none = await env.run({ resource: 'machineAction', operation: 'isolate', machineSource: 'alertItem' }, { input: [{ id: 'da1_2', title: 'Phish', machineId: null }] });
		expect(none.error?.message).toMatch(/alert da1_2 "Phish" has no device/);
		expect(env.emu.count()).toBe(0);
	});

	test('three items on one machine: one POST, the same action for all three', async () => {
		const [m] = take(1);
		const r = await env.run({ resource: 'machineAction', operation: 'isolate', machineId: rl(m.id) }, { input: [{}, {}, {}] });
		expect(r.error).toBeUndefined();
		expect(new Set(r.items.map((i) => i.json.id)).size).toBe(1);
		expect(r.items.map((i) => i.json.itemsSharingAction)).toEqual([3, 3, 3]);
		expect(posts(env.api())).toHaveLength(1);
	});

	test('by DNS name; two machine records with that name is an error listing both, nothing is sent', async () => {
		const [m] = take(1);
		const ok = await env.run({ resource: 'machineAction', operation: 'isolate', machineId: dnsRl(m.computerDnsName) });
		expect(ok.error).toBeUndefined();
		expect(ok.items[0].json.machineId).toBe(m.id);
		env.emu.resetLog();
		const dup = fleet[0].computerDnsName;
		const r = await env.run({ resource: 'machineAction', operation: 'isolate', machineId: dnsRl(dup) });
		expect(r.error?.message).toMatch(new RegExp(`"${dup.replace(/\./g, '\\.')}" matches 2 machines`));
		expect(posts(env.api())).toHaveLength(0);
	});

	test('an action already pending on the machine is not a failure: the pending action, alreadyPending: true', async () => {
		env.emu.machineApi.setTiming({ pendingMs: 60_000, inProgressMs: 60_000 });
		const [m] = take(1);
		const first = await env.run({ resource: 'machineAction', operation: 'isolate', machineId: rl(m.id) });
		const again = await env.run({ resource: 'machineAction', operation: 'isolate', machineId: rl(m.id), isolationType: 'Full' });
		expect(again.error).toBeUndefined();
		expect(again.items[0].json).toMatchObject({ id: first.items[0].json.id, alreadyPending: true, status: 'Pending' });
		const reqs = env.api().map((q) => `${q.method} ${q.path} ${q.status}`);
		expect(reqs).toEqual([`POST /api/machines/${m.id}/isolate 201`, `POST /api/machines/${m.id}/isolate 400`, 'GET /api/machineactions 200']);
	});

	test('a lost response is not retried; the error says how to check', async () => {
		const [m] = take(1);
		env.emu.injectFault({ match: { method: 'POST', path: `/api/machines/${m.id}/isolate` }, reset: true });
		const r = await env.run({ resource: 'machineAction', operation: 'isolate', machineId: rl(m.id) });
		expect(r.error).toBeDefined();
		expect(r.error?.description).toMatch(new RegExp(`Get Many Actions \\(Machine ID ${m.id}, type Isolate\\)`));
		expect(r.error?.description).toMatch(/not repeated automatically/);
		expect(posts(env.api())).toHaveLength(1);
		env.emu.injectFault({ match: { method: 'POST', path: `/api/machines/${m.id}/isolate` }, status: 503 });
		const five = await env.run({ resource: 'machineAction', operation: 'isolate', machineId: rl(m.id) });
		expect(five.error?.description).toMatch(/may or may not have accepted it/);
		expect(posts(env.api())).toHaveLength(2);
	});

	test('a 403 names the missing permission', async () => {
		env.emu.setRoles(tenant, env.scenario.clientId, MACHINE_TEST_ROLES.filter((r) => r !== 'Machine.Isolate'));
		env.emu.revokeTokens({ tenantId: tenant });
		tokenBroker.reset();
		const [m] = take(1);
		const r = await env.run({ resource: 'machineAction', operation: 'isolate', machineId: rl(m.id) });
		expect(r.error?.httpCode).toBe('403');
		expect(r.error?.message).toMatch(/it needs Machine\.Isolate/);
		env.emu.setRoles(tenant, env.scenario.clientId, MACHINE_TEST_ROLES);
		env.emu.revokeTokens({ tenantId: tenant });
		tokenBroker.reset();
		// the stored token was revoked: one call renews it (401, new token), so later tests see clean request logs
		await env.run({ resource: 'machineAction', operation: 'getAll', limit: 1 });
	});
});

describe('guard-rails', () => {
	test('Max Machines per Execution: 11 machines with the default 10 stops before ANY request (no token, no read, no action)', async () => {
		const ms = plain().slice(0, 11);
		const since = env.emu.lastSeq();
		const r = await env.run({ resource: 'machineAction', operation: 'isolate', machineId: rl('={{ $json.id }}') }, { input: ms.map((m) => ({ id: m.id })) });
		expect(r.error?.message).toMatch(/Max Machines per Execution exceeded: this would act on 11 machines .* 10 allowed.*Nothing was sent/);
		expect(r.error?.description).toMatch(/raise "Max Machines per Execution" on this node to at least 11/);
		expect(env.emu.requests({ sinceSeq: since })).toEqual([]);
	});

	test('… also with continue-on-fail, and DNS names count as machines', async () => {
		const since = env.emu.lastSeq();
		const r = await env.run(
			{ resource: 'machineAction', operation: 'runAntivirusScan', machineId: { __rl: true, mode: 'dnsName', value: '={{ $json.dns }}' }, maxMachines: 2 },
			{ input: plain().slice(0, 3).map((m) => ({ dns: m.computerDnsName })), continueOnFail: true },
		);
		expect(JSON.stringify(r.error ?? r.items)).toMatch(/Max Machines per Execution exceeded/);
		expect(env.emu.requests({ sinceSeq: since })).toEqual([]);
	});

	test('… across loop iterations of one execution: a runaway loop stops at the limit, nothing sent for the batch that would exceed it', async () => {
		const ms = take(12);
		let batch = 0;
		/** feeds the Defender node 4 new machines per iteration, forever (the runaway loop) */
		class NextBatch implements INodeType {
			description = {
				displayName: 'Next Batch',
				name: 'nextBatch',
				group: ['transform'],
				version: 1,
				description: '',
				defaults: { name: 'Next Batch' },
				inputs: [NodeConnectionTypes.Main],
				outputs: [NodeConnectionTypes.Main],
				properties: [],
			} as INodeType['description'];
			async execute(this: IExecuteFunctions): Promise<INodeExecutionData[][]> {
				const part = ms.slice(batch * 4, batch * 4 + 4);
				batch += 1;
				return [part.map((m) => ({ json: { id: m.id } }))];
			}
		}
		const nodeTypes = new TestNodeTypes({ [`${PACKAGE}.microsoftDefenderForEndpoint`]: new MicrosoftDefenderForEndpoint(), 'test.nextBatch': new NextBatch() });
		const nodes: INode[] = [
			{ id: 't', name: 'Start', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} },
			{ id: 'b', name: 'Next Batch', type: 'test.nextBatch', typeVersion: 1, position: [200, 0], parameters: {} },
			{
				id: 'n',
				name: NODE_NAME,
				type: `${PACKAGE}.microsoftDefenderForEndpoint`,
				typeVersion: 1,
				position: [400, 0],
				parameters: { resource: 'machineAction', operation: 'isolate', machineId: rl('={{ $json.id }}'), dryRun: false } as INodeParameters,
				credentials: { microsoftDefenderForEndpointApi: env.cred },
			},
		];
		const main = NodeConnectionTypes.Main;
		const connections = {
			Start: { main: [[{ node: 'Next Batch', type: main, index: 0 }]] },
			'Next Batch': { main: [[{ node: NODE_NAME, type: main, index: 0 }]] },
			[NODE_NAME]: { main: [[{ node: 'Next Batch', type: main, index: 0 }]] },
		};
		const run = await runWorkflow({ nodes, connections, nodeTypes, credentialsHelper: env.creds });
		const runs = run.data.resultData.runData[NODE_NAME];
		expect(runs.map((r) => (r.error ? 'error' : (r.data?.main?.[0] ?? []).length))).toEqual([4, 4, 'error']);
		expect(runs[2].error?.message).toMatch(/this would act on 4 machines, plus 8 acted on earlier in this execution — 12 in all, 10 allowed/);
		expect(posts(env.api()).map((q) => q.path)).toEqual(ms.slice(0, 8).map((m) => `/api/machines/${m.id}/isolate`));
	});

	test('Exclude Tags: the read counts (one list call for all machines), excluded machines are skipped with a clear result', async () => {
		const [m] = take(1);
		const [c] = critical();
		const r = await env.run(
			{ resource: 'machineAction', operation: 'isolate', machineId: rl('={{ $json.id }}'), excludeTags: 'critical-server, domain-controller' },
			{ input: [{ id: m.id }, { id: c.id }] },
		);
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ machineId: m.id, type: 'Isolate' });
		expect(r.items[1].json).toMatchObject({ machineId: c.id, skipped: true, excludedTags: ['critical-server'] });
		expect(String(r.items[1].json.reason)).toMatch(/carries the excluded tag critical-server: isolate was not sent/);
		const reqs = env.api();
		expect(reqs.map((q) => `${q.method} ${q.path}`)).toEqual(['GET /api/machines', `POST /api/machines/${m.id}/isolate`]);
		expect(reqs[0].query.$filter).toBe(`id eq '${m.id}' or id eq '${c.id}'`);
	});

	test('Exclude Tags with Excluded Machines = Fail: an error item under continue-on-fail', async () => {
		const [c] = critical();
		const r = await env.run(
			{ resource: 'machineAction', operation: 'isolate', machineId: rl(c.id), excludeTags: 'critical-server', options: { onExcluded: 'error' } },
			{ continueOnFail: true },
		);
		expect(r.items[0].json.error).toMatch(/excluded tag critical-server/);
		expect(posts(env.api())).toHaveLength(0);
	});

	test('Dry Run: validates, resolves and outputs the request that would be sent; sends nothing', async () => {
		const [m] = take(1);
		const r = await env.run({ resource: 'machineAction', operation: 'isolate', machineId: dnsRl(m.computerDnsName), isolationType: 'Full', comment: 'INC-42', dryRun: true });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({
			dryRun: true,
			machineId: m.id,
			computerDnsName: m.computerDnsName,
			request: { method: 'POST', path: `/api/machines/${m.id}/isolate`, body: { Comment: 'INC-42', IsolationType: 'Full' } },
			guardRails: { maxMachines: 10 },
		});
		expect(posts(env.api())).toHaveLength(0);
		expect(env.emu.machineApi.actionsOf(tenant).filter((a) => a.machineId === m.id)).toEqual([]);
	});

	test('an empty comment fails before any request', async () => {
		const [m] = take(1);
		const r = await env.run({ resource: 'machineAction', operation: 'isolate', machineId: rl(m.id), comment: '  ' });
		expect(r.error?.message).toBe('Comment is empty');
		expect(env.emu.count()).toBe(0);
	});

	test('Offboard needs the explicit confirmation', async () => {
		const [m] = take(1);
		const no = await env.run({ resource: 'machineAction', operation: 'offboard', machineId: rl(m.id) });
		expect(no.error?.message).toBe('Offboarding is not confirmed');
		expect(env.emu.count()).toBe(0);
		const yes = await env.run({ resource: 'machineAction', operation: 'offboard', machineId: rl(m.id), confirmOffboard: true });
		expect(yes.error).toBeUndefined();
		expect(yes.items[0].json).toMatchObject({ type: 'Offboard', machineId: m.id });
	});
});

describe('AI agents (the node as a tool)', () => {
	const TOOL_TYPE = `${PACKAGE}.microsoftDefenderForEndpointTool`;
	/** n8n registers the tool variant as `<type>Tool` (same class, name + "Tool"); the engine runs it with that type. */
	class ToolVariant extends MicrosoftDefenderForEndpoint {
		constructor() {
			super();
			this.description = { ...this.description, name: `${this.description.name}Tool`, displayName: `${this.description.displayName} Tool` };
		}
	}
	const nodeTypes = new TestNodeTypes({ [TOOL_TYPE]: new ToolVariant(), [`${PACKAGE}.microsoftDefenderForEndpoint`]: new MicrosoftDefenderForEndpoint() });
	async function runTool(parameters: IDataObject, extra: { rewire?: boolean; type?: string } = {}): Promise<{ items: INodeExecutionData[]; error?: Error & { description?: string } }> {
		const wf = singleNodeWorkflow({
			name: NODE_NAME,
			type: extra.type ?? TOOL_TYPE,
			parameters: parameters as INodeParameters,
			credentials: { microsoftDefenderForEndpointApi: env.cred },
			...(extra.rewire ? { rewireOutputLogTo: 'ai_tool' as const } : {}),
		});
		const run = await runWorkflow({ ...wf, nodeTypes, credentialsHelper: env.creds, input: [{ json: {} }] });
		const error = errorOf(run, NODE_NAME) as (Error & { description?: string }) | undefined;
		return { items: error ? [] : outputOf(run, NODE_NAME), error };
	}

	test('Isolate is refused when an agent calls the node, before any request', async () => {
		const [m] = take(1);
		const r = await runTool({ resource: 'machineAction', operation: 'isolate', machineId: rl(m.id) });
		expect(r.error?.message).toBe('Isolate (a device response action) is not allowed when an AI agent calls this node');
		expect(r.error?.description).toMatch(/Allow When Used by an AI Agent/);
		expect(env.emu.count()).toBe(0);
	});

	test('… also when n8n runs the regular node type for an agent (output rewired to ai_tool)', async () => {
		const [m] = take(1);
		const r = await runTool({ resource: 'machineAction', operation: 'restrictAppExecution', machineId: rl(m.id) }, { rewire: true, type: `${PACKAGE}.microsoftDefenderForEndpoint` });
		expect(r.error?.message).toMatch(/Restrict App Execution .* not allowed when an AI agent calls this node/);
		expect(env.emu.count()).toBe(0);
	});

	test('with "Allow When Used by an AI Agent" on it is sent; a $fromAI value does not count', async () => {
		const [m, n] = take(2);
		const allowed = await runTool({ resource: 'machineAction', operation: 'isolate', machineId: rl(m.id), allowAgentUse: true });
		expect(allowed.error).toBeUndefined();
		expect(allowed.items[0].json).toMatchObject({ type: 'Isolate', machineId: m.id });
		const fromAi = await runTool({ resource: 'machineAction', operation: 'isolate', machineId: rl(n.id), allowAgentUse: "={{ $fromAI('allow', 'allow isolation', 'boolean') }}" });
		expect(fromAi.error?.message).toMatch(/not allowed when an AI agent calls this node/);
	});

	test('non-destructive operations (scan, reads) work for agents without the opt-in', async () => {
		const [m] = take(1);
		const scan = await runTool({ resource: 'machineAction', operation: 'runAntivirusScan', machineId: rl(m.id), scanType: 'Quick' });
		expect(scan.error).toBeUndefined();
		expect(scan.items[0].json).toMatchObject({ type: 'RunAntiVirusScan', scope: 'Quick' });
		const read = await runTool({ resource: 'machine', operation: 'get', machineId: rl(m.id) });
		expect(read.error).toBeUndefined();
	});
});

describe('other response actions', () => {
	test('Run Antivirus Scan (Full), Restrict / Remove App Restriction, Release From Isolation: PascalCase bodies', async () => {
		const [m] = take(1);
		env.emu.machineApi.setTiming({ pendingMs: 0, inProgressMs: 0 });
		for (const [operation, extra] of [
			['runAntivirusScan', { scanType: 'Full' }],
			['restrictAppExecution', {}],
			['removeAppRestriction', {}],
			['isolate', {}],
			['releaseIsolation', {}],
		] as const) {
			const r = await env.run({ resource: 'machineAction', operation, machineId: rl(m.id), comment: `via ${operation}`, ...extra });
			expect([operation, r.error?.message]).toEqual([operation, undefined]);
		}
		expect(env.emu.machineApi.actionsOf(tenant).filter((a) => a.machineId === m.id).map((a) => [a.type, a.scope, a.requestorComment])).toEqual([
			['RunAntiVirusScan', 'Full', 'via runAntivirusScan'],
			['RestrictCodeExecution', null, 'via restrictAppExecution'],
			['UnrestrictCodeExecution', null, 'via removeAppRestriction'],
			['Isolate', 'Full', 'via isolate'],
			['Unisolate', null, 'via releaseIsolation'],
		]);
	});

	test('Stop and Quarantine File: SHA-1 checked before any request', async () => {
		const [m] = take(1);
		const bad = await env.run({ resource: 'machineAction', operation: 'stopAndQuarantineFile', machineId: rl(m.id), sha1: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' });
		expect(bad.error?.message).toMatch(/is not a SHA-1 hash/);
		expect(bad.error?.description).toMatch(/SHA-256/);
		expect(env.emu.count()).toBe(0);
		const ok = await env.run({ resource: 'machineAction', operation: 'stopAndQuarantineFile', machineId: rl(m.id), sha1: '87662BC3D60E4200CEAF7AAE249D1C343F4B83C9' });
		expect(ok.items[0].json).toMatchObject({ type: 'StopAndQuarantineFile', relatedFileInfo: { fileIdentifier: '87662bc3d60e4200ceaf7aae249d1c343f4b83c9', fileIdentifierType: 'Sha1' } });
	});

	test('Collect Investigation Package with wait: the download link is added; Get Package Download Link', async () => {
		const [m] = take(1);
		const r = await env.run({ resource: 'machineAction', operation: 'collectInvestigationPackage', machineId: rl(m.id), waitForCompletion: true, pollInterval: 1 });
		expect(r.error).toBeUndefined();
		expect(r.items[0].json).toMatchObject({ type: 'CollectInvestigationPackage', status: 'Succeeded', packageDownloadUrl: expect.stringMatching(/^https:\/\//) });
		const id = String(r.items[0].json.id);
		const link = await env.run({ resource: 'machineAction', operation: 'getPackageDownloadLink', actionId: id });
		expect(link.items[0].json).toMatchObject({ actionId: id, packageDownloadUrl: expect.stringMatching(/^https:\/\//), tenantId: tenant });
	});

	test('Get Package Download Link before the package is ready says so', async () => {
		env.emu.machineApi.setTiming({ pendingMs: 60_000, inProgressMs: 60_000 });
		const [m] = take(1);
		const r = await env.run({ resource: 'machineAction', operation: 'collectInvestigationPackage', machineId: rl(m.id) });
		const link = await env.run({ resource: 'machineAction', operation: 'getPackageDownloadLink', actionId: String(r.items[0].json.id) });
		expect(link.error?.message).toMatch(/is not ready: the action is Pending/);
	});
});

describe('waiting', () => {
	test('Max Wait reached: the action as it is, waitTimedOut: true; Failed and TimeOut are final states (output, not errors)', async () => {
		env.emu.machineApi.setTiming({ pendingMs: 60_000, inProgressMs: 60_000 });
		const [slow] = take(1);
		const r = await env.run({ resource: 'machineAction', operation: 'runAntivirusScan', machineId: rl(slow.id), waitForCompletion: true, maxWait: 1, pollInterval: 1 });
		expect(r.items[0].json).toMatchObject({ status: 'Pending', completed: false, waitTimedOut: true });
		env.emu.machineApi.setTiming({ pendingMs: 100, inProgressMs: 100 });
		const [bad] = take(1);
		env.emu.machineApi.setOutcome(tenant, bad.id, 'Failed');
		const inactive = fleet.find((m) => m.healthStatus === 'Inactive')!;
		const both = await env.run(
			{ resource: 'machineAction', operation: 'runAntivirusScan', machineId: rl('={{ $json.id }}'), waitForCompletion: true, pollInterval: 1 },
			{ input: [{ id: bad.id }, { id: inactive.id }] },
		);
		expect(both.items.map((i) => [i.json.status, i.json.completed])).toEqual([
			['Failed', true],
			['TimeOut', true],
		]);
	});

	test('when the API refuses the combined id filter (400), the actions are read one by one', async () => {
		const ms = take(2);
		env.emu.injectFault({ match: { method: 'GET', path: /^\/api\/machineactions\?/ }, status: 400, body: { error: { code: 'ODataError', message: "The 'or' operator is not supported.", target: 'x' } } });
		const r = await env.run(
			{ resource: 'machineAction', operation: 'isolate', machineId: rl('={{ $json.id }}'), waitForCompletion: true, pollInterval: 1 },
			{ input: ms.map((m) => ({ id: m.id })) },
		);
		expect(r.error).toBeUndefined();
		expect(r.items.map((i) => i.json.status)).toEqual(['Succeeded', 'Succeeded']);
		const gets = env.api().filter((q) => q.method === 'GET').map((q) => q.path);
		expect(gets[0]).toBe('/api/machineactions');
		expect(gets.slice(1).every((p) => /^\/api\/machineactions\/[0-9a-f-]{36}$/.test(p))).toBe(true);
	});
});

describe('Cancel, Get, Get Many', () => {
	test('Cancel a pending action; Get shows it Cancelled; Get Many filters by machine and status', async () => {
		env.emu.machineApi.setTiming({ pendingMs: 60_000, inProgressMs: 60_000 });
		const [m] = take(1);
		const started = await env.run({ resource: 'machineAction', operation: 'runAntivirusScan', machineId: rl(m.id) });
		const id = String(started.items[0].json.id);
		const cancelled = await env.run({ resource: 'machineAction', operation: 'cancel', actionId: id, comment: 'false positive' });
		expect(cancelled.error).toBeUndefined();
		expect(cancelled.items[0].json).toMatchObject({ id, status: 'Cancelled', cancellationComment: 'false positive', tenantId: tenant });
		const got = await env.run({ resource: 'machineAction', operation: 'get', actionId: id.toUpperCase() });
		expect(got.items[0].json).toMatchObject({ id, status: 'Cancelled', dedupKey: `${tenant}:${id}` });
		const list = await env.run({ resource: 'machineAction', operation: 'getAll', filters: { machineId: m.id, status: ['Cancelled'], type: ['RunAntiVirusScan'] } });
		expect(list.items.map((i) => i.json.id)).toEqual([id]);
		const q = env.api().filter((x) => x.method === 'GET' && x.path === '/api/machineactions').pop()!;
		expect(q.query.$filter).toBe(`machineId eq '${m.id}' and status eq 'Cancelled' and type eq 'RunAntiVirusScan'`);
		const again = await env.run({ resource: 'machineAction', operation: 'cancel', actionId: id, comment: 'twice' });
		expect(again.error?.httpCode).toBe('400');
	});

	test('a malformed action ID fails before any request', async () => {
		const r = await env.run({ resource: 'machineAction', operation: 'get', actionId: 'abc' });
		expect(r.error?.message).toMatch(/Action ID "abc" is not a GUID/);
		expect(env.emu.count()).toBe(0);
	});
});
