/**
 * Microsoft Graph security incidents on the emulator's tenant stores: the tenant's Defender alerts grouped by their
 * `incidentId` (every alert carries one; the seed puts about one alert in five into the previous alert's incident), with
 * the incident's own triage fields (status, classification, determination, owner, custom tags, comments) kept here.
 * Sources: https://learn.microsoft.com/en-us/graph/api/resources/security-incident (properties, incidentStatus with the
 * evolvable member awaitingAction), https://learn.microsoft.com/en-us/graph/api/security-list-incidents (`$filter`,
 * `$top`, `$skip`, `$count`, `$expand=alerts`), https://learn.microsoft.com/en-us/graph/api/security-incident-get,
 * https://learn.microsoft.com/en-us/graph/api/security-incident-update (returns the incident),
 * https://learn.microsoft.com/en-us/graph/api/security-incident-post-comments (returns the comment list),
 * https://learn.microsoft.com/en-us/graph/throttling-limits#security-detections-and-incidents-service-limits (one budget
 * with alerts: the `graphAlerts` rate-limit class).
 *
 * Routes (under `/v1.0`, after graph.ts has checked the token): `GET /security/incidents`, `GET|PATCH
 * /security/incidents/{id}`, `POST /security/incidents/{id}/comments`. Roles SecurityIncident.Read.All /
 * SecurityIncident.ReadWrite.All. What Microsoft does not document is a setting (IncidentSettings) so tests cover both
 * answers. Incident triage does not change the alerts (the emulator keeps them apart; Defender may cascade a resolve).
 */
import { fromTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import { trimFraction, type EmulatorClock } from './clock';
import { isPlainObject } from './http-util';
import { evaluateFilter, ODataQueryError, parseFilter, parseOrderBy, type FieldDef } from './odata';
import type { RateLimiter } from './ratelimit';
import type { StoredAlert, TenantStore } from './store';

export interface IncidentSettings {
	/** largest `$top`, and the page size without `$top` (reported as 50; UNCONFIRMED in Microsoft's pages) */
	maxPageSize: number;
	/** a `$top` above maxPageSize: Graph's 400 "The limit of '50' for Top query has been exceeded" (reported) or a page of maxPageSize */
	topAboveMax: 'error' | 'clamp';
	/** `$filter` on determination is accepted (not in the documented list) */
	filterDetermination: boolean;
	/** `$orderby` on createdDateTime / lastUpdateDateTime is accepted (not documented for incidents) */
	orderBy: boolean;
	/** `@odata.nextLink` as `$skip` (default) or none at all */
	nextLink: 'skip' | 'none';
}

export const DEFAULT_INCIDENT_SETTINGS: IncidentSettings = { maxPageSize: 50, topAboveMax: 'error', filterDetermination: false, orderBy: true, nextLink: 'skip' };

export const INCIDENT_READ_ROLES = ['SecurityIncident.Read.All', 'SecurityIncident.ReadWrite.All'];
export const INCIDENT_WRITE_ROLES = ['SecurityIncident.ReadWrite.All'];

const SEVERITY_RANK: Record<string, number> = { UnSpecified: 0, Informational: 1, Low: 2, Medium: 3, High: 4 };
const SEVERITY = ['unknown', 'informational', 'low', 'medium', 'high'];
/** Members after unknownFutureValue: shown only with `Prefer: include-unknown-enum-members`. */
const EVOLVABLE_STATUS = new Set(['awaitingAction']);
const WRITABLE_STATUSES = ['active', 'inProgress', 'resolved', 'redirected'];
const CLASSIFICATIONS = ['unknown', 'falsePositive', 'truePositive', 'informationalExpectedActivity'];
const DETERMINATIONS: Record<'sdk' | 'table', string[]> = {
	sdk: ['unknown', 'apt', 'malware', 'securityPersonnel', 'securityTesting', 'unwantedSoftware', 'other', 'multiStagedAttack', 'compromisedUser', 'phishing', 'maliciousUserActivity', 'clean', 'insufficientData', 'confirmedUserActivity', 'lineOfBusinessApplication'],
	table: ['unknown', 'apt', 'malware', 'securityPersonnel', 'securityTesting', 'unwantedSoftware', 'other', 'multiStagedAttack', 'compromisedAccount', 'phishing', 'maliciousUserActivity', 'notMalicious', 'notEnoughDataToValidate', 'confirmedActivity', 'lineOfBusinessApplication'],
};
const PATCH_FIELDS = ['status', 'classification', 'determination', 'assignedTo', 'customTags', '@odata.type'];
const ORDER_FIELDS = ['createdDateTime', 'lastUpdateDateTime'];

/** The incident's own fields (what PATCH and comments change); absent = derived from its alerts. */
export interface IncidentOverlay {
	status?: string;
	classification?: string;
	determination?: string;
	assignedTo?: string | null;
	customTags?: string[];
	comments?: Array<{ comment: string; createdByDisplayName: string; createdDateTime: string }>;
	redirectIncidentId?: string | null;
	/** last change made here (PATCH, comment) */
	updatedTicks?: bigint;
}

export interface IncidentPrincipal {
	tenantId: string;
	clientId: string;
	roles: string[];
}

export interface IncidentAnswer {
	status: number;
	headers: Record<string, string>;
	body: unknown;
	endpointClass?: 'graphAlerts';
}

export interface IncidentDeps {
	clock: EmulatorClock;
	limiter: RateLimiter;
	storeFor: (tenantId: string) => TenantStore;
	tenantOf: (idOrDomain: string) => string | undefined;
	/** a stored Defender alert in its Graph alerts_v2 shape (graph.ts) */
	renderAlert: (stored: StoredAlert, include: boolean) => Record<string, unknown>;
	/** the determination spelling the Graph settings use ('sdk' or the Update page's 'table') */
	determinationSpelling: () => 'sdk' | 'table';
}

/** One incident as computed: its alerts, its times in ticks, the overlay. */
interface Computed {
	id: string;
	tenantId: string;
	alerts: StoredAlert[];
	createdTicks: bigint;
	updatedTicks: bigint;
	overlay: IncidentOverlay;
}

class IncidentError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly headers: Record<string, string> = {},
	) {
		super(message);
	}
}

export class IncidentService {
	settings: IncidentSettings = { ...DEFAULT_INCIDENT_SETTINGS };
	private readonly overlays = new Map<string, Map<string, IncidentOverlay>>();

	constructor(private readonly deps: IncidentDeps) {}

	configure(partial: Partial<IncidentSettings>): IncidentSettings {
		this.settings = { ...this.settings, ...partial };
		return { ...this.settings };
	}

	reset(): void {
		this.overlays.clear();
		this.settings = { ...DEFAULT_INCIDENT_SETTINGS };
	}

	/** Whether a request path is an incident route (graph.ts hands it over). */
	static handles(segments: string[]): boolean {
		return segments[0]?.toLowerCase() === 'security' && segments[1]?.toLowerCase() === 'incidents';
	}

	private overlay(tenantId: string, id: string): IncidentOverlay {
		let byId = this.overlays.get(tenantId);
		if (!byId) {
			byId = new Map();
			this.overlays.set(tenantId, byId);
		}
		let o = byId.get(id);
		if (!o) {
			o = {};
			byId.set(id, o);
		}
		return o;
	}

	/** Set an incident's own fields directly (tests: e.g. awaitingAction, which only Defender Experts set). */
	set(tenant: string, id: string, fields: Partial<Omit<IncidentOverlay, 'updatedTicks'>>): Record<string, unknown> {
		const tenantId = this.deps.tenantOf(tenant);
		if (!tenantId) throw new Error(`Unknown tenant ${tenant}`);
		const incident = this.computeAll(tenantId).find((c) => c.id === id);
		if (!incident) throw new Error(`No incident ${id} in tenant ${tenantId}`);
		Object.assign(this.overlay(tenantId, id), structuredClone(fields), { updatedTicks: this.deps.clock.writeTicks() });
		return this.render(this.computeAll(tenantId).find((c) => c.id === id)!, true, false);
	}

	/** Every incident of a tenant as Graph shows it (with Prefer, without alerts), newest first. */
	list(tenant: string): Array<Record<string, unknown>> {
		const tenantId = this.deps.tenantOf(tenant);
		if (!tenantId) throw new Error(`Unknown tenant ${tenant}`);
		return this.computeAll(tenantId).map((c) => this.render(c, true, false));
	}

	/** The incidents of a tenant: its visible alerts grouped by incidentId, default order newest first (ties: higher id). */
	private computeAll(tenantId: string): Computed[] {
		const store = this.deps.storeFor(tenantId);
		const now = this.deps.clock.nowTicks();
		const groups = new Map<string, StoredAlert[]>();
		for (const s of store.alerts) {
			if (!store.isVisible(s, now) || s.alert.incidentId === null || s.alert.incidentId === undefined) continue;
			const id = String(s.alert.incidentId);
			const list = groups.get(id) ?? [];
			list.push(s);
			groups.set(id, list);
		}
		const out: Computed[] = [];
		for (const [id, alerts] of groups) {
			const overlay = this.overlays.get(tenantId)?.get(id) ?? {};
			let created = alerts[0].createdTicks;
			let updated = alerts[0].updatedTicks;
			for (const a of alerts) {
				if (a.createdTicks < created) created = a.createdTicks;
				if (a.updatedTicks > updated) updated = a.updatedTicks;
			}
			if (overlay.updatedTicks !== undefined && overlay.updatedTicks > updated) updated = overlay.updatedTicks;
			out.push({ id, tenantId, alerts, createdTicks: created, updatedTicks: updated, overlay });
		}
		return out.sort((a, b) => (a.createdTicks !== b.createdTicks ? (a.createdTicks < b.createdTicks ? 1 : -1) : Number(b.id) - Number(a.id)));
	}

	private field(c: Computed, name: string, include: boolean): unknown {
		const o = c.overlay;
		switch (name) {
			case 'status': {
				const status = o.status ?? (c.alerts.every((a) => a.alert.status === 'Resolved') ? 'resolved' : c.alerts.some((a) => a.alert.status === 'InProgress') ? 'inProgress' : 'active');
				return !include && EVOLVABLE_STATUS.has(status) ? 'unknownFutureValue' : status;
			}
			case 'severity': {
				const rank = Math.max(...c.alerts.map((a) => SEVERITY_RANK[a.alert.severity] ?? 0));
				return SEVERITY[rank];
			}
			case 'classification':
				return o.classification ?? 'unknown';
			case 'determination':
				return o.determination ?? 'unknown';
			case 'assignedTo':
				return o.assignedTo !== undefined ? o.assignedTo : (c.alerts.find((a) => a.alert.assignedTo)?.alert.assignedTo ?? null);
			case 'createdDateTime':
				return c.createdTicks;
			case 'lastUpdateDateTime':
				return c.updatedTicks;
			default:
				return undefined;
		}
	}

	private displayName(c: Computed): string {
		const devices = new Set(c.alerts.map((a) => a.alert.machineId).filter((m): m is string => !!m));
		const where = devices.size <= 1 ? 'on one endpoint' : `on ${devices.size} endpoints`;
		if (c.alerts.length === 1) return `${c.alerts[0].alert.title} ${where}`;
		const categories = [...new Set(c.alerts.map((a) => a.alert.category).filter(Boolean))].slice(0, 3);
		return `Multi-stage incident involving ${categories.join(' & ') || 'multiple alerts'} ${where}`;
	}

	private render(c: Computed, include: boolean, expand: boolean): Record<string, unknown> {
		const o = c.overlay;
		const incident: Record<string, unknown> = {
			'@odata.type': '#microsoft.graph.security.incident',
			id: c.id,
			incidentWebUrl: `https://security.microsoft.com/incidents/${c.id}?tid=${c.tenantId}`,
			redirectIncidentId: o.redirectIncidentId ?? null,
			tenantId: c.tenantId,
			displayName: this.displayName(c),
			description: c.alerts.length === 1 ? c.alerts[0].alert.description : `${c.alerts.length} correlated alerts`,
			createdDateTime: fromTicks(c.createdTicks),
			lastUpdateDateTime: trimFraction(fromTicks(c.updatedTicks)),
			assignedTo: this.field(c, 'assignedTo', include),
			classification: this.field(c, 'classification', include),
			determination: this.field(c, 'determination', include),
			status: this.field(c, 'status', include),
			severity: this.field(c, 'severity', include),
			customTags: [...(o.customTags ?? [])],
			systemTags: [],
			comments: structuredClone(o.comments ?? []),
		};
		if (expand) incident.alerts = c.alerts.map((a) => this.deps.renderAlert(a, include));
		return incident;
	}

	// ============================================================================================ routing

	/** One incident request of an authenticated principal: status, headers, body. Never throws. */
	route(method: string, segments: string[], query: URLSearchParams, body: unknown, prefer: string | undefined, principal: IncidentPrincipal, host: string): IncidentAnswer {
		const include = (prefer ?? '').split(',').some((p) => p.trim().toLowerCase() === 'include-unknown-enum-members');
		const headers: Record<string, string> = include ? { 'preference-applied': 'include-unknown-enum-members' } : {};
		try {
			if (segments.length > 4) throw new IncidentError(400, 'BadRequest', `Resource not found for the segment '${segments[segments.length - 1]}'.`);
			if (body instanceof Error) throw body;
			this.rateLimit(principal);
			if (segments.length === 2) {
				if (method !== 'GET') throw new IncidentError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
				this.needRoles(principal, INCIDENT_READ_ROLES);
				return { status: 200, headers, body: this.listBody(query, principal.tenantId, include, host), endpointClass: 'graphAlerts' };
			}
			const id = segments[2];
			const find = () => this.computeAll(principal.tenantId).find((c) => c.id === id);
			if (segments.length === 3) {
				if (method === 'GET') {
					this.needRoles(principal, INCIDENT_READ_ROLES);
					const expand = this.expandOf(query, new Set(['$expand', '$select']));
					const c = find();
					if (!c) throw this.notFound(id);
					return { status: 200, headers, body: { '@odata.context': `https://${host}/v1.0/$metadata#security/incidents/$entity`, ...this.render(c, include, expand) }, endpointClass: 'graphAlerts' };
				}
				if (method === 'PATCH') {
					this.needRoles(principal, INCIDENT_WRITE_ROLES);
					const c = find();
					if (!c) throw this.notFound(id);
					this.patch(c, body);
					return { status: 200, headers, body: { '@odata.context': `https://${host}/v1.0/$metadata#security/incidents/$entity`, ...this.render(find()!, include, false) }, endpointClass: 'graphAlerts' };
				}
				throw new IncidentError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
			}
			if (segments[3].toLowerCase() === 'comments') {
				if (method !== 'POST') throw new IncidentError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
				this.needRoles(principal, INCIDENT_WRITE_ROLES);
				const c = find();
				if (!c) throw this.notFound(id);
				const comments = this.comment(c, body, principal);
				return {
					status: 200,
					headers,
					body: { '@odata.context': `https://${host}/v1.0/$metadata#security/incidents('${id}')/comments`, value: comments },
					endpointClass: 'graphAlerts',
				};
			}
			throw new IncidentError(400, 'BadRequest', `Resource not found for the segment '${segments[3]}'.`);
		} catch (error) {
			const e = error instanceof IncidentError ? error : error instanceof ODataQueryError ? new IncidentError(400, 'BadRequest', error.message.replace(/microsoft\.windowsDefenderATP\.api\.PublicAlert/g, 'microsoft.graph.security.incident')) : error instanceof Error && 'status' in error && 'code' in error ? (error as unknown as IncidentError) : new IncidentError(500, 'InternalServerError', error instanceof Error ? error.message : String(error));
			return { status: e.status, headers: e.headers ?? {}, body: { error: { code: e.code, message: e.message } }, endpointClass: 'graphAlerts' };
		}
	}

	private notFound(id: string): IncidentError {
		return new IncidentError(404, 'NotFound', `Incident with id '${id}' was not found.`);
	}

	private needRoles(principal: IncidentPrincipal, roles: string[]): void {
		if (!roles.some((r) => principal.roles.includes(r))) {
			throw new IncidentError(403, 'Forbidden', `Missing role permissions on the request. API requires one of '${roles.join(', ')}'. Roles on the request '${principal.roles.join(', ')}'.`);
		}
	}

	private rateLimit(principal: IncidentPrincipal): void {
		// One budget for security detections and incidents: the alerts' class.
		const decision = this.deps.limiter.check(principal.clientId, principal.tenantId, 'graphAlerts');
		if (!decision.ok) throw new IncidentError(429, 'TooManyRequests', 'Too many requests.', { 'retry-after': String(decision.retryAfterSeconds) });
	}

	private expandOf(query: URLSearchParams, known: Set<string>): boolean {
		for (const key of query.keys()) {
			if (key.startsWith('$') && !known.has(key)) throw new IncidentError(400, 'BadRequest', `Query option '${key}' is not allowed. Allowed: ${[...known].join(', ')}.`);
		}
		const expand = query.get('$expand');
		if (expand === null) return false;
		if (expand.trim().toLowerCase() !== 'alerts') throw new IncidentError(400, 'BadRequest', `Could not find a property named '${expand}' on type 'microsoft.graph.security.incident' to expand. Expandable: alerts.`);
		return true;
	}

	private listBody(query: URLSearchParams, tenantId: string, include: boolean, host: string): Record<string, unknown> {
		const expand = this.expandOf(query, new Set(['$filter', '$top', '$skip', '$count', '$expand', '$orderby', '$select']));
		const fields: FieldDef[] = [
			{ name: 'assignedTo', type: 'string' },
			{ name: 'classification', type: 'string' },
			{ name: 'createdDateTime', type: 'datetime' },
			{ name: 'lastUpdateDateTime', type: 'datetime' },
			{ name: 'severity', type: 'string' },
			{ name: 'status', type: 'string' },
			...(this.settings.filterDetermination ? [{ name: 'determination', type: 'string' as const }] : []),
		];
		const filterText = query.get('$filter');
		let filter;
		try {
			filter = filterText ? parseFilter(filterText, fields) : undefined;
		} catch (error) {
			if (error instanceof ODataQueryError) throw new IncidentError(400, 'BadRequest', `Invalid filter clause: ${error.message.replace(/microsoft\.windowsDefenderATP\.api\.PublicAlert/g, 'microsoft.graph.security.incident')}`);
			throw error;
		}
		const orderText = query.get('$orderby');
		if (orderText !== null && !this.settings.orderBy) throw new IncidentError(400, 'BadRequest', 'The query specified in the URI is not valid. $orderby is not supported on incidents.');
		const order = orderText ? parseOrderBy(orderText, ORDER_FIELDS) : [];
		const topText = query.get('$top');
		if (topText !== null && !/^\d+$/.test(topText)) throw new IncidentError(400, 'BadRequest', `Invalid value '${topText}' for $top query option found.`);
		let top = topText === null ? this.settings.maxPageSize : Number(topText);
		if (top > this.settings.maxPageSize) {
			if (this.settings.topAboveMax === 'error') {
				throw new IncidentError(400, 'BadRequest', `The limit of '${this.settings.maxPageSize}' for Top query has been exceeded. The value from the incoming request is '${topText}'.`);
			}
			top = this.settings.maxPageSize;
		}
		const skipText = query.get('$skip');
		if (skipText !== null && !/^\d+$/.test(skipText)) throw new IncidentError(400, 'BadRequest', `Invalid value '${skipText}' for $skip query option found.`);
		const skip = skipText === null ? 0 : Number(skipText);

		let items = this.computeAll(tenantId).filter((c) => !filter || evaluateFilter(filter, (f) => this.field(c, f.name, include)));
		if (order.length) {
			items = items.sort((a, b) => {
				for (const o of order) {
					const ta = this.field(a, o.field, include) as bigint;
					const tb = this.field(b, o.field, include) as bigint;
					if (ta !== tb) return (ta < tb ? -1 : 1) * (o.desc ? -1 : 1);
				}
				return Number(a.id) - Number(b.id);
			});
		}
		const page = items.slice(skip, skip + top);
		const out: Record<string, unknown> = { '@odata.context': `https://${host}/v1.0/$metadata#security/incidents${expand ? '(alerts())' : ''}` };
		if ((query.get('$count') ?? '').toLowerCase() === 'true') out['@odata.count'] = items.length;
		out.value = page.map((c) => this.render(c, include, expand));
		if (this.settings.nextLink === 'skip' && items.length > skip + top && top > 0) {
			const params: string[] = [];
			for (const [k, v] of query) {
				if (k === '$skip') continue;
				params.push(`${encodeURIComponent(k).replace(/%24/g, '$')}=${encodeURIComponent(v)}`);
			}
			if (topText === null) params.push(`$top=${top}`);
			params.push(`$skip=${skip + top}`);
			out['@odata.nextLink'] = `https://${host}/v1.0/security/incidents?${params.join('&')}`;
		}
		return out;
	}

	// ============================================================================================ writes

	private patch(c: Computed, body: unknown): void {
		if (!isPlainObject(body)) throw new IncidentError(400, 'BadRequest', 'A JSON object is expected.');
		for (const key of Object.keys(body)) {
			if (!PATCH_FIELDS.includes(key)) throw new IncidentError(400, 'BadRequest', `The property '${key}' does not exist on type 'microsoft.graph.security.incident' or cannot be updated.`);
		}
		const enumField = (name: string, allowed: string[]): string | undefined => {
			if (!(name in body)) return undefined;
			const v = body[name];
			if (typeof v !== 'string' || !allowed.includes(v)) throw new IncidentError(400, 'BadRequest', `Invalid value '${String(v)}' for property '${name}'. Allowed: ${allowed.join(', ')}.`);
			return v;
		};
		const status = enumField('status', WRITABLE_STATUSES);
		const classification = enumField('classification', CLASSIFICATIONS);
		const determination = enumField('determination', DETERMINATIONS[this.deps.determinationSpelling()]);
		if ('assignedTo' in body && body.assignedTo !== null && typeof body.assignedTo !== 'string') throw new IncidentError(400, 'BadRequest', "'assignedTo' must be a string or null.");
		let tags: string[] | undefined;
		if ('customTags' in body) {
			if (!Array.isArray(body.customTags) || body.customTags.some((t) => typeof t !== 'string')) throw new IncidentError(400, 'BadRequest', "'customTags' must be an array of strings.");
			tags = [...(body.customTags as string[])];
		}
		const o = this.overlay(c.tenantId, c.id);
		if (status !== undefined) o.status = status;
		if (classification !== undefined) o.classification = classification;
		if (determination !== undefined) o.determination = determination;
		if ('assignedTo' in body) o.assignedTo = body.assignedTo as string | null;
		if (tags !== undefined) o.customTags = tags;
		o.updatedTicks = this.deps.clock.writeTicks();
	}

	private comment(c: Computed, body: unknown, principal: IncidentPrincipal): Array<Record<string, unknown>> {
		if (!isPlainObject(body) || typeof body.comment !== 'string' || body.comment.trim() === '') {
			throw new IncidentError(400, 'BadRequest', "The request body must be an alertComment with a non-empty 'comment'.");
		}
		const o = this.overlay(c.tenantId, c.id);
		const ticks = this.deps.clock.writeTicks();
		o.comments = [...(o.comments ?? []), { comment: body.comment, createdByDisplayName: principal.clientId, createdDateTime: fromTicks(ticks) }];
		o.updatedTicks = ticks;
		return structuredClone(o.comments);
	}
}

/** Control API: `GET|POST /_emulator/graph/incidents` (settings; `{reset: true}`), `GET /_emulator/graph/incidents/{tid}` (every incident), `POST /_emulator/graph/incidents/{tid}/{id}` (set fields). */
export function incidentControl(service: IncidentService, req: { method: string; segments: string[]; body: Buffer }): { status: number; body: unknown } {
	const [tenant, id] = req.segments;
	const text = req.body.toString('utf8').trim();
	const body = text ? (JSON.parse(text) as unknown) : {};
	if (tenant === undefined) {
		if (req.method === 'GET') return { status: 200, body: service.settings };
		if (req.method === 'POST' && isPlainObject(body)) {
			if (body.reset === true) service.reset();
			const { reset: _reset, ...settings } = body;
			void _reset;
			return { status: 200, body: service.configure(settings as Partial<IncidentSettings>) };
		}
	}
	if (tenant !== undefined && id === undefined && req.method === 'GET') return { status: 200, body: { value: service.list(tenant) } };
	if (tenant !== undefined && id !== undefined && req.method === 'POST' && isPlainObject(body)) return { status: 200, body: service.set(tenant, id, body as Partial<IncidentOverlay>) };
	throw new Error(`Unknown control endpoint ${req.method} /_emulator/graph/incidents/${req.segments.join('/')}`);
}
