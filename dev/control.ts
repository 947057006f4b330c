/**
 * Adds alerts to the running dev emulator through its control API (POST /_emulator/tenants/{id}/alerts), trusting
 * only the local test CA. Used by `npm run dev:alerts` and by test/e2e/dev.e2e.ts.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { DevState } from './config';

export interface AlertRequest {
	count: number;
	/** Tenant name, domain or ID (default: the first customer tenant, Contoso). */
	tenant?: string;
	severity?: string;
	title?: string;
}

export interface AddedAlert {
	id: string;
	title: string;
	severity: string;
	status: string;
	alertCreationTime: string;
}

export function parseAlertArgs(argv: string[]): AlertRequest {
	const out: AlertRequest = { count: 1 };
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i];
		const value = (): string => {
			const v = argv[++i];
			if (v === undefined) throw new Error(`${arg} needs a value`);
			return v;
		};
		if (/^\d+$/.test(arg)) out.count = Number(arg);
		else if (arg === '--tenant') out.tenant = value();
		else if (arg === '--severity') out.severity = value();
		else if (arg === '--title') out.title = value();
		else throw new Error(`Unknown argument '${arg}'. Usage: npm run dev:alerts -- [count] [--tenant contoso|fabrikam|<id>] [--severity Informational|Low|Medium|High] [--title text]`);
	}
	if (out.count < 1 || out.count > 1000) throw new Error('count must be between 1 and 1000');
	return out;
}

export function resolveTenant(state: DevState, tenant: string | undefined): DevState['emulator']['tenants'][number] {
	const tenants = state.emulator.tenants;
	if (!tenant) return tenants[0];
	const needle = tenant.toLowerCase();
	const found = tenants.find((t) => t.id === needle || t.domain.toLowerCase() === needle || t.name.toLowerCase() === needle || t.domain.toLowerCase().startsWith(`${needle}.`));
	if (!found) throw new Error(`Unknown tenant '${tenant}': one of ${tenants.map((t) => `${t.name} (${t.domain})`).join(', ')}`);
	return found;
}

export async function addDevAlerts(state: DevState, input: AlertRequest): Promise<{ tenant: DevState['emulator']['tenants'][number]; alerts: AddedAlert[] }> {
	const tenant = resolveTenant(state, input.tenant);
	const body =
		input.severity === undefined && input.title === undefined
			? { count: input.count }
			: Array.from({ length: input.count }, (_, i) => ({
					...(input.severity ? { severity: input.severity } : {}),
					...(input.title ? { title: input.count > 1 ? `${input.title} (${i + 1})` : input.title } : {}),
				}));
	const url = new URL(`${state.emulator.controlUrl}/tenants/${tenant.id}/alerts`);
	const ca = readFileSync(state.emulator.caPath);
	const payload = JSON.stringify(body);
	const response = await new Promise<{ status: number; text: string }>((resolvePromise, reject) => {
		const req = request(url, { method: 'POST', ca, headers: { 'content-type': 'application/json', accept: 'application/json' }, timeout: 15_000 }, (res) => {
			let text = '';
			res.setEncoding('utf8');
			res.on('data', (chunk: string) => (text += chunk));
			res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, text }));
		});
		req.on('timeout', () => req.destroy(new Error(`POST ${url.href} timed out`)));
		req.on('error', reject);
		req.end(payload);
	});
	if (response.status !== 200) throw new Error(`The emulator answered HTTP ${response.status}: ${response.text.slice(0, 300)}`);
	const parsed = JSON.parse(response.text) as { value: AddedAlert[] };
	return { tenant, alerts: parsed.value };
}
