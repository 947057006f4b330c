/**
 * The emulator in its own process for bench/graph.ts (so RSS measures the n8n side only), with Microsoft Graph
 * enabled, Graph permissions consented and every documented rate limit (Graph security alerts 150/min) scaled.
 * Controlled over IPC: {id, cmd, args} → {id, result} | {id, error}.
 */
import { DEFAULT_RATE_LIMITS, type Emulator, MSSP_ROLES, type RequestFilter, startEmulator } from '../test/emulator';
import { serveCommands } from './child';

let emu: Emulator | undefined;

async function handle(cmd: string, args: Record<string, unknown> = {}): Promise<unknown> {
	switch (cmd) {
		case 'start': {
			const scale = Number(args.scale);
			const rateLimits = Object.fromEntries(
				Object.entries(DEFAULT_RATE_LIMITS).map(([cls, rules]) => [cls, rules.map((r) => ({ limit: r.limit, windowMs: r.windowMs * scale }))]),
			);
			emu = await startEmulator({ rateLimits, logLimit: 500_000, graph: true });
			const sizes = args.tenants as number[];
			const scenario = emu.createScenario({ tenants: sizes.length, alertsPerTenant: 0, roles: [...MSSP_ROLES, 'SecurityAlert.ReadWrite.All'] });
			scenario.tenants.forEach((t, k) => {
				if (sizes[k] > 0) t.alertIds = emu!.seedTenant(t.id, { alerts: sizes[k], seed: `bench-graph-${k}`, machines: 25, events: 0 }).alertIds;
			});
			return { url: emu.url, clientId: scenario.clientId, clientSecret: scenario.clientSecret, tenants: scenario.tenants.map((t) => ({ id: t.id, alertIds: t.alertIds })) };
		}
		case 'requests': {
			const filter = { ...(args as RequestFilter & { pathRegex?: string }) };
			if (typeof (args as { pathRegex?: string }).pathRegex === 'string') filter.path = new RegExp((args as { pathRegex: string }).pathRegex);
			delete (filter as { pathRegex?: string }).pathRegex;
			return emu!.requests(filter).map((r) => ({ path: r.path, status: r.status }));
		}
		case 'subRequests':
			return emu!.graph.subRequests(args as { tenantId?: string; sinceSeq?: number }).map((s) => ({ method: s.method, status: s.status }));
		case 'addAlerts':
			return emu!.addAlerts(String(args.tenantId), Number(args.count)).length;
		case 'lastSeq':
			return emu!.lastSeq();
		case 'lastSubSeq':
			return emu!.graph.lastSubSeq();
		case 'stop':
			await emu?.close();
			setImmediate(() => process.exit(0));
			return true;
		default:
			throw new Error(`unknown command ${cmd}`);
	}
}

serveCommands(handle);
