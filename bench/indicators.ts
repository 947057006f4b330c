/**
 * Benchmark (4): submit 2,000 indicators with Indicator → Submit Many against the emulator, documented rate limits
 * ON and time-scaled ×0.01 on both sides (as bench/run.ts does), beside what one Submit per indicator would cost.
 *
 *   import { benchIndicators } from './indicators';
 *   const { rows, results } = await benchIndicators();   // rows: [scenario, items, API calls, 429s, wall time]
 *
 * The emulator runs in this process (like the engine tests). On its own:
 *   bash scripts/run-node24.sh node --require ts-node/register/transpile-only bench/indicators.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type BenchRow = [string, string, string, string, string];

export interface IndicatorBenchResult {
	rows: BenchRow[];
	results: {
		timeScale: number;
		indicators: number;
		submitMany: { items: number; importCalls: number; apiCalls: number; throttled: number; failedItems: number; wallMs: number };
		naive: { submitCalls: number; minimumMinutesAtDocumentedLimits: number };
		submitManyMinimumSecondsAtDocumentedLimits: number;
	};
}

const INDICATORS = 2000;
const SCALE = 0.01;

/**
 * Shortest time `calls` requests take under a class's documented budget when our pacer spaces them (simulated on a
 * virtual clock: no waiting).
 */
function minimumDurationMs(calls: number, cls: 'indicators' | 'indicatorImport'): number {
	/* eslint-disable @typescript-eslint/no-require-imports */
	const { Pacer } = require('../nodes/MicrosoftDefenderForEndpoint/transport/pacer') as typeof import('../nodes/MicrosoftDefenderForEndpoint/transport/pacer');
	/* eslint-enable @typescript-eslint/no-require-imports */
	let now = 0;
	const pacer = new Pacer(() => now);
	for (let k = 0; k < calls; k++) {
		now += pacer.delayFor('bench', cls);
		pacer.record('bench', cls);
	}
	return now;
}

export async function benchIndicators(options: { indicators?: number; scale?: number } = {}): Promise<IndicatorBenchResult> {
	const count = options.indicators ?? INDICATORS;
	const scale = options.scale ?? SCALE;
	process.env.N8N_USER_FOLDER ??= mkdtempSync(path.join(tmpdir(), 'mde-bench-'));
	process.env.N8N_DIAGNOSTICS_ENABLED = 'false';
	/* eslint-disable @typescript-eslint/no-require-imports */
	require('reflect-metadata');
	const harness = require('../test/harness') as typeof import('../test/harness');
	const emulatorLib = require('../test/emulator') as typeof import('../test/emulator');
	const { pseudoSha256 } = require('../test/emulator/indicators') as typeof import('../test/emulator/indicators');
	const { MicrosoftDefenderForEndpoint } = require('../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node.ts') as typeof import('../nodes/MicrosoftDefenderForEndpoint/MicrosoftDefenderForEndpoint.node');
	const { resetProcessState } = require('../nodes/MicrosoftDefenderForEndpoint/transport/processState') as typeof import('../nodes/MicrosoftDefenderForEndpoint/transport/processState');
	/* eslint-enable @typescript-eslint/no-require-imports */

	const rateLimits = Object.fromEntries(
		Object.entries(emulatorLib.DEFAULT_RATE_LIMITS).map(([cls, rules]) => [cls, rules.map((r) => ({ limit: r.limit, windowMs: r.windowMs * scale }))]),
	);
	const emu = await emulatorLib.startEmulator({ rateLimits, logLimit: 50_000 });
	try {
		const scenario = emu.createScenario({ tenants: 1, alertsPerTenant: 0, roles: [...emulatorLib.MSSP_ROLES, 'Ti.ReadWrite.All'] });
		const tenantId = scenario.tenants[0].id;
		resetProcessState({ pacerTimeScale: scale });
		const NODE_TYPE = `${harness.PACKAGE}.microsoftDefenderForEndpoint`;
		const nodeTypes = new harness.TestNodeTypes({ [NODE_TYPE]: new MicrosoftDefenderForEndpoint() });
		const creds = new harness.TestCredentialsHelper();
		const cred = creds.add('bench-indicators', { cloud: 'custom', authorityHost: emu.url, apiBaseUrl: emu.url, tenantId, clientId: scenario.clientId, clientSecret: scenario.clientSecret });
		const input = Array.from({ length: count }, (_, k) => ({ json: { sha256: pseudoSha256(`bench|${k}`), action: k % 4 === 0 ? 'Block' : 'Audit' } }));
		const parameters = {
			resource: 'indicator',
			operation: 'submitMany',
			indicatorType: 'FileSha256',
			indicatorValue: '={{ $json.sha256 }}',
			indicatorAction: '={{ $json.action }}',
			title: 'Threat feed',
			description: 'bench: 2,000 indicators from a feed',
		};
		const wf = harness.singleNodeWorkflow({ name: 'Defender', type: NODE_TYPE, parameters, credentials: { microsoftDefenderForEndpointApi: cred }, onError: 'continueRegularOutput' });
		const since = emu.lastSeq();
		const started = Date.now();
		const run = await harness.runWorkflow({ ...wf, nodeTypes, credentialsHelper: creds, input });
		const wallMs = Date.now() - started;
		const error = harness.errorOf(run, 'Defender');
		if (error) throw error;
		const out = harness.outputOf(run, 'Defender');
		const api = emu.requests({ kind: 'api', sinceSeq: since });
		const importCalls = api.filter((r) => r.endpointClass === 'indicatorImport' && r.status === 200).length;
		const throttled = api.filter((r) => r.status === 429).length;
		const failedItems = out.filter((i) => i.json.imported !== true).length;
		if (out.length !== count || emu.indicators.activeCount(tenantId) !== count) throw new Error(`expected ${count} indicators, got ${out.length} items and ${emu.indicators.activeCount(tenantId)} stored`);

		const naiveMinutes = minimumDurationMs(count, 'indicators') / 60_000;
		const importSeconds = minimumDurationMs(Math.ceil(count / 500), 'indicatorImport') / 1000;
		const items = count.toLocaleString('en-US');
		const rows: BenchRow[] = [
			[`(5) Submit ${items} indicators, Submit Many (import, ≤ 500 per call)`, String(out.length), String(api.length), String(throttled), `${(wallMs / 1000).toFixed(2)} s`],
			[`(5) naive: one Submit per indicator (not run; documented 100/min + 1,500/h)`, String(count), String(count), '-', `≥ ${Math.round(naiveMinutes)} min`],
		];
		return {
			rows,
			results: {
				timeScale: scale,
				indicators: count,
				submitMany: { items: out.length, importCalls, apiCalls: api.length, throttled, failedItems, wallMs },
				naive: { submitCalls: count, minimumMinutesAtDocumentedLimits: Math.round(naiveMinutes * 10) / 10 },
				submitManyMinimumSecondsAtDocumentedLimits: importSeconds,
			},
		};
	} finally {
		await emu.close();
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
	benchIndicators().then(
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
