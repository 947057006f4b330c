/**
 * The emulator in its own process for the benchmark, so the benchmark's RSS measures the n8n side only.
 * Controlled over IPC: {id, cmd, args} → {id, result} | {id, error}.
 */
import { DEFAULT_RATE_LIMITS, type Emulator, type RequestFilter, startEmulator } from '../test/emulator';
import { serveCommands } from './child';

let emu: Emulator | undefined;

async function handle(cmd: string, args: Record<string, unknown> = {}): Promise<unknown> {
	switch (cmd) {
		case 'start': {
			const scale = Number(args.scale);
			const rateLimits = Object.fromEntries(
				Object.entries(DEFAULT_RATE_LIMITS).map(([cls, rules]) => [cls, rules.map((r) => ({ limit: r.limit, windowMs: r.windowMs * scale }))]),
			);
			emu = await startEmulator({ rateLimits, logLimit: 500_000 });
			const sizes = args.tenants as number[];
			const scenario = emu.createScenario({ tenants: sizes.length, alertsPerTenant: 0 });
			scenario.tenants.forEach((t, k) => {
				if (sizes[k] > 0) {
					const seeded = emu!.seedTenant(t.id, { alerts: sizes[k], seed: `bench-${k}`, machines: 25, events: 0 });
					t.alertIds = seeded.alertIds;
				}
			});
			return { url: emu.url, clientId: scenario.clientId, clientSecret: scenario.clientSecret, tenants: scenario.tenants.map((t) => ({ id: t.id, alertIds: t.alertIds })) };
		}
		case 'count':
			return emu!.count(args as RequestFilter);
		case 'statuses': {
			const out: Record<string, number> = {};
			for (const r of emu!.requests(args as RequestFilter)) out[r.status] = (out[r.status] ?? 0) + 1;
			return out;
		}
		case 'tokens':
			return emu!.tokensIssued(args as { tenantId?: string });
		case 'lastSeq':
			return emu!.lastSeq();
		case 'rss':
			return process.memoryUsage().rss;
		case 'stop':
			await emu?.close();
			setImmediate(() => process.exit(0));
			return true;
		default:
			throw new Error(`unknown command ${cmd}`);
	}
}

serveCommands(handle);
