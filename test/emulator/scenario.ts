/**
 * Scenario helpers: build an MSSP directory (one multi-tenant app, N customer tenants with consent and roles) and
 * seed realistic alerts, returning everything a test needs to build credentials.
 */
import type { Emulator } from './emulator';
import { randomSecret } from './directory';
import { Rng } from './seed';
import type { HuntingEvent, Scenario, ScenarioOptions, ScenarioTenant } from './types';

export const MSSP_ROLES = ['Alert.ReadWrite.All', 'Machine.Read.All', 'File.Read.All', 'Ip.Read.All', 'URL.Read.All', 'User.Read.All'];

/** Ids of the default (CLI/demo) scenario. */
export const DEFAULT_SCENARIO = {
	appName: 'MSSP app',
	clientId: '5b1c0d2e-8f4a-4c3b-9d6e-1a2b3c4d5e6f',
	home: { id: '9f8e7d6c-5b4a-4321-8fed-cba987654321', name: 'Northwind MSSP', domain: 'northwindmssp.onmicrosoft.com' },
	tenants: [
		{ id: '11111111-2222-3333-4444-555555555555', name: 'Contoso', domain: 'contoso.onmicrosoft.com', seed: 'contoso' },
		{ id: '22222222-3333-4444-5555-666666666666', name: 'Fabrikam', domain: 'fabrikam.onmicrosoft.com', seed: 'fabrikam' },
	],
	alertsPerTenant: 40,
	eventsPerTenant: 12,
} as const;

/**
 * Create one multi-tenant app in an MSSP home tenant and `tenants` customer tenants (`Customer 001` …,
 * `customer001.onmicrosoft.com`), each with the app's service principal, `roles` (default MSSP_ROLES) and
 * `alertsPerTenant` seeded alerts. Tenant ids are deterministic for a given seed.
 */
export function createScenario(emulator: Emulator, options: ScenarioOptions): Scenario {
	if (!Number.isInteger(options.tenants) || options.tenants < 0) throw new Error('createScenario: tenants must be a non-negative integer');
	const seed = options.seed ?? 1;
	const prefix = (options.domainPrefix ?? 'customer').toLowerCase();
	const rng = new Rng(`scenario|${seed}|${prefix}`);
	const roles = options.roles ?? MSSP_ROLES;
	const homeId = rng.guid();
	const home = emulator.addTenant({ id: homeId, name: `${prefix} MSSP home`, domains: [`${prefix}mssp${seed}.onmicrosoft.com`] });
	const clientSecret = options.clientSecret ?? randomSecret();
	const app = emulator.addApp({
		clientId: options.clientId ?? rng.guid(),
		name: options.appName ?? 'MSSP app',
		homeTenantId: home.id,
		multiTenant: true,
		secrets: [clientSecret],
		requestedRoles: roles,
		certificates: options.certificates,
	});
	const tenants: ScenarioTenant[] = [];
	const width = Math.max(3, String(options.tenants).length);
	for (let i = 1; i <= options.tenants; i++) {
		const label = `${prefix}${String(i).padStart(width, '0')}`;
		const tenant = emulator.addTenant({
			id: rng.guid(),
			name: `${prefix.charAt(0).toUpperCase()}${prefix.slice(1)} ${String(i).padStart(width, '0')}`,
			domains: [`${label}.onmicrosoft.com`],
		});
		emulator.grantConsent(tenant.id, app.clientId, roles);
		let alertIds: string[] = [];
		let machineIds: string[] = [];
		let events: HuntingEvent[] = [];
		const alerts = options.alertsPerTenant ?? 0;
		if (alerts > 0 || (options.eventsPerTenant ?? 0) > 0) {
			const seeded = emulator.seedTenant(tenant.id, {
				alerts,
				seed: `${seed}|${i}`,
				start: options.start,
				end: options.end,
				events: options.eventsPerTenant ?? 6,
			});
			alertIds = seeded.alertIds;
			machineIds = seeded.machineIds;
			events = seeded.events;
		}
		tenants.push({ id: tenant.id, name: tenant.name, domain: tenant.domains[0], alertIds, machineIds, events });
	}
	return { clientId: app.clientId, clientSecret, appName: app.name, homeTenantId: home.id, tenants };
}

/** The CLI/demo scenario: "MSSP app" with Contoso and Fabrikam (DEFAULT_SCENARIO ids), 40 alerts each. */
export function applyDefaultScenario(emulator: Emulator, options: { clientSecret?: string; alertsPerTenant?: number } = {}): Scenario {
	const d = DEFAULT_SCENARIO;
	const home = emulator.addTenant({ id: d.home.id, name: d.home.name, domains: [d.home.domain] });
	const clientSecret = options.clientSecret ?? randomSecret();
	const app = emulator.addApp({
		clientId: d.clientId,
		name: d.appName,
		homeTenantId: home.id,
		multiTenant: true,
		secrets: [clientSecret],
		requestedRoles: MSSP_ROLES,
	});
	const tenants: ScenarioTenant[] = d.tenants.map((t) => {
		const tenant = emulator.addTenant({ id: t.id, name: t.name, domains: [t.domain] });
		emulator.grantConsent(tenant.id, app.clientId, MSSP_ROLES);
		const seeded = emulator.seedTenant(tenant.id, {
			alerts: options.alertsPerTenant ?? d.alertsPerTenant,
			seed: t.seed,
			events: d.eventsPerTenant,
		});
		return { id: tenant.id, name: tenant.name, domain: t.domain, alertIds: seeded.alertIds, machineIds: seeded.machineIds, events: seeded.events };
	});
	return { clientId: app.clientId, clientSecret, appName: app.name, homeTenantId: home.id, tenants };
}
