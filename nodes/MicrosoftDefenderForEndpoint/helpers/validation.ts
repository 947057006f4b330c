/**
 * Input checks that run before any request. Each returns the cleaned value or throws a NodeOperationError that
 * names the item, says what is wrong and how to fix it.
 */
import { type INode, NodeOperationError } from 'n8n-workflow';

import { REGIONS } from '../core/clouds';
import { CredentialInputError, validateTenantId } from '../core/credentials';
import { fromDate, fromTicks, normalizeTimestamp, toTicks } from './timestamps';

export function inputError(node: INode, itemIndex: number | undefined, message: string, description?: string): NodeOperationError {
	return new NodeOperationError(node, message, { itemIndex, description });
}

/**
 * Defender alert ids: `da<18 digits>_<signed int>` (2020+) and the legacy form without `da`
 * (`636688558380765161_2136280442`), see the Alert resource type, https://learn.microsoft.com/en-us/defender-endpoint/api/alerts.
 */
export const ALERT_ID_RE = /^(?:da)?\d{1,24}_-?\d{1,20}$/;
/** Same pattern for resource-locator validation (the UI checks it while typing). */
export const ALERT_ID_PATTERN = '^\\s*(?:da)?\\d{1,24}_-?\\d{1,20}\\s*$';
/** Defender portal alert links (commercial, GCC High, DoD portals), e.g. https://security.microsoft.com/alerts/da637…_123?tid=… */
export const ALERT_URL_PATTERN = '^\\s*https://security\\.(?:microsoft\\.com|microsoft\\.us|apps\\.mil)/alerts/((?:da)?\\d{1,24}_-?\\d{1,20})(?:[/?#].*)?\\s*$';
export const ALERT_URL_EXTRACT = 'https://security\\.(?:microsoft\\.com|microsoft\\.us|apps\\.mil)/alerts/((?:da)?\\d{1,24}_-?\\d{1,20})';
/**
 * Microsoft Graph alert ids: Defender for Endpoint alerts keep the Defender id (the alert resource type's example,
 * https://learn.microsoft.com/en-us/graph/api/resources/security-alert); other Defender XDR sources use other forms, so on
 * Graph an id is any short token of letters, digits and `_ . : = -` starting with a letter or digit (no `/`, no `..`).
 */
export const GRAPH_ALERT_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.:=-]{0,199}$/;
export const GRAPH_ALERT_URL_EXTRACT = 'https://security\\.(?:microsoft\\.com|microsoft\\.us|apps\\.mil)/alerts/([A-Za-z0-9][A-Za-z0-9_.:=-]{0,199})';

function shorten(value: string, max = 80): string {
	return value.length > max ? `${value.slice(0, max)}…` : value;
}

/**
 * One alert id (from a resource locator value, a string, or a portal URL). `api`: the credential's Alerts API; on
 * Microsoft Graph ids of other Defender XDR sources are accepted too (GRAPH_ALERT_ID_RE).
 */
export function validateAlertId(node: INode, itemIndex: number, raw: unknown, label = 'Alert ID', api: 'defender' | 'graph' = 'defender'): string {
	let value = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
	if (!value) {
		throw inputError(node, itemIndex, `${label} is empty`, 'Enter a Defender alert ID such as da638712345678901234_-1234567890, or pick an alert from the list.');
	}
	const fromUrl = new RegExp(api === 'graph' ? GRAPH_ALERT_URL_EXTRACT : ALERT_URL_EXTRACT).exec(value);
	if (fromUrl && /^https:\/\//i.test(value)) value = fromUrl[1];
	if (api === 'graph' && GRAPH_ALERT_ID_RE.test(value) && !value.includes('..')) return value;
	if (!ALERT_ID_RE.test(value)) {
		throw inputError(
			node,
			itemIndex,
			`${label} "${shorten(value)}" does not look like a Defender alert ID`,
			'Defender alert IDs look like da638712345678901234_-1234567890 (older alerts: 636688558380765161_2136280442). Copy the ID from the alert page or from a previous node\'s "id" field.',
		);
	}
	return value;
}

/** A list of alert ids from a string (comma, semicolon, whitespace or newline separated) or an array. */
export function parseAlertIdList(node: INode, itemIndex: number, raw: unknown, api: 'defender' | 'graph' = 'defender'): string[] {
	let parts: unknown[];
	if (Array.isArray(raw)) {
		parts = raw.flatMap((v) => (typeof v === 'string' ? v.split(/[\s,;]+/) : [v]));
	} else if (typeof raw === 'string') {
		let text = raw.trim();
		if (text.startsWith('[') && text.endsWith(']')) {
			try {
				const parsed = JSON.parse(text) as unknown;
				if (Array.isArray(parsed)) return parseAlertIdList(node, itemIndex, parsed, api);
			} catch {
				text = text.slice(1, -1);
			}
		}
		parts = text.split(/[\s,;]+/);
	} else if (typeof raw === 'number') {
		parts = [String(raw)];
	} else {
		parts = [];
	}
	const ids: string[] = [];
	for (const part of parts) {
		if (part === null || part === undefined) continue;
		if (typeof part === 'object') {
			const id = (part as { id?: unknown }).id;
			if (id !== undefined) {
				ids.push(validateAlertId(node, itemIndex, id, 'Alert ID', api));
				continue;
			}
		}
		const s = typeof part === 'string' ? part.trim().replace(/^["']|["']$/g, '') : String(part);
		if (!s) continue;
		ids.push(validateAlertId(node, itemIndex, s, 'Alert ID', api));
	}
	if (ids.length === 0) {
		throw inputError(node, itemIndex, 'Alert IDs is empty', 'Enter one alert ID, a comma or newline separated list, or an expression such as {{ $json.alertIds }} that returns an array of IDs.');
	}
	return ids;
}

/** Check one enum value (case-sensitive as the API is, but a wrong-case value is named with the right spelling). */
export function validateEnum(node: INode, itemIndex: number, label: string, raw: unknown, allowed: readonly string[]): string {
	const value = typeof raw === 'string' ? raw.trim() : '';
	if (allowed.includes(value)) return value;
	const caseMatch = allowed.find((a) => a.toLowerCase() === value.toLowerCase().replace(/[\s_-]/g, ''));
	if (caseMatch) return caseMatch;
	throw inputError(node, itemIndex, `${label} "${shorten(String(raw ?? ''))}" is not a valid value`, `Use one of: ${allowed.join(', ')}.`);
}

/** A multi-value enum parameter: array, or comma separated string from an expression. */
export function validateEnumList(node: INode, itemIndex: number, label: string, raw: unknown, allowed: readonly string[]): string[] {
	return toStringList(raw).map((v) => validateEnum(node, itemIndex, label, v, allowed));
}

const IDENTIFIER_RE = /^[A-Za-z][A-Za-z0-9_.-]{0,99}$/;

/** Free-string values such as a category or detection source: any identifier-like word is accepted. */
export function validateWordList(node: INode, itemIndex: number, label: string, raw: unknown, known: readonly string[]): string[] {
	return toStringList(raw).map((v) => {
		const exact = known.find((k) => k.toLowerCase() === v.toLowerCase());
		if (exact) return exact;
		if (!IDENTIFIER_RE.test(v)) {
			throw inputError(node, itemIndex, `${label} "${shorten(v)}" is not a valid value`, `Use a single word such as ${known.slice(0, 4).join(', ')}.`);
		}
		return v;
	});
}

export function toStringList(raw: unknown): string[] {
	if (raw === undefined || raw === null || raw === '') return [];
	const list = Array.isArray(raw) ? raw : String(raw).split(/[,\n]/);
	return [...new Set(list.map((v) => String(v).trim()).filter((v) => v !== ''))];
}

export function validateRegion(node: INode, itemIndex: number | undefined, raw: unknown): string {
	const value = (typeof raw === 'string' ? raw.trim().toLowerCase() : '') || 'global';
	if (!(REGIONS as readonly string[]).includes(value)) {
		throw inputError(node, itemIndex, `Region "${shorten(String(raw))}" is not a Defender region`, `Use one of: ${REGIONS.join(', ')}.`);
	}
	return value;
}

/** Customer tenant override: '' = the credential's tenant. */
export function validateCustomerTenant(node: INode, itemIndex: number | undefined, raw: unknown): string | undefined {
	if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return undefined;
	try {
		return validateTenantId(typeof raw === 'string' ? raw : String(raw), 'Customer Tenant');
	} catch (error) {
		if (error instanceof CredentialInputError) throw inputError(node, itemIndex, error.message, error.hint);
		throw new NodeOperationError(node, error as Error, { itemIndex });
	}
}

/**
 * Longest alert comment sent. Neither Defender for Endpoint's Update alert / Batch update alerts pages
 * (https://learn.microsoft.com/en-us/defender-endpoint/api/update-alert,
 * https://learn.microsoft.com/en-us/defender-endpoint/api/batch-update-alerts) nor Microsoft Graph's alertComment
 * resource (https://learn.microsoft.com/en-us/graph/api/resources/security-alertcomment) documents a maximum length.
 * This is a chosen safe cap, not a documented limit: 4,000 characters (the common nvarchar(4000) bound), so a long
 * mapped text fails clearly here instead of being cut or refused by the service after other fields were changed.
 */
export const MAX_COMMENT_LENGTH = 4000;

/** An alert comment within MAX_COMMENT_LENGTH (undefined passes). */
export function validateComment(node: INode, itemIndex: number, comment: string | undefined, label = 'Comment'): string | undefined {
	if (comment === undefined) return undefined;
	if (comment.length > MAX_COMMENT_LENGTH) {
		throw inputError(
			node,
			itemIndex,
			`${label} is ${comment.length.toLocaleString('en-US')} characters long; at most ${MAX_COMMENT_LENGTH.toLocaleString('en-US')} are sent`,
			`Shorten it (e.g. {{ $json.text.slice(0, ${MAX_COMMENT_LENGTH}) }}) or put the details in a linked ticket. The Defender API documents no limit; ${MAX_COMMENT_LENGTH} characters is this node's safe cap.`,
		);
	}
	return comment;
}

export function validateInteger(node: INode, itemIndex: number, label: string, raw: unknown, min: number, max: number): number {
	const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
	if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
		throw inputError(node, itemIndex, `${label} must be a whole number from ${min} to ${max}, got "${shorten(String(raw))}"`);
	}
	return n;
}

// ---------------------------------------------------------------------------------------------------- dates

const ZONE_RE = /(?:Z|[+-]\d{2}:?\d{2})$/i;
const DATE_ONLY_RE = /^\d{4}-\d{2}-\d{2}$/;

/** UTC offset (ms) of an IANA zone at an instant. Only whole-minute offsets matter here. */
function zoneOffsetMs(timeZone: string, utcMs: number): number {
	let fmt: Intl.DateTimeFormat;
	try {
		fmt = new Intl.DateTimeFormat('en-US', {
			timeZone,
			hourCycle: 'h23',
			year: 'numeric',
			month: '2-digit',
			day: '2-digit',
			hour: '2-digit',
			minute: '2-digit',
			second: '2-digit',
		});
	} catch {
		return 0;
	}
	const parts: Record<string, number> = {};
	for (const p of fmt.formatToParts(new Date(utcMs))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
	const wall = Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute, parts.second);
	return wall - (utcMs - (((utcMs % 1000) + 1000) % 1000));
}

/**
 * Turn a date parameter into Defender's canonical 7-digit UTC form. Strings keep their full precision (no
 * `Date` round trip); a value without a zone (what n8n's date picker produces) is read in the workflow's
 * time zone. Returns undefined for an empty value; throws for anything that is not a date.
 */
export function toCanonicalUtc(node: INode, itemIndex: number, label: string, raw: unknown, timeZone: string): string | undefined {
	if (raw === undefined || raw === null || raw === '') return undefined;
	const bad = () =>
		inputError(node, itemIndex, `${label} "${shorten(String(raw))}" is not a valid date`, 'Use an ISO 8601 date-time such as 2025-03-04T09:15:22Z or 2025-03-04T10:15:22.4817263+01:00, or pick a date.');
	if (raw instanceof Date) {
		if (Number.isNaN(raw.getTime())) throw bad();
		return fromDate(raw);
	}
	if (typeof raw === 'object') {
		const luxon = raw as { isValid?: boolean; toUTC?: () => { toISO: () => string | null } };
		if (typeof luxon.toUTC === 'function') {
			if (luxon.isValid === false) throw bad();
			const iso = luxon.toUTC().toISO();
			if (!iso) throw bad();
			return normalizeTimestamp(iso);
		}
		throw bad();
	}
	if (typeof raw === 'number') {
		if (!Number.isFinite(raw)) throw bad();
		return fromTicks(BigInt(Math.trunc(raw)) * 10_000n);
	}
	if (typeof raw !== 'string') throw bad();
	let text = raw.trim();
	if (DATE_ONLY_RE.test(text)) text = `${text}T00:00:00`;
	try {
		if (ZONE_RE.test(text)) return normalizeTimestamp(text);
		// Wall-clock time in the workflow's zone: shift by the zone's offset at that moment (checked twice for DST).
		const wallTicks = toTicks(`${text}Z`);
		const wallMs = Number(wallTicks / 10_000n);
		let offset = zoneOffsetMs(timeZone, wallMs);
		offset = zoneOffsetMs(timeZone, wallMs - offset);
		return fromTicks(wallTicks - BigInt(offset) * 10_000n);
	} catch {
		throw bad();
	}
}
