import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { RssSampler, startChild } from './child';

interface TenantInfo {
	id: string;
	alertIds: string[];
}
interface StartResult {
	url: string;
	clientId: string;
	clientSecret: string;
	tenants: TenantInfo[];
}

const SCALE = 0.01;
const UPDATES = 1000;
const LIST_ALERTS = 50_000;
const GET_EXECUTIONS = 100;




const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

export async function main(): Promise<void> {
	process.env.N8N_USER_FOLDER ??= mkdtempSync(path.join(tmpdir(), 'mde-bench-'));
	process.env.N8N_DIAGNOSTICS_ENABLED = 'false';
	/* eslint-disable @typescript-eslint/no-require-imports */
	require('reflect-metadata');
	const harness = require('../test/harness') as typeof import('../test/harness');
	const { MicrosoftDefenderForEndpoint } = require('../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node.ts') as typeof import('../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node');
	const { resetProcessState } = require('../nodes/MicrosoftDefenderForEndpoint/transport/processState') as typeof import('../nodes/MicrosoftDefenderForEndpoint/transport/processState');
	const { tokenBroker } = require('../nodes/MicrosoftDefenderForEndpoint/transport/tokens') as typeof import('../nodes/MicrosoftDefenderForEndpoint/transport/tokens');
	/* eslint-enable @typescript-eslint/no-require-imports */

	const child = await startChild('emulator-child.ts');
	try {
		const t0 = Date.now();
		// tenants: [per-item updates, Update Many, Get Many 50k, Get ×100]
		const emu = await child.call<StartResult>('start', { scale: SCALE, tenants: [UPDATES, UPDATES, LIST_ALERTS, 20] });
		console.log(`[bench] emulator ready in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${emu.url}; documented limits ×${SCALE} on both sides`);
		resetProcessState({ pacerTimeScale: SCALE });

		const NODE_TYPE = `${harness.PACKAGE}.microsoftDefenderForEndpoint`;
		const nodeTypes = new harness.TestNodeTypes({ [NODE_TYPE]: new MicrosoftDefenderForEndpoint() });
		const creds = new harness.TestCredentialsHelper();
		const cred = creds.add('bench', {
			cloud: 'custom',
			authorityHost: emu.url,
			apiBaseUrl: emu.url,
			tenantId: emu.tenants[0].id,
			clientId: emu.clientId,
			clientSecret: emu.clientSecret,
		});
		const run = async (parameters: Record<string, unknown>, input: Array<Record<string, unknown>>) => {
			const wf = harness.singleNodeWorkflow({ name: 'Defender', type: NODE_TYPE, parameters: parameters as never, credentials: { microsoftDefenderForEndpointApi: cred } });
			const result = await harness.runWorkflow({ ...wf, nodeTypes, credentialsHelper: creds, input: input.map((json) => ({ json: json as never })) });
			const error = harness.errorOf(result, 'Defender');
			if (error) throw error;
			return harness.outputOf(result, 'Defender');
		};
		const apiStats = async (tenantId: string, since: number) => {
			const statuses = await child.call<Record<string, number>>('statuses', { kind: 'api', tenantId, sinceSeq: since });
			return { calls: Object.values(statuses).reduce((a, b) => a + b, 0), throttled: statuses['429'] ?? 0 };
		};

		// (1) 1,000 alerts, same change: Update per item vs Update Many
		const [tPerItem, tMany, tList, tGet] = emu.tenants;
		let since = await child.call<number>('lastSeq');
		let started = Date.now();
		let out = await run(
			{ resource: 'alert', operation: 'update', customerTenant: tPerItem.id, alertId: { __rl: true, mode: 'id', value: '={{ $json.id }}' }, updateFields: { status: 'Resolved', classification: 'FalsePositive', determination: 'Clean' }, simplify: true },
			tPerItem.alertIds.map((id) => ({ id })),
		);
		const perItem = { items: out.length, ...(await apiStats(tPerItem.id, since)), wallMs: Date.now() - started };

		since = await child.call<number>('lastSeq');
		started = Date.now();
		out = await run(
			{ resource: 'alert', operation: 'updateMany', customerTenant: tMany.id, alertIds: '={{ $json.id }}', updateFields: { status: 'Resolved', classification: 'FalsePositive', determination: 'Clean' } },
			tMany.alertIds.map((id) => ({ id })),
		);
		const many = { items: out.length, ...(await apiStats(tMany.id, since)), wallMs: Date.now() - started };

		// (2) Get Many, Return All over 50,000 alerts
		out = [];
		if (global.gc) global.gc();
		const sampler = new RssSampler();
		const rssBefore = process.memoryUsage().rss;
		since = await child.call<number>('lastSeq');
		sampler.start();
		started = Date.now();
		out = await run({ resource: 'alert', operation: 'getAll', customerTenant: tList.id, returnAll: true }, [{}]);
		const listWall = Date.now() - started;
		const peak = sampler.stop();
		const list = { items: out.length, ...(await apiStats(tList.id, since)), wallMs: listWall, rssBeforeMb: mb(rssBefore), peakRssMb: mb(peak) };
		out = [];

		// (3) 100 executions of Get: token requests
		const tokensBefore = await child.call<number>('tokens', { tenantId: tGet.id });
		const brokerBefore = Object.entries(tokenBroker.getStats().tokenRequests).filter(([k]) => k.includes(tGet.id)).reduce((a, [, v]) => a + v, 0);
		since = await child.call<number>('lastSeq');
		started = Date.now();
		for (let k = 0; k < GET_EXECUTIONS; k++) {
			await run({ resource: 'alert', operation: 'get', customerTenant: tGet.id, alertId: { __rl: true, mode: 'id', value: tGet.alertIds[k % tGet.alertIds.length] } }, [{}]);
		}
		const getWall = Date.now() - started;
		const tokenRequests = (await child.call<number>('tokens', { tenantId: tGet.id })) - tokensBefore;
		const brokerRequests = Object.entries(tokenBroker.getStats().tokenRequests).filter(([k]) => k.includes(tGet.id)).reduce((a, [, v]) => a + v, 0) - brokerBefore;
		const gets = { executions: GET_EXECUTIONS, ...(await apiStats(tGet.id, since)), wallMs: getWall, tokenRequestsEmulator: tokenRequests, tokenRequestsBroker: brokerRequests };

		const results = {
			at: new Date().toISOString(),
			node: process.version,
			timeScale: SCALE,
			note: 'Documented limits (alerts 100/min+1500/h, batchUpdate 10/min+500/h) with every window ×0.01 on the emulator and the client pacer; wall times are for the scaled windows.',
			updateThousand: { perItem, updateMany: many },
			getManyReturnAll: list,
			getExecutions: gets,
		};

		const rows: Array<[string, string, string, string, string]> = [
			['Scenario', 'Items', 'API calls', '429s', 'Wall time'],
			['(1) Update 1,000 alerts, per item (Update)', String(perItem.items), String(perItem.calls), String(perItem.throttled), `${(perItem.wallMs / 1000).toFixed(2)} s`],
			['(1) Update 1,000 alerts, Update Many', String(many.items), String(many.calls), String(many.throttled), `${(many.wallMs / 1000).toFixed(2)} s`],
			['(2) Get Many, Return All, 50,000 alerts', String(list.items), String(list.calls), String(list.throttled), `${(list.wallMs / 1000).toFixed(2)} s`],
			['(3) 100 executions of Get', String(gets.executions), String(gets.calls), String(gets.throttled), `${(gets.wallMs / 1000).toFixed(2)} s`],
		];
		const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
		const line = (r: string[]) => `| ${r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join(' | ')} |`;
		console.log('');
		console.log(line(rows[0]));
		console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
		for (const r of rows.slice(1)) console.log(line(r));
		console.log('');
		console.log(`(2) peak RSS of the n8n process: ${list.peakRssMb} MB (before: ${list.rssBeforeMb} MB; the emulator runs in its own process)`);
		console.log(`(3) token requests: ${gets.tokenRequestsEmulator} seen by the emulator, ${gets.tokenRequestsBroker} counted by tokenBroker.getStats()`);
		console.log(`windows ×${SCALE}: 100/min → 100 per ${60_000 * SCALE} ms; batchUpdate 10/min → 10 per ${60_000 * SCALE} ms`);

		const dir = path.join(__dirname, 'results');
		mkdirSync(dir, { recursive: true });
		writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`);
		console.log(`\nwritten to ${path.relative(process.cwd(), path.join(dir, 'latest.json'))}`);
	} finally {
		await child.call('stop').catch(() => undefined);
	}
	await extraSections();
}

function printTable(rows: string[][]): void {
	const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
	const line = (r: string[]) => `| ${r.map((cell, c) => (c === 0 ? (cell ?? '').padEnd(widths[c]) : (cell ?? '').padStart(widths[c]))).join(' | ')} |`;
	console.log(line(rows[0]));
	console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
	for (const r of rows.slice(1)) console.log(line(r));
}

/** The other resources' and the trigger's figures, each from its own bench module (each starts what it needs). */
async function extraSections(): Promise<void> {
	/* eslint-disable @typescript-eslint/no-require-imports */
	const { respondBench } = require('./respond') as typeof import('./respond');
	const { benchIndicators } = require('./indicators') as typeof import('./indicators');
	const { formatTriggerStateRows, runTriggerStateBench } = require('./trigger-state') as typeof import('./trigger-state');
	const { benchGraph } = require('./graph') as typeof import('./graph');
	/* eslint-enable @typescript-eslint/no-require-imports */
	console.log('\n[bench] machine actions (documented limits ×0.01 on both sides)');
	printTable([['Scenario', 'Items', 'API calls', '429s', 'Wall time', 'Compared with'], ...(await respondBench())]);
	console.log('\n[bench] indicators (documented limits ×0.01 on both sides)');
	const indicators = await benchIndicators();
	printTable([['Scenario', 'Items', 'API calls', '429s', 'Wall time'], ...indicators.rows]);
	console.log('\n[bench] Microsoft Graph security backend beside the Defender API (documented limits ×0.01 on both sides)');
	const graph = await benchGraph();
	printTable([['Scenario', 'Items', 'API calls', '429s', 'Wall time', 'Peak RSS'], ...graph.rows]);
	console.log('\n[bench] trigger state size (1,000 alerts/h per tenant, 3 versions each, polls every minute, 15-min window)');
	console.log(formatTriggerStateRows(await runTriggerStateBench()));
}
