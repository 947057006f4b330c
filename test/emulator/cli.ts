/**
 * Start the emulator from the command line:
 *
 *   node --require ts-node/register/transpile-only test/emulator/cli.ts \
 *     [--port N] [--proxy-port N] [--seed-file scenario.json] [--state-file out.json] [--secret S] [--latency MS] [--no-rate-limits]
 *
 * Without --seed-file the default scenario is loaded (DEFAULT_SCENARIO: "MSSP app" 5b1c0d2e-8f4a-4c3b-9d6e-1a2b3c4d5e6f,
 * tenants Contoso 11111111-2222-3333-4444-555555555555 and Fabrikam 22222222-3333-4444-5555-666666666666).
 * The state JSON {url, proxyUrl, caPath, clientId, clientSecret, tenants:[{id, domain, name, …}]} is printed as one
 * line on stdout and written to --state-file. SIGINT/SIGTERM close the servers and exit 0.
 *
 * Seed file format (all optional but `tenants` or `scenario`):
 *   { "app": {"clientId": "…", "name": "…", "secret": "…"},
 *     "tenants": [{"id": "…", "name": "Contoso", "domain": "contoso.onmicrosoft.com", "roles": [...], "alerts": 40, "seed": "x", "events": 12}],
 *     "scenario": {"tenants": 50, "alertsPerTenant": 20},            // alternative to "tenants": ScenarioOptions
 *     "tokenLifetimeSeconds": 3599, "latencyMs": 0, "rateLimits": {...} | false, "maxBatchSize": 500 }
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { randomSecret } from './directory';
import { startEmulator, type Emulator } from './emulator';
import { applyDefaultScenario, createScenario, MSSP_ROLES } from './scenario';
import type { EmulatorOptions, RateLimitConfig, Scenario, ScenarioOptions } from './types';

interface SeedFile {
	app?: { clientId?: string; name?: string; secret?: string };
	home?: { id?: string; name?: string; domain?: string };
	tenants?: Array<{ id?: string; name: string; domain?: string; roles?: string[]; alerts?: number; seed?: string | number; events?: number; consent?: boolean }>;
	scenario?: ScenarioOptions;
	tokenLifetimeSeconds?: number;
	latencyMs?: number;
	rateLimits?: Partial<RateLimitConfig> | false;
	maxBatchSize?: number;
}

function parseArgs(argv: string[]): Record<string, string | boolean> {
	const out: Record<string, string | boolean> = {};
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		if (!arg.startsWith('--')) throw new Error(`Unexpected argument '${arg}'`);
		const [name, inline] = arg.slice(2).split('=', 2);
		if (name.startsWith('no-')) {
			out[name] = true;
			continue;
		}
		const value = inline ?? argv[++i];
		if (value === undefined) throw new Error(`--${name} needs a value`);
		out[name] = value;
	}
	return out;
}

function applySeedFile(emulator: Emulator, file: SeedFile, secretArg: string | undefined): Scenario {
	if (file.scenario) {
		return createScenario(emulator, { ...file.scenario, clientSecret: secretArg ?? file.scenario.clientSecret ?? file.app?.secret, clientId: file.scenario.clientId ?? file.app?.clientId });
	}
	if (!file.tenants || file.tenants.length === 0) throw new Error('Seed file needs "tenants" or "scenario"');
	const home = emulator.addTenant({ id: file.home?.id, name: file.home?.name ?? 'MSSP home', domains: file.home?.domain ? [file.home.domain] : undefined });
	const clientSecret = secretArg ?? file.app?.secret ?? randomSecret();
	const app = emulator.addApp({
		clientId: file.app?.clientId,
		name: file.app?.name ?? 'MSSP app',
		homeTenantId: home.id,
		secrets: [clientSecret],
		requestedRoles: MSSP_ROLES,
	});
	const tenants = file.tenants.map((t) => {
		const tenant = emulator.addTenant({ id: t.id, name: t.name, domains: t.domain ? [t.domain] : undefined });
		if (t.consent !== false) emulator.grantConsent(tenant.id, app.clientId, t.roles ?? MSSP_ROLES);
		const seeded = emulator.seedTenant(tenant.id, { alerts: t.alerts ?? 40, seed: t.seed, events: t.events });
		return { id: tenant.id, name: tenant.name, domain: tenant.domains[0], alertIds: seeded.alertIds, machineIds: seeded.machineIds, events: seeded.events };
	});
	return { clientId: app.clientId, clientSecret, appName: app.name, homeTenantId: home.id, tenants };
}

async function main(): Promise<void> {
	const args = parseArgs(process.argv.slice(2));
	const known = new Set(['port', 'proxy-port', 'seed-file', 'state-file', 'secret', 'latency', 'no-rate-limits', 'cert-dir']);
	for (const key of Object.keys(args)) if (!known.has(key)) throw new Error(`Unknown option --${key}`);
	const seedFile: SeedFile | undefined = typeof args['seed-file'] === 'string' ? (JSON.parse(readFileSync(args['seed-file'], 'utf8')) as SeedFile) : undefined;
	const options: EmulatorOptions = {
		port: typeof args.port === 'string' ? Number(args.port) : 0,
		proxyPort: typeof args['proxy-port'] === 'string' ? Number(args['proxy-port']) : 0,
		certDir: typeof args['cert-dir'] === 'string' ? args['cert-dir'] : undefined,
		tokenLifetimeSeconds: seedFile?.tokenLifetimeSeconds,
		latencyMs: typeof args.latency === 'string' ? Number(args.latency) : seedFile?.latencyMs,
		rateLimits: args['no-rate-limits'] === true ? false : seedFile?.rateLimits,
		maxBatchSize: seedFile?.maxBatchSize,
	};
	const emulator = await startEmulator(options);
	// Handlers first: a supervisor may signal as soon as it has read the state line.
	let stopping = false;
	const stop = (signal: string): void => {
		if (stopping) return;
		stopping = true;
		process.stderr.write(`[emulator] ${signal}: shutting down\n`);
		emulator.close().then(
			() => process.exit(0),
			() => process.exit(1),
		);
	};
	process.on('SIGINT', () => stop('SIGINT'));
	process.on('SIGTERM', () => stop('SIGTERM'));
	const secretArg = typeof args.secret === 'string' ? args.secret : undefined;
	const scenario = seedFile ? applySeedFile(emulator, seedFile, secretArg) : applyDefaultScenario(emulator, { clientSecret: secretArg });
	const state = {
		url: emulator.url,
		port: emulator.port,
		proxyUrl: emulator.proxyUrl,
		caPath: emulator.caPath,
		controlUrl: `${emulator.url}/_emulator`,
		clientId: scenario.clientId,
		clientSecret: scenario.clientSecret,
		appName: scenario.appName,
		homeTenantId: scenario.homeTenantId,
		tenants: scenario.tenants.map((t) => ({
			id: t.id,
			domain: t.domain,
			name: t.name,
			alertCount: t.alertIds.length,
			events: t.events.slice(0, 5).map((e) => ({ reportId: e.reportId, eventTime: e.eventTime, machineId: e.machineId })),
		})),
		pid: process.pid,
	};
	const json = JSON.stringify(state);
	if (typeof args['state-file'] === 'string') writeFileSync(args['state-file'], `${JSON.stringify(state, null, 2)}\n`);
	process.stdout.write(`${json}\n`);
}

main().catch((error: unknown) => {
	process.stderr.write(`[emulator] ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
	process.exit(1);
});
