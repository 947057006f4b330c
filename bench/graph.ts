/**
 * Benchmark (6): the Microsoft Graph security backend beside the Defender for Endpoint backend, through n8n-core
 * against the emulator (its own process: RSS is the n8n side only), documented rate limits ON and time-scaled ×0.01
 * on both sides (emulator windows and the client pacer), as bench/run.ts does:
 *
 *  - Update Many of N alerts on Graph: JSON batching, ⌈N/20⌉ `$batch` calls, each sub-request counted against the
 *    Graph security budget (150/min per app and tenant; paced at 140), failed items;
 *  - Get Many, Return All over 50,000 alerts on the Defender API and on Graph: pages (API calls), 429s, wall time and
 *    peak RSS of the n8n process, side by side;
 *  - the trigger (New Alert, Tenants = 20 customer tenants) on each API through n8n-core's PollContext: requests of
 *    the activation poll, of draining a burst (1,000 alerts in one tenant, 10 in each other), and of an idle poll.
 *
 *   import { benchGraph } from './graph';
 *   const { rows, results } = await benchGraph();   // rows: [scenario, items, API calls, 429s, wall time, peak RSS]
 *
 * On its own (re-executes itself with NODE_EXTRA_CA_CERTS set; run with --expose-gc for a clean RSS baseline):
 *   bash scripts/run-node24.sh node --expose-gc --require ts-node/register/transpile-only bench/graph.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { RssSampler, startChild } from './child';

export type GraphBenchRow = [string, string, string, string, string, string];

export interface GraphBenchResult {
	rows: GraphBenchRow[];
	results: {
		timeScale: number;
		updateMany: { alerts: number; items: number; batchCalls: number; expectedBatchCalls: number; subRequests: number; subRequests429: number; failedItems: number; wallMs: number; minimumMinutesAtDocumentedLimits: number };
		returnAll: Record<'defender' | 'graph', { items: number; pages: number; throttled: number; wallMs: number; rssBeforeMb: number; peakRssMb: number }>;
		trigger: Record<'defender' | 'graph', TriggerBench>;
	};
}

interface TriggerBench {
	tenants: number;
	activationRequests: number;
	burstAlerts: number;
	delivered: number;
	drainPolls: number;
	drainRequests: number;
	throttled: number;
	idleRequests: number;
}

const SCALE = 0.01;
const TRIGGER_TENANTS = 20;
const UPDATES = 1000;
const LIST_ALERTS = 50_000;




const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

/** Shortest time `calls` requests take under the class's budget as our pacer spaces them (virtual clock, no waiting). */
function minimumDurationMs(calls: number): number {
	/* eslint-disable @typescript-eslint/no-require-imports */
	const { Pacer } = require('../nodes/MicrosoftDefenderForEndpoint/transport/pacer') as typeof import('../nodes/MicrosoftDefenderForEndpoint/transport/pacer');
	/* eslint-enable @typescript-eslint/no-require-imports */
	let now = 0;
	const pacer = new Pacer(() => now);
	for (let k = 0; k < calls; k++) {
		now += pacer.delayFor('bench', 'graphAlerts');
		pacer.record('bench', 'graphAlerts');
	}
	return now;
}

type ReturnAllResult = GraphBenchResult['results']['returnAll']['graph'];

/** Run `measureReturnAll(api)` in a new Node process (this file with --return-all=<api>) and read its result line. */
function measureInFreshProcess(api: 'defender' | 'graph', alerts: number, scale: number): ReturnAllResult {
	const child = spawnSync(process.execPath, [...process.execArgv, __filename, `--return-all=${api}`, `--alerts=${alerts}`, `--scale=${scale}`], {
		encoding: 'utf8',
		env: process.env,
		maxBuffer: 64 * 1024 * 1024,
	});
	const line = (child.stdout ?? '').split('\n').find((l) => l.startsWith('RESULT '));
	if (child.status !== 0 || !line) throw new Error(`Return All measurement for ${api} failed (${child.status}): ${(child.stderr ?? '').slice(-2000)}`);
	return JSON.parse(line.slice('RESULT '.length)) as ReturnAllResult;
}

/** Get Many, Return All over `alerts` alerts with one API, in this process (started fresh for it). */
export async function measureReturnAll(api: 'defender' | 'graph', alerts = LIST_ALERTS, scale = SCALE): Promise<ReturnAllResult> {
	process.env.N8N_USER_FOLDER ??= mkdtempSync(path.join(tmpdir(), 'mde-bench-'));
	process.env.N8N_DIAGNOSTICS_ENABLED = 'false';
	/* eslint-disable @typescript-eslint/no-require-imports */
	require('reflect-metadata');
	const harness = require('../test/harness') as typeof import('../test/harness');
	const { MicrosoftDefenderForEndpoint } = require('../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node.ts') as typeof import('../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node');
	const { resetProcessState } = require('../nodes/MicrosoftDefenderForEndpoint/transport/processState') as typeof import('../nodes/MicrosoftDefenderForEndpoint/transport/processState');
	/* eslint-enable @typescript-eslint/no-require-imports */
	const child = await startChild('graph-child.ts');
	try {
		const emu = await child.call<{ url: string; clientId: string; clientSecret: string; tenants: Array<{ id: string; alertIds: string[] }> }>('start', { scale, tenants: [alerts] });
		const tenantId = emu.tenants[0].id;
		resetProcessState({ pacerTimeScale: scale });
		const NODE_TYPE = `${harness.PACKAGE}.microsoftDefenderForEndpoint`;
		const nodeTypes = new harness.TestNodeTypes({ [NODE_TYPE]: new MicrosoftDefenderForEndpoint() });
		const creds = new harness.TestCredentialsHelper();
		const base = { cloud: 'custom', authorityHost: emu.url, apiBaseUrl: emu.url, tenantId, clientId: emu.clientId, clientSecret: emu.clientSecret };
		const cred = creds.add('bench', api === 'graph' ? { ...base, alertsApi: 'graph', graphBaseUrl: emu.url, graphScope: 'https://graph.microsoft.com/.default' } : base);
		const wf = harness.singleNodeWorkflow({ name: 'Defender', type: NODE_TYPE, parameters: { resource: 'alert', operation: 'getAll', returnAll: true } as never, credentials: { microsoftDefenderForEndpointApi: cred } });
		if (global.gc) global.gc();
		const rssBefore = process.memoryUsage().rss;
		const since = await child.call<number>('lastSeq');
		const sampler = new RssSampler();
		sampler.start();
		const started = Date.now();
		const run = await harness.runWorkflow({ ...wf, nodeTypes, credentialsHelper: creds });
		const wallMs = Date.now() - started;
		const peak = sampler.stop();
		const error = harness.errorOf(run, 'Defender');
		if (error) throw error;
		const items = harness.outputOf(run, 'Defender').length;
		const reqs = await child.call<Array<{ path: string; status: number }>>('requests', { kind: 'api', tenantId, sinceSeq: since });
		return { items, pages: reqs.filter((r) => r.status === 200).length, throttled: reqs.filter((r) => r.status === 429).length, wallMs, rssBeforeMb: mb(rssBefore), peakRssMb: mb(peak) };
	} finally {
		await child.call('stop').catch(() => undefined);
	}
}

/** The trigger (New Alert, Tenants = TRIGGER_TENANTS) on one API through n8n-core's PollContext, its own emulator. */
async function measureTrigger(api: 'defender' | 'graph', scale: number): Promise<TriggerBench> {
	process.env.N8N_USER_FOLDER ??= mkdtempSync(path.join(tmpdir(), 'mde-bench-'));
	process.env.N8N_DIAGNOSTICS_ENABLED = 'false';
	/* eslint-disable @typescript-eslint/no-require-imports */
	require('reflect-metadata');
	const harness = require('../test/harness') as typeof import('../test/harness');
	const { MicrosoftDefenderForEndpointTrigger } = require('../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpointTrigger.node.ts') as typeof import('../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpointTrigger.node');
	const { commonPollingParameters } = require('n8n-core/dist/nodes-loader/constants') as { commonPollingParameters: unknown[] };
	const { resetProcessState } = require('../nodes/MicrosoftDefenderForEndpoint/transport/processState') as typeof import('../nodes/MicrosoftDefenderForEndpoint/transport/processState');
	const { resetTriggerProcessMemory } = require('../nodes/MicrosoftDefenderForEndpoint/trigger/processMemory') as typeof import('../nodes/MicrosoftDefenderForEndpoint/trigger/processMemory');
	/* eslint-enable @typescript-eslint/no-require-imports */
	const child = await startChild('graph-child.ts');
	try {
		const emu = await child.call<{ url: string; clientId: string; clientSecret: string; tenants: Array<{ id: string }> }>('start', { scale, tenants: Array.from({ length: TRIGGER_TENANTS }, () => 0) });
		resetProcessState({ pacerTimeScale: scale });
		resetTriggerProcessMemory();
		const type = `${harness.PACKAGE}.microsoftDefenderForEndpointTrigger`;
		// as n8n's loader serves it: the common pollTimes parameter first
		const trigger = new MicrosoftDefenderForEndpointTrigger();
		const loaded = { description: { ...trigger.description, properties: [...commonPollingParameters, ...trigger.description.properties] }, poll: trigger.poll };
		const nodeTypes = new harness.TestNodeTypes({ [type]: loaded as never });
		const creds = new harness.TestCredentialsHelper();
		const base = { cloud: 'custom', authorityHost: emu.url, apiBaseUrl: emu.url, tenantId: emu.tenants[0].id, clientId: emu.clientId, clientSecret: emu.clientSecret };
		const cred = creds.add('bench-trigger', api === 'graph' ? { ...base, alertsApi: 'graph', graphBaseUrl: emu.url, graphScope: 'https://graph.microsoft.com/.default' } : base);
		const node = {
			id: 'trigger',
			name: 'Defender Trigger',
			type,
			typeVersion: 1,
			position: [0, 0] as [number, number],
			parameters: { pollTimes: { item: [{ mode: 'everyMinute' }] }, event: 'newAlert', tenants: emu.tenants.map((t) => t.id).join('\n') },
			credentials: { microsoftDefenderForEndpointApi: cred },
		};
		const poller = harness.pollHarness({ node: node as never, nodeTypes, credentialsHelper: creds });
		const requests = async (since: number) => await child.call<Array<{ path: string; status: number }>>('requests', { kind: 'api', sinceSeq: since });
		let mark = await child.call<number>('lastSeq');
		await poller.poll();
		const activationRequests = (await requests(mark)).length;

		await new Promise((r) => setTimeout(r, 50));
		let burstAlerts = 0;
		for (const [k, t] of emu.tenants.entries()) burstAlerts += await child.call<number>('addAlerts', { tenantId: t.id, count: k === 0 ? 1000 : 10 });
		mark = await child.call<number>('lastSeq');
		let delivered = 0;
		let drainPolls = 0;
		for (; drainPolls < 20; drainPolls++) {
			const out = await poller.poll();
			if (!out) break;
			delivered += out[0].length;
		}
		const drain = await requests(mark);
		mark = await child.call<number>('lastSeq');
		await poller.poll();
		const idleRequests = (await requests(mark)).length;
		return { tenants: TRIGGER_TENANTS, activationRequests, burstAlerts, delivered, drainPolls, drainRequests: drain.length, throttled: drain.filter((r) => r.status === 429).length, idleRequests };
	} finally {
		await child.call('stop').catch(() => undefined);
		resetProcessState();
	}
}

export async function benchGraph(options: { updates?: number; listAlerts?: number; scale?: number } = {}): Promise<GraphBenchResult> {
	const updates = options.updates ?? UPDATES;
	const listAlerts = options.listAlerts ?? LIST_ALERTS;
	const scale = options.scale ?? SCALE;
	process.env.N8N_USER_FOLDER ??= mkdtempSync(path.join(tmpdir(), 'mde-bench-'));
	process.env.N8N_DIAGNOSTICS_ENABLED = 'false';
	/* eslint-disable @typescript-eslint/no-require-imports */
	require('reflect-metadata');
	const harness = require('../test/harness') as typeof import('../test/harness');
	const { MicrosoftDefenderForEndpoint } = require('../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node.ts') as typeof import('../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node');
	const { resetProcessState } = require('../nodes/MicrosoftDefenderForEndpoint/transport/processState') as typeof import('../nodes/MicrosoftDefenderForEndpoint/transport/processState');
	/* eslint-enable @typescript-eslint/no-require-imports */

	const child = await startChild('graph-child.ts');
	try {
		const emu = await child.call<{ url: string; clientId: string; clientSecret: string; tenants: Array<{ id: string; alertIds: string[] }> }>('start', { scale, tenants: [updates] });
		const [tUpdate] = emu.tenants;
		resetProcessState({ pacerTimeScale: scale });
		const NODE_TYPE = `${harness.PACKAGE}.microsoftDefenderForEndpoint`;
		const nodeTypes = new harness.TestNodeTypes({ [NODE_TYPE]: new MicrosoftDefenderForEndpoint() });
		const creds = new harness.TestCredentialsHelper();
		const base = { cloud: 'custom', authorityHost: emu.url, apiBaseUrl: emu.url, tenantId: tUpdate.id, clientId: emu.clientId, clientSecret: emu.clientSecret };
		const graphCred = creds.add('bench-graph', { ...base, alertsApi: 'graph', graphBaseUrl: emu.url, graphScope: 'https://graph.microsoft.com/.default' });
		const run = async (cred: typeof graphCred, parameters: Record<string, unknown>, input: Array<Record<string, unknown>>) => {
			const wf = harness.singleNodeWorkflow({ name: 'Defender', type: NODE_TYPE, parameters: parameters as never, credentials: { microsoftDefenderForEndpointApi: cred } });
			const result = await harness.runWorkflow({ ...wf, nodeTypes, credentialsHelper: creds, input: input.map((json) => ({ json: json as never })) });
			const error = harness.errorOf(result, 'Defender');
			if (error) throw error;
			return harness.outputOf(result, 'Defender');
		};

		// (1) Update Many of N alerts on Graph ($batch)
		const since = await child.call<number>('lastSeq');
		const sub0 = await child.call<number>('lastSubSeq');
		const started = Date.now();
		const out = await run(graphCred, { resource: 'alert', operation: 'updateMany', customerTenant: tUpdate.id, alertIds: '={{ $json.id }}', updateFields: { status: 'Resolved', classification: 'FalsePositive', determination: 'Clean' } }, tUpdate.alertIds.map((id) => ({ id })));
		const updateWall = Date.now() - started;
		const batchCalls = (await child.call<Array<{ path: string; status: number }>>('requests', { kind: 'api', tenantId: tUpdate.id, sinceSeq: since, pathRegex: '^/v1\\.0/\\$batch$' })).length;
		const subs = await child.call<Array<{ method: string; status: number }>>('subRequests', { tenantId: tUpdate.id, sinceSeq: sub0 });
		const updateMany = {
			alerts: updates,
			items: out.length,
			batchCalls,
			expectedBatchCalls: Math.ceil(updates / 20),
			subRequests: subs.length,
			subRequests429: subs.filter((s) => s.status === 429).length,
			failedItems: out.filter((i) => i.json.updated !== true).length,
			wallMs: updateWall,
			minimumMinutesAtDocumentedLimits: Math.round((minimumDurationMs(updates) / 60_000) * 10) / 10,
		};

		// (3) The trigger over 20 customer tenants on each API: activation, a burst drained, an idle poll.
		const trigger = {} as GraphBenchResult['results']['trigger'];
		for (const api of ['defender', 'graph'] as const) trigger[api] = await measureTrigger(api, scale);

		// (2) Return All over 50,000 alerts: each API in a fresh n8n process of its own (its own emulator, same seed), so
		// neither run's heap inflates the other's RSS.
		const returnAll = {} as GraphBenchResult['results']['returnAll'];
		for (const api of ['defender', 'graph'] as const) returnAll[api] = measureInFreshProcess(api, listAlerts, scale);

		const n = updates.toLocaleString('en-US');
		const l = listAlerts.toLocaleString('en-US');
		const rows: GraphBenchRow[] = [
			['Scenario', 'Items', 'API calls', '429s', 'Wall time', 'Peak RSS'],
			[`(6) Update Many ${n} alerts on Graph ($batch of ≤ 20)`, String(updateMany.items), `${batchCalls} $batch (${updateMany.subRequests} sub)`, String(updateMany.subRequests429), `${(updateWall / 1000).toFixed(2)} s`, '-'],
			[`(6) Get Many, Return All, ${l} alerts, Defender API`, String(returnAll.defender.items), String(returnAll.defender.pages), String(returnAll.defender.throttled), `${(returnAll.defender.wallMs / 1000).toFixed(2)} s`, `${returnAll.defender.peakRssMb} MB`],
			[`(6) Get Many, Return All, ${l} alerts, Graph`, String(returnAll.graph.items), String(returnAll.graph.pages), String(returnAll.graph.throttled), `${(returnAll.graph.wallMs / 1000).toFixed(2)} s`, `${returnAll.graph.peakRssMb} MB`],
		];
		for (const api of ['defender', 'graph'] as const) {
			const t = trigger[api];
			const name = api === 'graph' ? 'Graph' : 'Defender API';
			rows.push([`(6) Trigger, ${t.tenants} tenants, ${name}: activation poll`, '0', String(t.activationRequests), '0', '-', '-']);
			rows.push([`(6) Trigger, ${t.tenants} tenants, ${name}: burst of ${t.burstAlerts.toLocaleString('en-US')} drained in ${t.drainPolls} polls`, String(t.delivered), String(t.drainRequests), String(t.throttled), '-', '-']);
			rows.push([`(6) Trigger, ${t.tenants} tenants, ${name}: idle poll`, '0', String(t.idleRequests), '0', '-', '-']);
		}
		return { rows, results: { timeScale: scale, updateMany, returnAll, trigger } };
	} finally {
		await child.call('stop').catch(() => undefined);
		resetProcessState();
	}
}

if (require.main === module) {
	const root = path.resolve(__dirname, '..');
	const ca = path.join(root, 'test', '.certs', 'ca.pem');
	if (!existsSync(ca) || !process.env.NODE_EXTRA_CA_CERTS || path.resolve(process.env.NODE_EXTRA_CA_CERTS) !== ca) {
		if (!existsSync(ca)) spawnSync('bash', [path.join(root, 'scripts', 'make-certs.sh')], { stdio: 'inherit' });
		// Node reads NODE_EXTRA_CA_CERTS only at start-up: run again with it set (TLS to the emulator stays verified).
		const again = spawnSync(process.execPath, [...process.execArgv, __filename, ...process.argv.slice(2)], { stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: ca } });
		process.exit(again.status ?? 1);
	}
	const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
	const only = flag('return-all');
	if (process.argv.includes('--trigger-only')) {
		(async () => {
			for (const api of ['defender', 'graph'] as const) console.log(api, JSON.stringify(await measureTrigger(api, SCALE)));
		})().then(
			() => process.exit(0),
			(error: unknown) => {
				console.error(error);
				process.exit(1);
			},
		);
	} else if (only === 'defender' || only === 'graph') {
		measureReturnAll(only, Number(flag('alerts') ?? LIST_ALERTS), Number(flag('scale') ?? SCALE)).then(
			(result) => {
				console.log(`RESULT ${JSON.stringify(result)}`);
				process.exit(0);
			},
			(error: unknown) => {
				console.error(error);
				process.exit(1);
			},
		);
	} else {
		benchGraph().then(
			({ rows, results }) => {
				const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
				for (const r of rows) console.log(`| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ')} |`);
				console.log(JSON.stringify(results, null, 2));
			},
			(error: unknown) => {
				console.error(error);
				process.exit(1);
			},
		);
	}
}
