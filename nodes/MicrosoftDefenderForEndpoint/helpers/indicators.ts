/**
 * Indicators (custom IoCs) of the Defender for Endpoint API, the pure part: value sets, value validation and
 * normalisation per indicator type, the actions each type accepts, and the grouping of many indicators into
 * import calls. No n8n types and no throwing: every check returns `{ ok, value }` or `{ ok: false, message, hint }`
 * and the operation turns a problem into a NodeOperationError with the item index (before any request).
 *
 * Sources: Indicator resource type https://learn.microsoft.com/en-us/defender-endpoint/api/ti-indicator,
 * Submit or Update Indicator https://learn.microsoft.com/en-us/defender-endpoint/api/post-ti-indicator,
 * Import Indicators https://learn.microsoft.com/en-us/defender-endpoint/api/import-ti-indicators,
 * Overview of indicators (actions per type) https://learn.microsoft.com/en-us/defender-endpoint/indicators-overview,
 * IP and URL/domain indicators https://learn.microsoft.com/en-us/defender-endpoint/indicator-ip-domain.
 */
import { BlockList, isIP } from 'node:net';
import { domainToASCII } from 'node:url';

import { odataString } from './odata';

export const INDICATOR_TYPES = ['FileSha1', 'FileSha256', 'FileMd5', 'CertificateThumbprint', 'IpAddress', 'DomainName', 'Url'] as const;
export type IndicatorType = (typeof INDICATOR_TYPES)[number];

export const INDICATOR_TYPE_LABELS: Record<IndicatorType, string> = {
	CertificateThumbprint: 'Certificate Thumbprint',
	DomainName: 'Domain Name',
	FileMd5: 'File MD5',
	FileSha1: 'File SHA-1',
	FileSha256: 'File SHA-256',
	IpAddress: 'IP Address',
	Url: 'URL',
};

/** Every action the API's enum lists. `Alert` and `AlertAndBlock` are the pre-2022 names (see LEGACY_ACTIONS). */
export const INDICATOR_ACTIONS = ['Allowed', 'Audit', 'Warn', 'Block', 'BlockAndRemediate', 'Alert', 'AlertAndBlock'] as const;
export type IndicatorAction = (typeof INDICATOR_ACTIONS)[number];

export const INDICATOR_ACTION_LABELS: Record<IndicatorAction, string> = {
	Alert: 'Alert (Legacy)',
	AlertAndBlock: 'Alert and Block (Legacy)',
	Allowed: 'Allow',
	Audit: 'Audit',
	Block: 'Block Execution',
	BlockAndRemediate: 'Block and Remediate',
	Warn: 'Warn',
};

/**
 * "The prior response actions (AlertAndBlock, and Alert) will be supported until January 2022" (Indicator resource
 * type). Whether the API still accepts them is not stated anywhere we could read, so they are offered, sent
 * unchanged, and not checked against the indicator type: the API decides (a 400 is reported as it comes).
 */
export const LEGACY_ACTIONS: readonly IndicatorAction[] = ['Alert', 'AlertAndBlock'];

/** Actions that stop something from running or loading: destructive at scale (Dry Run, AI-agent opt-in). */
export const BLOCKING_ACTIONS: readonly IndicatorAction[] = ['Block', 'BlockAndRemediate', 'AlertAndBlock'];

/** The table "which actions are available per indicator (IoC) type" of the indicators overview. */
export const ACTIONS_BY_TYPE: Record<IndicatorType, readonly IndicatorAction[]> = {
	FileSha1: ['Allowed', 'Audit', 'Warn', 'Block', 'BlockAndRemediate'],
	FileSha256: ['Allowed', 'Audit', 'Warn', 'Block', 'BlockAndRemediate'],
	FileMd5: ['Allowed', 'Audit', 'Warn', 'Block', 'BlockAndRemediate'],
	IpAddress: ['Allowed', 'Audit', 'Warn', 'Block'],
	DomainName: ['Allowed', 'Audit', 'Warn', 'Block'],
	Url: ['Allowed', 'Audit', 'Warn', 'Block'],
	CertificateThumbprint: ['Allowed', 'BlockAndRemediate'],
};

export const INDICATOR_SEVERITIES = ['Informational', 'Low', 'Medium', 'High'] as const;

/** "Maximum batch size for one API call is 500" (Import Indicators). */
export const MAX_IMPORT_BATCH = 500;
/** "There's a limit of 15,000 active indicators per tenant" (Submit / Import Indicators). */
export const TENANT_INDICATOR_CAP = 15_000;
/** `$top` ≤ 10,000 for the list call, as for alerts. */
export const MAX_INDICATOR_PAGE = 10_000;

export type Check<T> = { ok: true; value: T } | { ok: false; message: string; hint: string };

const ok = <T>(value: T): Check<T> => ({ ok: true, value });
const problem = <T>(message: string, hint: string): Check<T> => ({ ok: false, message, hint });

function shorten(value: string, max = 80): string {
	return value.length > max ? `${value.slice(0, max)}…` : value;
}

export function isBlockingAction(action: string): boolean {
	return (BLOCKING_ACTIONS as readonly string[]).includes(action);
}

/** The upsert key of an indicator: Defender replaces an indicator with the same type and value. */
export function indicatorKey(type: string, value: string): string {
	return `${type}|${value.toLowerCase()}`;
}

// ------------------------------------------------------------------------------------------------ values

const HASH_LENGTHS: Partial<Record<IndicatorType, number>> = { FileMd5: 32, FileSha1: 40, FileSha256: 64, CertificateThumbprint: 40 };
const HEX_RE = /^[0-9a-fA-F]+$/;

function hashOfLength(length: number): string | undefined {
	if (length === 32) return 'an MD5 hash (File MD5)';
	if (length === 40) return 'a SHA-1 hash (File SHA-1, or a certificate thumbprint)';
	if (length === 64) return 'a SHA-256 hash (File SHA-256)';
	return undefined;
}

function checkHash(type: IndicatorType, text: string): Check<string> {
	const expected = HASH_LENGTHS[type]!;
	// Thumbprints are often copied with spaces or colons between the bytes (the Windows certificate dialog, openssl).
	const value = type === 'CertificateThumbprint' ? text.replace(/[\s:]/g, '') : text;
	const label = INDICATOR_TYPE_LABELS[type];
	if (!HEX_RE.test(value)) {
		const bad = [...value].find((c) => !/[0-9a-fA-F]/.test(c)) ?? '';
		return problem(
			`Value "${shorten(text)}" is not a valid ${label}: it contains "${bad}", not a hexadecimal digit`,
			`A ${label} is ${expected} hexadecimal characters (0-9, a-f).`,
		);
	}
	if (value.length !== expected) {
		const other = hashOfLength(value.length);
		return problem(
			`Value "${shorten(text)}" is not a valid ${label}: it has ${value.length} hexadecimal characters, not ${expected}`,
			other ? `${value.length} characters is ${other}: choose that Indicator Type, or check the value.` : `A ${label} is ${expected} hexadecimal characters.`,
		);
	}
	return ok(value);
}

/** Addresses Defender does not take: "Only external IPs can be added to the indicator list" (IP and URL/domain indicators). */
const INTERNAL = new BlockList();
for (const [net, prefix] of [
	['0.0.0.0', 8],
	['10.0.0.0', 8],
	['127.0.0.0', 8],
	['169.254.0.0', 16],
	['172.16.0.0', 12],
	['192.168.0.0', 16],
] as const) {
	INTERNAL.addSubnet(net, prefix, 'ipv4');
}
INTERNAL.addAddress('::', 'ipv6');
INTERNAL.addAddress('::1', 'ipv6');
INTERNAL.addSubnet('fc00::', 7, 'ipv6');
INTERNAL.addSubnet('fe80::', 10, 'ipv6');

/**
 * An IPv6 address with all 8 groups written out ("For IPv6 addresses, specify all 8 segments (e.g.
 * 2001:4860:4860:0:0:0:0:8888)", indicators overview), lowercase, without leading zeros. Input is `isIP() === 6`.
 */
export function expandIpv6(address: string): string {
	let text = address.toLowerCase();
	const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
	if (v4) {
		const [a, b, c, d] = v4[1].split('.').map(Number);
		text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
	}
	const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
	const left = head ? head.split(':') : [];
	const right = tail === undefined ? [] : tail ? tail.split(':') : [];
	const zeros = tail === undefined ? [] : Array.from({ length: 8 - left.length - right.length }, () => '0');
	return [...left, ...zeros, ...right].map((g) => g.replace(/^0+(?=.)/, '')).join(':');
}

function checkIp(text: string): Check<string> {
	if (text.includes('/')) {
		return problem(`Value "${shorten(text)}" is a network range (CIDR); Defender takes single IP addresses only`, 'Submit one indicator per address; "CIDR notation for IPs isn\'t supported" (Submit Indicator API).');
	}
	if (/^[\d.]+\s*-\s*[\d.]+$/.test(text) || text.includes('*')) {
		return problem(`Value "${shorten(text)}" is a range or wildcard; Defender takes single IP addresses only`, 'Submit one indicator per address.');
	}
	if (text.includes('%')) {
		return problem(`Value "${shorten(text)}" has an IPv6 zone index ("%…")`, 'Remove the zone index; zone-scoped (link-local) addresses are internal and cannot be indicators.');
	}
	const version = isIP(text);
	if (version === 0) {
		return problem(
			`Value "${shorten(text)}" is not an IP address`,
			/[a-z]/i.test(text) && !text.includes(':') ? 'For a host name choose the Indicator Type Domain Name (or URL).' : 'Use an IPv4 address such as 203.0.113.7 or an IPv6 address such as 2001:db8::7.',
		);
	}
	const value = version === 6 ? expandIpv6(text) : text;
	if (INTERNAL.check(text, version === 6 ? 'ipv6' : 'ipv4')) {
		return problem(
			`Value "${shorten(text)}" is an internal address (private, loopback, link-local or unspecified)`,
			'Defender accepts indicators for external IP addresses only (https://learn.microsoft.com/en-us/defender-endpoint/indicator-ip-domain).',
		);
	}
	return ok(value);
}

const LABEL_RE = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A host name (ASCII or IDN) with at least two labels; returns the lowercase value as given. */
function hostProblem(host: string): string | undefined {
	const ascii = domainToASCII(host);
	if (!ascii) return 'it is not a valid host name';
	if (ascii.length > 253) return 'it is longer than 253 characters';
	const labels = ascii.split('.');
	if (labels.length < 2) return 'it has no top-level domain (e.g. example.com)';
	const bad = labels.find((l) => !LABEL_RE.test(l));
	if (bad !== undefined) return bad === '' ? 'it has an empty label ("..")' : `the label "${shorten(bad, 40)}" is not valid (letters, digits and hyphens, 1-63 characters, no leading or trailing hyphen)`;
	if (!/[a-z]/.test(labels[labels.length - 1])) return 'its top-level domain has no letter';
	return undefined;
}

function checkDomain(text: string): Check<string> {
	if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text) || text.includes('/')) {
		return problem(`Value "${shorten(text)}" is a URL, not a domain name`, 'Choose the Indicator Type URL, or enter only the host name (e.g. example.com).');
	}
	if (text.includes('*')) {
		return problem(`Value "${shorten(text)}" has a wildcard`, 'Wildcards are not supported; a domain indicator already covers its subdomains (example.com matches sub.example.com).');
	}
	if (isIP(text) !== 0 || /^\[.*\]$/.test(text)) {
		return problem(`Value "${shorten(text)}" is an IP address`, 'Choose the Indicator Type IP Address.');
	}
	const value = text.replace(/\.$/, '').toLowerCase();
	const why = hostProblem(value);
	if (why) return problem(`Value "${shorten(text)}" is not a valid domain name: ${why}`, 'Enter a domain such as example.com or sub.example.com.');
	return ok(value);
}

function checkUrl(text: string): Check<string> {
	if (/\s/.test(text)) return problem(`Value "${shorten(text)}" is not a valid URL: it contains whitespace`, 'Encode spaces as %20.');
	const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1]?.toLowerCase();
	const hasAuthority = /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
	if (scheme && hasAuthority && scheme !== 'http' && scheme !== 'https') {
		return problem(`Value "${shorten(text)}" is a ${scheme}: URL`, 'Defender URL indicators are http:// or https:// URLs (or a host with a path, without a scheme).');
	}
	let url: URL;
	try {
		url = new URL(hasAuthority ? text : `http://${text}`);
	} catch {
		return problem(`Value "${shorten(text)}" is not a valid URL`, 'Use a URL such as https://example.com/path.');
	}
	const host = url.hostname.replace(/^\[|\]$/g, '');
	if (isIP(host) === 0) {
		const why = hostProblem(host.replace(/\.$/, ''));
		if (why) return problem(`Value "${shorten(text)}" is not a valid URL: ${why.startsWith('it ') ? `its host ${why.slice(3)}` : `in its host, ${why}`}`, 'Use a URL such as https://example.com/path.');
	}
	return ok(text);
}

/** Validate and normalise an indicator value for its type (the value Defender upserts by). */
export function normalizeIndicatorValue(type: IndicatorType, raw: unknown): Check<string> {
	const text = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
	if (!text) return problem('Value is empty', `Enter the ${INDICATOR_TYPE_LABELS[type]} to submit, or map it from the input item.`);
	switch (type) {
		case 'FileSha1':
		case 'FileSha256':
		case 'FileMd5':
		case 'CertificateThumbprint':
			return checkHash(type, text);
		case 'IpAddress':
			return checkIp(text);
		case 'DomainName':
			return checkDomain(text);
		case 'Url':
			return checkUrl(text);
	}
}

/** Whether Defender accepts this action for this indicator type (current actions; legacy ones are left to the API). */
export function actionProblem(type: IndicatorType, action: IndicatorAction): { message: string; hint: string } | undefined {
	if (LEGACY_ACTIONS.includes(action)) return undefined;
	const allowed = ACTIONS_BY_TYPE[type];
	if (allowed.includes(action)) return undefined;
	return {
		message: `Action "${INDICATOR_ACTION_LABELS[action]}" is not available for ${INDICATOR_TYPE_LABELS[type]} indicators`,
		hint: `${INDICATOR_TYPE_LABELS[type]} indicators take: ${allowed.map((a) => INDICATOR_ACTION_LABELS[a]).join(', ')} (https://learn.microsoft.com/en-us/defender-endpoint/indicators-overview).`,
	};
}

/** An expiration time (canonical UTC, from toCanonicalUtc) must lie in the future. */
export function expirationProblem(isoUtc: string, nowMs: number): { message: string; hint: string } | undefined {
	const at = Date.parse(isoUtc);
	if (Number.isNaN(at)) return { message: `Expiration Time "${isoUtc}" is not a valid date`, hint: 'Use an ISO 8601 date-time such as 2030-01-31T00:00:00Z.' };
	if (at <= nowMs) {
		return {
			message: `Expiration Time ${isoUtc} is in the past`,
			hint: 'An indicator that expires before it is created would never apply: choose a future time, or leave Expiration Time empty for no expiry.',
		};
	}
	return undefined;
}

/** Device group (RBAC group) names from a comma/newline separated string or an array; duplicates removed. */
export function parseGroupNames(raw: unknown): string[] {
	if (raw === undefined || raw === null || raw === '') return [];
	const list = Array.isArray(raw) ? raw.flatMap((v) => (typeof v === 'string' ? v.split(/[,\n]/) : [String(v)])) : String(raw).split(/[,\n]/);
	return [...new Set(list.map((v) => v.trim()).filter((v) => v !== ''))];
}

// ------------------------------------------------------------------------------------------------ list

export interface IndicatorFilterValues {
	types?: string[];
	actions?: string[];
	/** exact values (any of them) */
	values?: string[];
	/** user-written OData, ANDed in parentheses */
	raw?: string;
}

function anyOf(field: string, values: string[] | undefined): string | undefined {
	if (!values || values.length === 0) return undefined;
	const parts = values.map((v) => `${field} eq ${odataString(v)}`);
	return parts.length === 1 ? parts[0] : `(${parts.join(' or ')})`;
}

/** `$filter` for List Indicators (filterable: indicatorValue, indicatorType, action, severity, title, …). */
export function buildIndicatorFilter(f: IndicatorFilterValues): string | undefined {
	const clauses = [anyOf('indicatorValue', f.values), anyOf('indicatorType', f.types), anyOf('action', f.actions), f.raw && f.raw.trim() ? `(${f.raw.trim()})` : undefined].filter(
		(c): c is string => c !== undefined,
	);
	return clauses.length ? clauses.join(' and ') : undefined;
}

/**
 * The spellings of a value worth asking for when looking an indicator up by value: as given, and for hashes and
 * domains (case-insensitive by nature) also lower- and upper-case, since the list filter compares exactly.
 */
export function valueSpellings(type: IndicatorType, value: string): string[] {
	if (type === 'IpAddress' || type === 'Url') return [value];
	return [...new Set([value, value.toLowerCase(), value.toUpperCase()])];
}

/** Fields of Simplify (Get Many). */
export const INDICATOR_SIMPLE_FIELDS = [
	'id',
	'indicatorValue',
	'indicatorType',
	'action',
	'severity',
	'title',
	'generateAlert',
	'expirationTime',
	'rbacGroupNames',
	'createdBy',
	'creationTimeDateTimeUtc',
	'lastUpdateTime',
	'tenantId',
] as const;

/** Identifier of an indicator as the API gives it ("id": a numeric-looking string). */
export function indicatorIdProblem(raw: string): { message: string; hint: string } | undefined {
	if (/^[A-Za-z0-9_-]{1,64}$/.test(raw) && !/^[0-9a-fA-F]{32}$|^[0-9a-fA-F]{40}$|^[0-9a-fA-F]{64}$/.test(raw)) return undefined;
	const looksLikeValue = /^[0-9a-fA-F]{32,64}$/.test(raw) || /[.:/]/.test(raw);
	return {
		message: `Indicator ID "${shorten(raw)}" is not a Defender indicator ID`,
		hint: looksLikeValue
			? 'This looks like an indicator value (hash, IP, domain or URL): set Delete By to Value, or use the "id" field of Get Many.'
			: 'Indicator IDs are short numbers such as 5123, the "id" field of Get Many or Submit.',
	};
}

// ------------------------------------------------------------------------------------------------ import calls

/**
 * Split indicators (given by their upsert keys, in input order) into import calls of at most `max`. Indicators go
 * into the earliest call with room, except that a repeated key goes into a later call than its previous occurrence,
 * so repeats are applied in input order (the last one wins, as with one submit per item) and no call carries the
 * same indicator twice. Returns the positions per call, in sending order.
 */
export function planImportCalls(keys: readonly string[], max = MAX_IMPORT_BATCH): number[][] {
	const size = Math.max(1, Math.floor(max));
	const calls: number[][] = [];
	const lastCall = new Map<string, number>();
	let firstOpen = 0;
	keys.forEach((key, position) => {
		const previous = lastCall.get(key);
		let c = Math.max(firstOpen, previous === undefined ? 0 : previous + 1);
		while (calls[c] && calls[c].length >= size) c++;
		calls[c] ??= [];
		calls[c].push(position);
		lastCall.set(key, c);
		while (calls[firstOpen] && calls[firstOpen].length >= size) firstOpen++;
	});
	return calls.filter((c) => c !== undefined);
}

// ------------------------------------------------------------------------------------------------ errors

/**
 * Whether an API error (code and message) says the tenant's active-indicator limit is reached. The wording is not
 * documented, so this is deliberately broad: a limit/maximum/quota/exceeded word together with "indicator" or the
 * number 15,000 (but not the import batch size error, MaximumBatchSizeExceeded).
 */
export function isIndicatorCapError(code: string | undefined, message: string | undefined): boolean {
	const c = code ?? '';
	const m = message ?? '';
	if (/batchsize/i.test(c) || /batch size/i.test(m)) return false;
	if (/indicator/i.test(c) && /limit|max|quota|exceed/i.test(c)) return true;
	return /\b(limit|maximum|max|quota|exceed(?:s|ed)?|reached)\b/i.test(m) && /indicator|15[,.\s]?000/i.test(m);
}

export function capMessage(tenantId: string): { message: string; hint: string } {
	return {
		message: `Tenant ${tenantId} has reached Defender's limit of ${TENANT_INDICATOR_CAP.toLocaleString('en-US')} active indicators`,
		hint: 'Delete indicators that are no longer needed (Indicator → Delete), give new ones an Expiration Time, or replace several hash indicators by a certificate indicator. The limit cannot be raised.',
	};
}
