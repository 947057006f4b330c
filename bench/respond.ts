/**
 * Benchmark: isolate 50 machines and wait for completion, through n8n-core's engine against the emulator with
 * Defender's documented rate limits ON (machines / machine actions 100/min + 1,500/h, package link 2/min), time-
 * scaled ×0.01 on the emulator and in the client pacer. Counts the action calls, the status polls per round next
 * to the naive count (one GET per action per round) and the 429s.
 *
 *   respondBench(): Promise<RespondBenchRow[]>   (rows shaped like bench/run.ts's table rows)
 *   standalone: NODE_EXTRA_CA_CERTS=test/.certs/ca.pem node --require ts-node/register/transpile-only bench/respond.ts
 *
 * Runs the emulator in-process (the RSS of the n8n side is not measured here).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** [scenario, items, API calls, 429s, wall time, naive comparison] */
export type RespondBenchRow = [string, string, string, string, string, string];

export interface RespondBenchResult {
	machines: number;
	actionCalls: number;
	statusCalls: number;
	rounds: number;
	callsPerRound: number[];
	naiveStatusCalls: number;
	throttled: number;
	failedItems: number;
	succeeded: number;
	wallMs: number;
}

const SCALE = 0.01;
const MACHINES = 50;

export async function respondBenchResult(): Promise<RespondBenchResult> {
	process.env.N8N_USER_FOLDER ??= mkdtempSync(path.join(tmpdir(), 'mde-bench-'));
	process.env.N8N_DIAGNOSTICS_ENABLED = 'false';
	/* eslint-disable @typescript-eslint/no-require-imports */
	require('reflect-metadata');
	const harness = require('../test/harness') as typeof import('../test/harness');
	const emulatorLib = require('../test/emulator') as typeof import('../test/emulator');
	const { MicrosoftDefenderForEndpoint } = require('../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node.ts') as typeof import('../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node');
	const { resetProcessState } = require('../nodes/MicrosoftDefenderForEndpoint/transport/processState') as typeof import('../nodes/MicrosoftDefenderForEndpoint/transport/processState');
	const { IDS_PER_CALL } = require('../nodes/MicrosoftDefenderForEndpoint/helpers/machines') as typeof import('../nodes/MicrosoftDefenderForEndpoint/helpers/machines');
	/* eslint-enable @typescript-eslint/no-require-imports */

	const rateLimits = Object.fromEntries(
		Object.entries(emulatorLib.DEFAULT_RATE_LIMITS).map(([cls, rules]) => [cls, rules.map((r) => ({ limit: r.limit, windowMs: r.windowMs * SCALE }))]),
	);
	const emu = await emulatorLib.startEmulator({ rateLimits, logLimit: 100_000 });
	try {
		const scenario = emu.createScenario({ tenants: 1, alertsPerTenant: 0, roles: ['Machine.ReadWrite.All', 'Machine.Isolate'] });
		const tenantId = scenario.tenants[0].id;
		const fleet = emu.machineApi.seedFleet(tenantId, { count: MACHINES, criticalEvery: 0, prefix: 'bench-' });
		// Realistic shape, scaled: Pending 1.5 s, InProgress 1.5 s (Defender takes about a minute for an online device).
		emu.machineApi.setTiming({ pendingMs: 1500, inProgressMs: 1500 });
		resetProcessState({ pacerTimeScale: SCALE });

		const NODE_TYPE = `${harness.PACKAGE}.microsoftDefenderForEndpoint`;
		const nodeTypes = new harness.TestNodeTypes({ [NODE_TYPE]: new MicrosoftDefenderForEndpoint() });
		const creds = new harness.TestCredentialsHelper();
		const cred = creds.add('bench-respond', { cloud: 'custom', authorityHost: emu.url, apiBaseUrl: emu.url, tenantId, clientId: scenario.clientId, clientSecret: scenario.clientSecret });
		const wf = harness.singleNodeWorkflow({
			name: 'Defender',
			type: NODE_TYPE,
			parameters: {
				resource: 'machineAction',
				operation: 'isolate',
				machineId: { __rl: true, mode: 'id', value: '={{ $json.id }}' },
				waitForCompletion: true,
				pollInterval: 1,
				maxWait: 120,
				maxMachines: MACHINES,
			},
			credentials: { microsoftDefenderForEndpointApi: cred },
		});
		const since = emu.lastSeq();
		const started = Date.now();
		const run = await harness.runWorkflow({ ...wf, nodeTypes, credentialsHelper: creds, input: fleet.map((m) => ({ json: { id: m.id } })) });
		const wallMs = Date.now() - started;
		const error = harness.errorOf(run, 'Defender');
		if (error) throw error;
		const items = harness.outputOf(run, 'Defender');
		const api = emu.requests({ kind: 'api', sinceSeq: since });
		const actionCalls = api.filter((r) => r.method === 'POST' && r.status !== 429).length;
		const polls = api.filter((r) => r.method === 'GET' && r.path === '/api/machineactions' && r.status !== 429);
		// A round = the polls between two sleeps (the node sleeps at least Poll Interval between rounds).
		const callsPerRound: number[] = [];
		let last = 0;
		for (const p of polls) {
			const at = Date.parse(p.at);
			if (callsPerRound.length === 0 || at - last > 500) callsPerRound.push(0);
			callsPerRound[callsPerRound.length - 1] += 1;
			last = at;
		}
		const maxPerRound = Math.ceil(MACHINES / IDS_PER_CALL);
		if (callsPerRound.some((n) => n > maxPerRound)) throw new Error(`a poll round made more than ${maxPerRound} calls: ${callsPerRound.join(', ')}`);
		return {
			machines: MACHINES,
			actionCalls,
			statusCalls: polls.length,
			rounds: callsPerRound.length,
			callsPerRound,
			naiveStatusCalls: MACHINES * callsPerRound.length,
			throttled: api.filter((r) => r.status === 429).length,
			failedItems: items.filter((i) => i.json.error !== undefined).length,
			succeeded: items.filter((i) => i.json.status === 'Succeeded').length,
			wallMs,
		};
	} finally {
		await emu.close();
		resetProcessState();
	}
}

/** The rows for bench/run.ts's table: [scenario, items, API calls, 429s, wall time, naive]. */
export async function respondBench(): Promise<RespondBenchRow[]> {
	const r = await respondBenchResult();
	return [
		[
			`(4) Isolate ${r.machines} machines, Wait for Completion: action calls`,
			String(r.machines),
			String(r.actionCalls),
			String(r.throttled),
			`${(r.wallMs / 1000).toFixed(2)} s`,
			`${r.succeeded}/${r.machines} Succeeded, ${r.failedItems} failed items`,
		],
		[
			`(4) … status polls (${r.rounds} rounds: ${r.callsPerRound.join('+')} calls; ≤ ⌈${r.machines}/25⌉ = ${Math.ceil(r.machines / 25)} per round)`,
			String(r.machines),
			String(r.statusCalls),
			String(r.throttled),
			'',
			`naive (one GET per action per round): ${r.naiveStatusCalls}`,
		],
	];
}

if (require.main === module) {
	respondBench().then(
		(rows) => {
			for (const row of rows) console.log(`| ${row.join(' | ')} |`);
		},
		(error: unknown) => {
			console.error(error);
			process.exit(1);
		},
	);
}
