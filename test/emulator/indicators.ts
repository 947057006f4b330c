/**
 * Defender for Endpoint indicators (custom IoCs) for the emulator: `POST /api/indicators` (upsert by type + value),
 * `POST /api/indicators/import` (≤ 500, one result per indicator), `GET /api/indicators` (OData `$filter`, `$top`,
 * `$skip`), `DELETE /api/indicators/{id}` (204 / 404), the per-tenant cap of active indicators, per-endpoint roles
 * (Ti.ReadWrite.All, Ti.ReadWrite: with the latter an app sees only its own indicators) and its own rate-limit
 * classes (`indicators`, `indicatorImport`). Facts: https://learn.microsoft.com/en-us/defender-endpoint/api/ti-indicator
 * and the Submit / Import / List / Delete pages beside it.
 *
 * Not documented, chosen here (and switchable where the node must cope with either answer): the wording and code
 * of the cap error; whether the import reports the cap per indicator (default) or fails the whole call
 * (`capOnImport: 'request'`); whether the pre-2022 actions Alert / AlertAndBlock are still accepted (default: yes;
 * `legacyActions: 'reject'`); upsert keys compare values case-insensitively.
 */
import { BlockList, isIP } from 'node:net';
import { domainToASCII } from 'node:url';

import { normalizeTimestamp, toTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import type { EmulatorClock } from './clock';
import { apiError, isPlainObject, jsonReply, odataReply, type Reply } from './http-util';
import { evaluateFilter, type FieldDef, ODataQueryError, parseFilter } from './odata';
import type { EndpointClass } from './types';

export const INDICATOR_TYPES = ['FileSha1', 'FileSha256', 'FileMd5', 'CertificateThumbprint', 'IpAddress', 'DomainName', 'Url'];
export const INDICATOR_ACTIONS = ['Alert', 'Warn', 'Block', 'Audit', 'BlockAndRemediate', 'AlertAndBlock', 'Allowed'];
const LEGACY = ['Alert', 'AlertAndBlock'];
const SEVERITIES = ['Informational', 'Low', 'Medium', 'High'];
const FILE = ['Allowed', 'Audit', 'Warn', 'Block', 'BlockAndRemediate'];
const NETWORK = ['Allowed', 'Audit', 'Warn', 'Block'];
/** Actions per type, the table of https://learn.microsoft.com/en-us/defender-endpoint/indicators-overview. */
export const ACTIONS_BY_TYPE: Record<string, string[]> = {
	FileSha1: FILE,
	FileSha256: FILE,
	FileMd5: FILE,
	CertificateThumbprint: ['Allowed', 'BlockAndRemediate'],
	IpAddress: NETWORK,
	DomainName: NETWORK,
	Url: NETWORK,
};
const BODY_FIELDS = ['indicatorValue', 'indicatorType', 'action', 'application', 'title', 'description', 'expirationTime', 'severity', 'recommendedActions', 'rbacGroupNames', 'educateUrl', 'generateAlert'];
const REQUIRED = ['indicatorValue', 'indicatorType', 'action', 'title', 'description'];
export const INDICATOR_ROLES = ['Ti.ReadWrite.All', 'Ti.ReadWrite'];

/** Filterable properties of List Indicators (the collection-valued rbacGroupNames/rbacGroupIds and the boolean generateAlert are not modelled). */
export const INDICATOR_FILTER_FIELDS: readonly FieldDef[] = [
	{ name: 'indicatorValue', type: 'string' },
	{ name: 'indicatorType', type: 'string' },
	{ name: 'action', type: 'string' },
	{ name: 'severity', type: 'string' },
	{ name: 'title', type: 'string' },
	{ name: 'application', type: 'string' },
	{ name: 'createdBy', type: 'string' },
	{ name: 'createdByDisplayName', type: 'string' },
	{ name: 'id', type: 'string' },
	{ name: 'expirationTime', type: 'datetime' },
	{ name: 'creationTimeDateTimeUtc', type: 'datetime' },
	{ name: 'lastUpdateTime', type: 'datetime' },
];

export interface Indicator {
	id: string;
	indicatorValue: string;
	indicatorType: string;
	action: string;
	application: string | null;
	externalID: string | null;
	sourceType: 'User' | 'AadApp';
	createdBySource: string;
	createdBy: string;
	createdByDisplayName: string;
	creationTimeDateTimeUtc: string;
	expirationTime: string | null;
	lastUpdateTime: string;
	lastUpdatedBy: string | null;
	severity: string;
	title: string;
	description: string;
	recommendedActions: string | null;
	rbacGroupNames: string[];
	rbacGroupIds: string[];
	generateAlert: boolean;
	educateUrl?: string | null;
}

export interface IndicatorSettings {
	/** active indicators per tenant (documented: 15,000) */
	cap: number;
	/** indicators per import call (documented: 500) */
	maxImport: number;
	/** largest `$top` of the list call */
	maxPageSize: number;
	legacyActions: 'accept' | 'reject';
	/** cap reached inside an import: fail those indicators (perItem) or the whole call (request) */
	capOnImport: 'perItem' | 'request';
}

export const DEFAULT_INDICATOR_SETTINGS: IndicatorSettings = { cap: 15_000, maxImport: 500, maxPageSize: 10_000, legacyActions: 'accept', capOnImport: 'perItem' };

interface Principal {
	tenantId: string;
	clientId: string;
	roles: string[];
}

interface ApiRequestLike {
	method: string;
	host: string;
	segments: string[];
	basePath: string;
	query: URLSearchParams;
	body: Buffer;
	contentType: string;
}

/** A route as DefenderService takes it (see defender.ts `Route`). */
export interface IndicatorRoute {
	endpointClass: EndpointClass;
	roles: string[];
	allowed: string[];
	handle: (req: ApiRequestLike, principal: Principal) => Reply;
}

interface TenantIndicators {
	byId: Map<string, Indicator>;
	byKey: Map<string, string>;
}

type Invalid = { code: string; message: string };

const HASH: Record<string, number> = { FileSha1: 40, FileSha256: 64, FileMd5: 32, CertificateThumbprint: 40 };
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
INTERNAL.addAddress('::1', 'ipv6');
INTERNAL.addSubnet('fc00::', 7, 'ipv6');
INTERNAL.addSubnet('fe80::', 10, 'ipv6');

function validDomain(host: string): boolean {
	const ascii = domainToASCII(host.replace(/\.$/, ''));
	if (!ascii || ascii.length > 253) return false;
	const labels = ascii.split('.');
	return labels.length >= 2 && labels.every((l) => /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i.test(l)) && /[a-z]/i.test(labels[labels.length - 1]);
}

/** The API's value checks (error codes of https://learn.microsoft.com/en-us/defender-endpoint/api/common-errors). */
export function valueProblem(type: string, value: string): Invalid | undefined {
	if (HASH[type] !== undefined) {
		if (!new RegExp(`^[0-9a-fA-F]{${HASH[type]}}$`).test(value)) return { code: 'InvalidHashValue', message: `Invalid hash value '${value}' for indicator type ${type}.` };
		return undefined;
	}
	if (type === 'IpAddress') {
		if (value.includes('/')) return { code: 'InvalidIpAddress', message: `Invalid IP address '${value}': CIDR notation is not supported.` };
		const v = isIP(value);
		if (v === 0) return { code: 'InvalidIpAddress', message: `Invalid IP address '${value}'.` };
		if (INTERNAL.check(value, v === 6 ? 'ipv6' : 'ipv4')) return { code: 'InvalidIpAddress', message: `Invalid IP address '${value}': only external IP addresses are supported.` };
		return undefined;
	}
	if (type === 'DomainName') {
		if (value.includes('/') || value.includes('*') || isIP(value) !== 0 || !validDomain(value)) return { code: 'InvalidDomainName', message: `Invalid domain name '${value}'.` };
		return undefined;
	}
	if (type === 'Url') {
		try {
			const url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `http://${value}`);
			if (!['http:', 'https:'].includes(url.protocol)) throw new Error('scheme');
			const host = url.hostname.replace(/^\[|\]$/g, '');
			if (isIP(host) === 0 && !validDomain(host)) throw new Error('host');
		} catch {
			return { code: 'InvalidUrl', message: `Invalid URL '${value}'.` };
		}
		return undefined;
	}
	return { code: 'InvalidRequestBody', message: `Request body is incorrect: invalid indicatorType '${type}'. Allowed values: ${INDICATOR_TYPES.join(', ')}.` };
}

export class IndicatorService {
	readonly settings: IndicatorSettings = { ...DEFAULT_INDICATOR_SETTINGS };
	private readonly tenants = new Map<string, TenantIndicators>();
	private nextId = 5001;

	constructor(
		private readonly clock: EmulatorClock,
		private readonly appName: (clientId: string) => string | undefined = () => undefined,
	) {}

	// ------------------------------------------------------------------------------------------------ in-process API

	configure(settings: Partial<IndicatorSettings>): IndicatorSettings {
		for (const [k, v] of Object.entries(settings)) {
			if (v === undefined) continue;
			if (k === 'cap' || k === 'maxImport' || k === 'maxPageSize') {
				if (!Number.isInteger(v) || (v as number) < 1) throw new Error(`Indicator setting '${k}' must be a positive integer`);
				this.settings[k] = v as number;
			} else if (k === 'legacyActions' && (v === 'accept' || v === 'reject')) this.settings.legacyActions = v;
			else if (k === 'capOnImport' && (v === 'perItem' || v === 'request')) this.settings.capOnImport = v;
			else throw new Error(`Unknown indicator setting ${k}=${JSON.stringify(v)} (cap, maxImport, maxPageSize, legacyActions accept|reject, capOnImport perItem|request)`);
		}
		return { ...this.settings };
	}

	resetSettings(): void {
		Object.assign(this.settings, DEFAULT_INDICATOR_SETTINGS);
	}

	/** Every stored indicator of a tenant (expired ones too), in creation order. */
	list(tenantId: string): Indicator[] {
		return [...this.tenant(tenantId).byId.values()].map((x) => structuredClone(x));
	}

	find(tenantId: string, type: string, value: string): Indicator | undefined {
		const t = this.tenant(tenantId);
		const id = t.byKey.get(key(type, value));
		return id ? structuredClone(t.byId.get(id)) : undefined;
	}

	activeCount(tenantId: string): number {
		const now = this.clock.nowTicks();
		return [...this.tenant(tenantId).byId.values()].filter((x) => this.isActive(x, now)).length;
	}

	/** Seed indicators directly (no validation beyond the type; `createdBy` defaults to a portal user). */
	add(tenantId: string, inputs: Array<Partial<Indicator> & { indicatorValue: string; indicatorType: string }>): Indicator[] {
		return inputs.map((input) => {
			const now = this.clock.write();
			const stored: Indicator = {
				...this.blank(now, input.createdBy ?? 'secops@contoso.com', input.createdBy ? (this.appName(input.createdBy) ?? input.createdBy) : 'secops@contoso.com'),
				sourceType: input.createdBy ? 'AadApp' : 'User',
				title: 'seeded indicator',
				description: 'seeded by the emulator',
				action: 'Audit',
				generateAlert: true,
				...structuredClone(input),
			} as Indicator;
			this.store(tenantId, stored);
			return structuredClone(stored);
		});
	}

	/** Seed `count` generated SHA-256 indicators (e.g. to bring a tenant close to its cap). */
	fill(tenantId: string, count: number, prefix = 'seed'): number {
		const list = Array.from({ length: count }, (_, k) => ({ indicatorValue: pseudoSha256(`${prefix}|${tenantId}|${k}|${this.nextId}`), indicatorType: 'FileSha256' }));
		return this.add(tenantId, list).length;
	}

	clear(tenantId?: string): void {
		if (tenantId === undefined) this.tenants.clear();
		else this.tenants.delete(tenantId);
	}

	// ------------------------------------------------------------------------------------------------ API

	/** The route for `/api/indicators…`, or undefined for other paths. */
	route(req: ApiRequestLike): IndicatorRoute | Reply | undefined {
		const lower = req.segments.map((s) => s.toLowerCase());
		if (lower[0] !== 'indicators') return undefined;
		if (req.segments.length === 1) {
			return { endpointClass: 'indicators', roles: INDICATOR_ROLES, allowed: ['GET', 'POST'], handle: (r, p) => (r.method === 'GET' ? this.listReply(r, p) : this.submit(r, p)) };
		}
		if (req.segments.length === 2 && lower[1] === 'import') {
			return { endpointClass: 'indicatorImport', roles: INDICATOR_ROLES, allowed: ['POST'], handle: (r, p) => this.importReply(r, p) };
		}
		if (req.segments.length === 2) {
			const id = req.segments[1];
			return { endpointClass: 'indicators', roles: INDICATOR_ROLES, allowed: ['DELETE'], handle: (_r, p) => this.deleteReply(p, id) };
		}
		return apiError(404, 'NotFound', `No HTTP resource was found that matches the request URI '${req.basePath}/${req.segments.join('/')}'.`);
	}

	private tenant(tenantId: string): TenantIndicators {
		let t = this.tenants.get(tenantId);
		if (!t) {
			t = { byId: new Map(), byKey: new Map() };
			this.tenants.set(tenantId, t);
		}
		return t;
	}

	private isActive(x: Indicator, now: bigint): boolean {
		return x.expirationTime === null || toTicks(x.expirationTime) > now;
	}

	/** With only Ti.ReadWrite an app sees (and deletes) just the indicators it created. */
	private visibleTo(x: Indicator, p: Principal): boolean {
		return p.roles.includes('Ti.ReadWrite.All') || x.createdBy.toLowerCase() === p.clientId;
	}

	private blank(now: string, createdBy: string, createdByName: string): Omit<Indicator, 'indicatorValue' | 'indicatorType' | 'action' | 'title' | 'description' | 'severity' | 'generateAlert' | 'sourceType'> & {
		severity: string;
	} {
		return {
			id: String(this.nextId++),
			application: null,
			externalID: null,
			createdBySource: createdByName,
			createdBy,
			createdByDisplayName: createdByName,
			creationTimeDateTimeUtc: now,
			expirationTime: null,
			lastUpdateTime: now,
			lastUpdatedBy: null,
			severity: 'Informational',
			recommendedActions: null,
			rbacGroupNames: [],
			rbacGroupIds: [],
		};
	}

	private store(tenantId: string, x: Indicator): void {
		const t = this.tenant(tenantId);
		t.byId.set(x.id, x);
		t.byKey.set(key(x.indicatorType, x.indicatorValue), x.id);
	}

	private capReply(): Reply {
		return apiError(400, 'BadRequest', `The maximum number of active indicators (${this.settings.cap}) for this tenant has been reached. Delete indicators or wait until some expire.`);
	}

	/** Check one indicator body; returns the fields to store or why not. */
	private check(body: unknown): { fields: Record<string, unknown> } | Invalid {
		if (!isPlainObject(body)) return { code: 'InvalidRequestBody', message: 'Request body is incorrect: a JSON object is expected.' };
		for (const name of REQUIRED) {
			const v = body[name];
			if (v === undefined || v === null || v === '') {
				const wrongCase = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase() && k !== name);
				return { code: 'MissingRequiredParameter', message: `Required parameter '${name}' is missing.${wrongCase ? ` Found '${wrongCase}'; property names are case-sensitive.` : ''}` };
			}
		}
		for (const k of Object.keys(body)) {
			if (!BODY_FIELDS.includes(k)) {
				const same = BODY_FIELDS.find((f) => f.toLowerCase() === k.toLowerCase());
				return { code: 'InvalidRequestBody', message: `Request body is incorrect: unknown property '${k}'.${same ? ` Property names are case-sensitive; did you mean '${same}'?` : ''}` };
			}
		}
		for (const name of ['indicatorValue', 'indicatorType', 'action', 'title', 'description']) {
			if (typeof body[name] !== 'string') return { code: 'InvalidRequestBody', message: `Request body is incorrect: '${name}' must be a string.` };
		}
		const type = body.indicatorType as string;
		const action = body.action as string;
		if (!INDICATOR_TYPES.includes(type)) return { code: 'InvalidRequestBody', message: `Request body is incorrect: invalid indicatorType '${type}'. Allowed values: ${INDICATOR_TYPES.join(', ')}.` };
		if (!INDICATOR_ACTIONS.includes(action)) return { code: 'InvalidRequestBody', message: `Request body is incorrect: invalid action '${action}'. Allowed values: ${INDICATOR_ACTIONS.join(', ')}.` };
		if (LEGACY.includes(action)) {
			if (this.settings.legacyActions === 'reject') return { code: 'InvalidRequestBody', message: `Action '${action}' is no longer supported. Use Audit (with generateAlert) or BlockAndRemediate.` };
		} else if (!ACTIONS_BY_TYPE[type].includes(action)) {
			return { code: 'InvalidRequestBody', message: `Action '${action}' is not supported for indicator type '${type}'.` };
		}
		const value = (body.indicatorValue as string).trim();
		const bad = valueProblem(type, value);
		if (bad) return bad;
		const fields: Record<string, unknown> = { indicatorValue: value, indicatorType: type, action, title: body.title, description: body.description };
		if (body.severity !== undefined && body.severity !== null) {
			if (typeof body.severity !== 'string' || !SEVERITIES.includes(body.severity)) {
				return { code: 'InvalidRequestBody', message: `Request body is incorrect: invalid severity ${JSON.stringify(body.severity)}. Allowed values: ${SEVERITIES.join(', ')}.` };
			}
			fields.severity = body.severity;
		}
		if (body.expirationTime !== undefined && body.expirationTime !== null) {
			if (typeof body.expirationTime !== 'string' || !/(Z|[+-]\d{2}:?\d{2})$/i.test(body.expirationTime)) {
				return { code: 'InvalidRequestBody', message: "Request body is incorrect: 'expirationTime' must be a DateTimeOffset such as 2030-01-01T00:00:00Z." };
			}
			try {
				fields.expirationTime = normalizeTimestamp(body.expirationTime);
			} catch {
				return { code: 'InvalidRequestBody', message: "Request body is incorrect: 'expirationTime' must be a DateTimeOffset such as 2030-01-01T00:00:00Z." };
			}
		}
		for (const name of ['recommendedActions', 'application', 'educateUrl']) {
			const v = body[name];
			if (v === undefined || v === null) continue;
			if (typeof v !== 'string') return { code: 'InvalidRequestBody', message: `Request body is incorrect: '${name}' must be a string.` };
			fields[name] = v;
		}
		if (body.rbacGroupNames !== undefined && body.rbacGroupNames !== null) {
			const g = body.rbacGroupNames;
			// The parameter table says "comma-separated list", the examples send arrays: both are taken.
			const list = Array.isArray(g) ? g : typeof g === 'string' ? g.split(',') : undefined;
			if (!list || list.some((x) => typeof x !== 'string')) return { code: 'InvalidRequestBody', message: "Request body is incorrect: 'rbacGroupNames' must be a list of strings." };
			fields.rbacGroupNames = (list as string[]).map((x) => x.trim()).filter(Boolean);
		}
		if (body.generateAlert !== undefined && body.generateAlert !== null) {
			const g = body.generateAlert;
			const b = g === true || g === 'true' || g === 'True' ? true : g === false || g === 'false' || g === 'False' ? false : undefined;
			if (b === undefined) return { code: 'InvalidRequestBody', message: "Request body is incorrect: 'generateAlert' must be true or false." };
			fields.generateAlert = b;
		}
		if (action === 'Audit' && fields.generateAlert !== true) {
			return { code: 'InvalidRequestBody', message: "The 'generateAlert' parameter must be set to true when creating an indicator with action Audit." };
		}
		return { fields };
	}

	/** Upsert one checked indicator; undefined when it would be new and the tenant is at its cap. */
	private upsert(tenantId: string, fields: Record<string, unknown>, p: Principal): { indicator: Indicator; created: boolean } | undefined {
		const t = this.tenant(tenantId);
		const now = this.clock.write();
		const existingId = t.byKey.get(key(fields.indicatorType as string, fields.indicatorValue as string));
		const existing = existingId ? t.byId.get(existingId) : undefined;
		if (existing) {
			// "Submits or Updates": the same type + value replaces the indicator's settings; id, creation and application stay.
			existing.action = fields.action as string;
			existing.title = fields.title as string;
			existing.description = fields.description as string;
			existing.severity = (fields.severity as string | undefined) ?? existing.severity;
			existing.expirationTime = (fields.expirationTime as string | undefined) ?? null;
			existing.recommendedActions = (fields.recommendedActions as string | undefined) ?? null;
			existing.rbacGroupNames = (fields.rbacGroupNames as string[] | undefined) ?? [];
			existing.rbacGroupIds = existing.rbacGroupNames.map(groupId);
			existing.generateAlert = (fields.generateAlert as boolean | undefined) ?? existing.generateAlert;
			if (fields.educateUrl !== undefined) existing.educateUrl = fields.educateUrl as string;
			existing.lastUpdateTime = now;
			existing.lastUpdatedBy = p.clientId;
			return { indicator: existing, created: false };
		}
		if (this.activeCount(tenantId) >= this.settings.cap) return undefined;
		const name = this.appName(p.clientId) ?? p.clientId;
		const groups = (fields.rbacGroupNames as string[] | undefined) ?? [];
		const indicator: Indicator = {
			...this.blank(now, p.clientId, name),
			sourceType: 'AadApp',
			indicatorValue: fields.indicatorValue as string,
			indicatorType: fields.indicatorType as string,
			action: fields.action as string,
			application: (fields.application as string | undefined) ?? null,
			title: fields.title as string,
			description: fields.description as string,
			severity: (fields.severity as string | undefined) ?? 'Informational',
			expirationTime: (fields.expirationTime as string | undefined) ?? null,
			recommendedActions: (fields.recommendedActions as string | undefined) ?? null,
			rbacGroupNames: groups,
			rbacGroupIds: groups.map(groupId),
			generateAlert: (fields.generateAlert as boolean | undefined) ?? false,
			...(fields.educateUrl !== undefined ? { educateUrl: fields.educateUrl as string } : {}),
		};
		this.store(tenantId, indicator);
		return { indicator, created: true };
	}

	private parseJson(req: ApiRequestLike): { body: unknown } | Reply {
		if (req.contentType.split(';')[0].trim().toLowerCase() !== 'application/json') {
			return apiError(400, 'InvalidRequestBody', `Request body is incorrect: Content-Type must be application/json (received '${req.contentType || 'none'}').`);
		}
		try {
			return { body: JSON.parse(req.body.toString('utf8')) as unknown };
		} catch {
			return apiError(400, 'InvalidRequestBody', 'Request body is incorrect: the body is not valid JSON.');
		}
	}

	private context(req: ApiRequestLike, fragment: string): string {
		return `https://${req.host}/api/$metadata#${fragment}`;
	}

	private submit(req: ApiRequestLike, p: Principal): Reply {
		const parsed = this.parseJson(req);
		if ('status' in parsed) return parsed;
		const checked = this.check(parsed.body);
		if ('code' in checked) return apiError(400, checked.code, checked.message);
		const done = this.upsert(p.tenantId, checked.fields, p);
		if (!done) return this.capReply();
		return odataReply(200, { '@odata.context': this.context(req, 'Indicators/$entity'), ...structuredClone(done.indicator) });
	}

	private importReply(req: ApiRequestLike, p: Principal): Reply {
		const parsed = this.parseJson(req);
		if ('status' in parsed) return parsed;
		const body = parsed.body;
		if (!isPlainObject(body)) return apiError(400, 'InvalidRequestBody', 'Request body is incorrect: a JSON object is expected.');
		const list = body.Indicators;
		if (list === undefined || list === null) {
			const wrongCase = Object.keys(body).find((k) => k.toLowerCase() === 'indicators');
			return apiError(400, 'MissingRequiredParameter', `Required parameter 'Indicators' is missing.${wrongCase ? ` Found '${wrongCase}'; property names are case-sensitive.` : ''}`);
		}
		if (!Array.isArray(list)) return apiError(400, 'InvalidRequestBody', "Request body is incorrect: 'Indicators' must be a list.");
		if (list.length === 0) return apiError(400, 'InvalidRequestBody', "Request body is incorrect: 'Indicators' must not be empty.");
		if (list.length > this.settings.maxImport) {
			return apiError(400, 'MaximumBatchSizeExceeded', `Maximum batch size exceeded. Received: ${list.length}, allowed: ${this.settings.maxImport}.`);
		}
		const checked = list.map((item) => this.check(item));
		if (this.settings.capOnImport === 'request') {
			const t = this.tenant(p.tenantId);
			const fresh = new Set<string>();
			for (const c of checked) {
				if ('code' in c) continue;
				const k = key(c.fields.indicatorType as string, c.fields.indicatorValue as string);
				if (!t.byKey.has(k)) fresh.add(k);
			}
			if (this.activeCount(p.tenantId) + fresh.size > this.settings.cap) return this.capReply();
		}
		const value = checked.map((c, k) => {
			const raw = list[k] as Record<string, unknown> | undefined;
			const indicator = isPlainObject(raw) && typeof raw.indicatorValue === 'string' ? raw.indicatorValue : null;
			if ('code' in c) return { id: null, indicator, isFailed: true, failureReason: c.message };
			const done = this.upsert(p.tenantId, c.fields, p);
			if (!done) return { id: null, indicator, isFailed: true, failureReason: `The maximum number of active indicators (${this.settings.cap}) for this tenant has been reached.` };
			return { id: done.indicator.id, indicator: done.indicator.indicatorValue, isFailed: false, failureReason: null };
		});
		return jsonReply(200, { value });
	}

	private listReply(req: ApiRequestLike, p: Principal): Reply {
		for (const k of req.query.keys()) {
			if (k.startsWith('$') && !['$filter', '$top', '$skip'].includes(k)) throw new ODataQueryError(`The query parameter '${k}' is not supported.`);
		}
		const filterText = req.query.get('$filter');
		const filter = filterText === null ? undefined : parseFilter(filterText, INDICATOR_FILTER_FIELDS);
		const int = (name: string): number | undefined => {
			const v = req.query.get(name);
			if (v === null) return undefined;
			if (!/^\d+$/.test(v.trim())) throw new ODataQueryError(`Invalid value '${v}' for ${name} query option found. The ${name} query option requires a non-negative integer value.`);
			return Number(v);
		};
		const top = int('$top');
		if (top !== undefined && top > this.settings.maxPageSize) {
			throw new ODataQueryError(`The limit of '${this.settings.maxPageSize}' for Top query has been exceeded. The value from the incoming request is '${top}'.`);
		}
		const skip = int('$skip') ?? 0;
		const now = this.clock.nowTicks();
		const all = [...this.tenant(p.tenantId).byId.values()].filter(
			(x) => this.isActive(x, now) && this.visibleTo(x, p) && (!filter || evaluateFilter(filter, (f) => (x as unknown as Record<string, unknown>)[f.name])),
		);
		const page = all.slice(skip, skip + (top ?? this.settings.maxPageSize));
		return odataReply(200, { '@odata.context': this.context(req, 'Indicators'), value: page.map((x) => structuredClone(x)) });
	}

	private deleteReply(p: Principal, id: string): Reply {
		const t = this.tenant(p.tenantId);
		const x = t.byId.get(id);
		if (!x || !this.visibleTo(x, p)) return apiError(404, 'ResourceNotFound', `Indicator ${id} was not found`);
		t.byId.delete(id);
		t.byKey.delete(key(x.indicatorType, x.indicatorValue));
		return { status: 204, headers: {}, body: '' };
	}
}

function key(type: string, value: string): string {
	return `${type}|${value.trim().toLowerCase()}`;
}

function groupId(name: string): string {
	let h = 0;
	for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 100_000;
	return String(1000 + h);
}

/** A deterministic 64-hex string (not a real SHA-256; only its shape matters). */
export function pseudoSha256(seed: string): string {
	let out = '';
	let h = 2166136261;
	for (let round = 0; out.length < 64; round++) {
		for (const c of `${seed}|${round}`) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
		out += h.toString(16).padStart(8, '0');
	}
	return out.slice(0, 64);
}

/** Control API: `/_emulator/indicators/settings` (GET, POST) and `/_emulator/indicators/{tenant}` (GET, POST seed, DELETE). */
export function indicatorControl(
	service: IndicatorService,
	resolveTenant: (idOrDomain: string) => string | undefined,
	req: { method: string; segments: string[]; body: Buffer },
): Reply {
	const [, target] = req.segments;
	const body = (): unknown => {
		const text = req.body.toString('utf8').trim();
		return text ? (JSON.parse(text) as unknown) : {};
	};
	if (target === 'settings') {
		if (req.method === 'GET') return jsonReply(200, service.settings);
		if (req.method === 'POST') {
			const b = body();
			if (!isPlainObject(b)) throw new Error('Send a JSON object of settings');
			const settings = { ...b };
			if (settings.reset === true) service.resetSettings();
			delete settings.reset;
			return jsonReply(200, service.configure(settings));
		}
	}
	if (target === undefined) throw new Error('Tenant missing: /_emulator/indicators/{tenant}');
	const tenantId = resolveTenant(target);
	if (!tenantId) throw new Error(`Unknown tenant ${target}`);
	if (req.method === 'GET') {
		const value = service.list(tenantId);
		return jsonReply(200, { count: value.length, active: service.activeCount(tenantId), value });
	}
	if (req.method === 'DELETE') {
		service.clear(tenantId);
		return jsonReply(200, { ok: true });
	}
	if (req.method === 'POST') {
		const b = body();
		if (isPlainObject(b) && typeof b.fill === 'number') return jsonReply(200, { added: service.fill(tenantId, b.fill) });
		const list = Array.isArray(b) ? b : isPlainObject(b) && Array.isArray(b.indicators) ? b.indicators : undefined;
		if (!list) throw new Error('Send an array of indicators, {indicators:[…]} or {fill: n}');
		const value = service.add(tenantId, list as never);
		return jsonReply(200, { count: value.length, value });
	}
	throw new Error(`Unknown control endpoint ${req.method} /_emulator/${req.segments.join('/')}`);
}

