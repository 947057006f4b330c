/** The trigger's "Tenants" parameter: a list of customer tenants with optional labels. */
import { validateTenantId } from '../core/credentials';

export interface TenantEntry {
	/** '' = the credential's own tenant */
	tenantId: string;
	label?: string;
}

const MAX_TENANTS = 1000;

function entry(raw: unknown): TenantEntry | undefined {
	if (raw === null || raw === undefined) return undefined;
	if (typeof raw === 'object') {
		const o = raw as Record<string, unknown>;
		const id = o.tenantId ?? o.tenant ?? o.id;
		const label = o.label ?? o.name ?? o.customer;
		if (id === undefined || `${id as string}`.trim() === '') return undefined;
		return { tenantId: validateTenantId(String(id), 'Tenant'), label: label === undefined || label === null ? undefined : String(label) };
	}
	const text = String(raw).trim();
	if (!text) return undefined;
	const eq = text.indexOf('=');
	const id = eq >= 0 ? text.slice(0, eq).trim() : text;
	const label = eq >= 0 ? text.slice(eq + 1).trim() || undefined : undefined;
	return { tenantId: validateTenantId(id, 'Tenant'), label };
}

/** Accepts "a, b=Label\nc", a JSON array string, an array of ids, or an array of {tenantId, label}. */
export function parseTenantList(value: unknown): TenantEntry[] {
	let list: unknown[];
	if (Array.isArray(value)) list = value;
	else if (typeof value === 'string' && value.trim().startsWith('[')) {
		try {
			list = JSON.parse(value) as unknown[];
		} catch {
			list = value.split(/[,\n]/);
		}
	} else if (typeof value === 'string') list = value.split(/[,\n;]/);
	else if (value && typeof value === 'object') list = [value];
	else list = [];
	const out = new Map<string, TenantEntry>();
	for (const raw of list) {
		const e = entry(raw);
		if (e && !out.has(e.tenantId)) out.set(e.tenantId, e);
	}
	if (out.size > MAX_TENANTS) throw new Error(`At most ${MAX_TENANTS} tenants per trigger (got ${out.size}); split them over several workflows`);
	return [...out.values()];
}
