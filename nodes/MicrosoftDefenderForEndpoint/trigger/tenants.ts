/**
 * The trigger's "Tenants" parameter: a list of customer tenants with optional labels.
 *
 * One bad entry never blocks the others (issue 10 item 8): an entry that is not a GUID or a domain (`../`, `common`,
 * a pasted secret) is returned in `invalid` with its position, its label and a message that repeats the entry only
 * when it is safe to (core/credentials validateTenantId: short, not secret-like, redacted); the valid entries are
 * polled, and the caller turns every invalid one into a Tenant Failures item on every poll.
 */
import { CredentialInputError, validateTenantId } from '../core/credentials';

export interface TenantEntry {
	/** '' = the credential's own tenant */
	tenantId: string;
	label?: string;
}

export interface InvalidTenantEntry {
	/** 1-based position in the list */
	position: number;
	label?: string;
	/** says what is wrong; names the entry only when it cannot be a secret */
	message: string;
	hint?: string;
}

export interface TenantList {
	tenants: TenantEntry[];
	invalid: InvalidTenantEntry[];
}

export const MAX_TENANTS = 1000;

type Parsed = { ok: TenantEntry } | { bad: Omit<InvalidTenantEntry, 'position'> } | undefined;

function check(id: string, label: string | undefined, position: number): Parsed {
	try {
		return { ok: { tenantId: validateTenantId(id, `Tenants entry ${position}`), label } };
	} catch (error) {
		// validateTenantId throws only CredentialInputError (message safe to show, hint)
		if (error instanceof CredentialInputError) return { bad: { label, message: error.message, hint: error.hint } };
		return { bad: { label, message: `Tenants entry ${position} is not a tenant` } };
	}
}

function entry(raw: unknown, position: number): Parsed {
	if (raw === null || raw === undefined) return undefined;
	if (typeof raw === 'object') {
		const o = raw as Record<string, unknown>;
		const id = o.tenantId ?? o.tenant ?? o.id;
		const label = o.label ?? o.name ?? o.customer;
		const text = label === undefined || label === null ? undefined : String(label);
		if (id === undefined || id === null || (typeof id !== 'string' && typeof id !== 'number') || String(id).trim() === '') {
			return text === undefined ? undefined : { bad: { label: text, message: `Tenants entry ${position} has no tenant ID`, hint: 'Give each entry a tenantId (GUID or verified domain).' } };
		}
		return check(String(id), text, position);
	}
	const text = String(raw).trim();
	if (!text) return undefined;
	const eq = text.indexOf('=');
	const id = eq >= 0 ? text.slice(0, eq).trim() : text;
	const label = eq >= 0 ? text.slice(eq + 1).trim() || undefined : undefined;
	return check(id, label, position);
}

/** Accepts "a, b=Label\nc", a JSON array string, an array of ids, or an array of {tenantId, label}. */
export function parseTenantList(value: unknown): TenantList {
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
	const invalid: InvalidTenantEntry[] = [];
	let position = 0;
	for (const raw of list) {
		if (raw === null || raw === undefined || (typeof raw === 'string' && raw.trim() === '')) continue;
		position++;
		const e = entry(raw, position);
		if (!e) continue;
		if ('bad' in e) invalid.push({ position, ...e.bad });
		else if (!out.has(e.ok.tenantId)) out.set(e.ok.tenantId, e.ok);
	}
	if (out.size > MAX_TENANTS) throw new Error(`At most ${MAX_TENANTS} tenants per trigger (got ${out.size}); split them over several workflows`);
	return { tenants: [...out.values()], invalid };
}
