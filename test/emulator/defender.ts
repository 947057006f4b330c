 
/**
 * Defender for Endpoint alert API (https://learn.microsoft.com/en-us/defender-endpoint/api/alerts and the endpoint pages beside it): auth from the JWT, per-endpoint roles, rate limits,
 * OData list, get, PATCH, batchUpdate, CreateAlertByReference and the related-entity endpoints.
 */
import { fromTicks, normalizeTimestamp, toTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import { trimFraction, type EmulatorClock } from './clock';
import { ACCEPTED_RESOURCES, type Directory } from './directory';
import { apiError, isPlainObject, odataReply, type Reply } from './http-util';
import type { JwtSigner } from './jwt';
import { evaluateFilter, ODataQueryError, parseAlertQuery, type FieldDef } from './odata';
import type { RateLimiter } from './ratelimit';
import type { StoredAlert, TenantStore } from './store';
import type { Alert, EndpointClass } from './types';

export interface ApiRequest {
	method: string;
	host: string;
	/** Segments after `/api` (and after an optional `v1.0`). */
	segments: string[];
	/** `/api` or `/api/v1.0`, as requested. */
	basePath: string;
	query: URLSearchParams;
	body: Buffer;
	contentType: string;
	authorization: string | undefined;
}

export interface ApiOutcome {
	reply: Reply;
	tenantId?: string;
	clientId?: string;
	endpointClass?: EndpointClass;
}

export interface DefenderSettings {
	maxBatchSize: number;
	maxPageSize: number;
	/** status for a valid token of another API (default 403, see EmulatorOptions.wrongAudienceStatus) */
	wrongAudienceStatus?: 401 | 403;
}

export interface Principal {
	tenantId: string;
	clientId: string;
	roles: string[];
}

const CLOCK_SKEW_SECONDS = 5;
const WWW_AUTH = { 'www-authenticate': 'Bearer error="invalid_token"' };

export const STATUS_VALUES = ['New', 'InProgress', 'Resolved'];
export const CLASSIFICATION_VALUES = ['TruePositive', 'InformationalExpectedActivity', 'FalsePositive'];
/** Both doc spellings (Update alert vs the Alert resource type page). */
export const DETERMINATION_VALUES = [
	'MultiStagedAttack',
	'MaliciousUserActivity',
	'CompromisedUser',
	'Malware',
	'Phishing',
	'UnwantedSoftware',
	'Other',
	'SecurityTesting',
	'LineOfBusinessApplication',
	'ConfirmedUserActivity',
	'ConfirmedActivity',
	'Clean',
	'NotMalicious',
	'InsufficientData',
];
export const CREATE_BY_REFERENCE_CATEGORIES = [
	'General',
	'CommandAndControl',
	'Collection',
	'CredentialAccess',
	'DefenseEvasion',
	'Discovery',
	'Exfiltration',
	'Exploit',
	'Execution',
	'InitialAccess',
	'LateralMovement',
	'Malware',
	'Persistence',
	'PrivilegeEscalation',
	'Ransomware',
	'SuspiciousActivity',
];
const UPDATE_FIELDS = ['status', 'assignedTo', 'classification', 'determination', 'comment'];
const CREATE_FIELDS = ['eventTime', 'reportId', 'machineId', 'severity', 'title', 'description', 'recommendedAction', 'category'];

const READ_ROLES = ['Alert.Read.All', 'Alert.ReadWrite.All'];
const WRITE_ROLES = ['Alert.ReadWrite.All'];
const RELATED_ROLES: Record<string, string[]> = {
	domains: ['URL.Read.All'],
	files: ['File.Read.All'],
	ips: ['Ip.Read.All'],
	machine: ['Machine.Read.All', 'Machine.ReadWrite.All'],
	user: ['User.Read.All'],
};

export interface Route {
	endpointClass: EndpointClass;
	roles: string[];
	allowed: string[];
	handle: (req: ApiRequest, principal: Principal, store: TenantStore) => Reply;
}

class BodyError extends Error {
	constructor(
		readonly code: string,
		message: string,
	) {
		super(message);
	}
}

export class DefenderService {
	/** Routes of other API areas (indicators, …), tried before the alert routes; each answers undefined for paths that are not its own. */
	readonly extraRoutes: Array<(req: ApiRequest) => Route | Reply | undefined> = [];

	constructor(
		private readonly directory: Directory,
		private readonly signer: JwtSigner,
		private readonly clock: EmulatorClock,
		private readonly limiter: RateLimiter,
		private readonly storeFor: (tenantId: string) => TenantStore,
		readonly settings: DefenderSettings,
	) {}

	handle(req: ApiRequest): ApiOutcome {
		const auth = this.authenticate(req);
		if ('status' in auth) return { reply: auth };
		const principal = auth;
		const base = { tenantId: principal.tenantId, clientId: principal.clientId };
		const route = this.route(req);
		if ('status' in route) return { ...base, reply: route };
		const out = { ...base, endpointClass: route.endpointClass };
		if (!route.allowed.includes(req.method)) {
			return {
				...out,
				endpointClass: undefined,
				reply: apiError(405, 'MethodNotAllowed', `The requested resource does not support http method '${req.method}'.`, {
					allow: route.allowed.join(', '),
				}),
			};
		}
		const decision = this.limiter.check(principal.clientId, principal.tenantId, route.endpointClass);
		if (!decision.ok) {
			return {
				...out,
				reply: apiError(
					429,
					'TooManyRequests',
					`API call quota exceeded for this application and tenant (${decision.rule.limit} calls per ${decision.rule.windowMs / 1000} seconds). Retry in ${decision.retryAfterSeconds} seconds.`,
					{ 'retry-after': String(decision.retryAfterSeconds) },
				),
			};
		}
		if (!route.roles.some((r) => principal.roles.includes(r))) {
			return {
				...out,
				reply: apiError(
					403,
					'Forbidden',
					`Missing application roles. API required roles: ${route.roles.join(',')}, application roles: ${principal.roles.join(',')}.`,
				),
			};
		}
		try {
			return { ...out, reply: route.handle(req, principal, this.storeFor(principal.tenantId)) };
		} catch (error) {
			if (error instanceof BodyError) return { ...out, reply: apiError(400, error.code, error.message) };
			if (error instanceof ODataQueryError) return { ...out, reply: apiError(400, 'ODataError', error.message) };
			throw error;
		}
	}

	// ------------------------------------------------------------------------------------------------ auth

	private authenticate(req: ApiRequest): Principal | Reply {
		const unauthorized = (message: string): Reply => apiError(401, 'Unauthorized', message, WWW_AUTH);
		const header = req.authorization?.trim();
		if (!header) return unauthorized('Authorization header is missing. Send Authorization: Bearer <access token>.');
		const m = /^Bearer\s+(\S+)$/i.exec(header);
		if (!m) return unauthorized('Authorization header must use the Bearer scheme: Authorization: Bearer <access token>.');
		const verified = this.signer.verify(m[1]);
		if (!verified.ok) return unauthorized(`Invalid access token: ${verified.message}`);
		const claims = verified.payload;
		const now = this.clock.nowSeconds();
		if (typeof claims.exp !== 'number' || typeof claims.nbf !== 'number') return unauthorized('Invalid access token: exp/nbf claims are missing.');
		if (now > claims.exp + CLOCK_SKEW_SECONDS) return unauthorized(`The access token expired at ${new Date(claims.exp * 1000).toISOString()}.`);
		if (now + CLOCK_SKEW_SECONDS < claims.nbf) return unauthorized('The access token is not valid yet (nbf).');
		const tid = typeof claims.tid === 'string' ? claims.tid : '';
		const tenant = tid ? this.directory.findTenant(tid) : undefined;
		if (!tenant || tenant.id !== tid) return unauthorized(`Invalid access token: tenant '${tid}' is unknown.`);
		if (claims.iss !== `https://sts.windows.net/${tid}/`) return unauthorized(`Invalid access token: issuer '${String(claims.iss)}' does not match tenant ${tid}.`);
		const appid = typeof claims.appid === 'string' ? claims.appid : '';
		if (!appid) return unauthorized('Invalid access token: the appid claim is missing.');
		const status = this.directory.tokenStatus(claims.uti);
		if (status === 'revoked') return unauthorized('The access token has been revoked. Acquire a new token.');
		if (status === 'unknown') return unauthorized('Invalid access token: the token was not issued by this authority.');
		const aud = typeof claims.aud === 'string' ? claims.aud.replace(/\/+$/, '').toLowerCase() : '';
		if (!ACCEPTED_RESOURCES.includes(aud)) {
			// A token for another resource is valid but not for this API: 403, as community integrations observe (not
			// documented by Microsoft); settings.wrongAudienceStatus 401 models the other common answer (invalid_token).
			if (this.settings.wrongAudienceStatus === 401) {
				return apiError(401, 'Unauthorized', `Invalid access token: the audience '${String(claims.aud)}' is invalid.`, {
					'www-authenticate': `Bearer error="invalid_token", error_description="The audience '${String(claims.aud)}' is invalid"`,
				});
			}
			return apiError(403, 'Forbidden', `The access token audience '${String(claims.aud)}' is not valid for this API. Request a token for https://api.securitycenter.microsoft.com/.default.`);
		}
		const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
		return { tenantId: tid, clientId: appid.toLowerCase(), roles };
	}

	// ------------------------------------------------------------------------------------------------ routing

	private route(req: ApiRequest): Route | Reply {
		const s = req.segments;
		const lower = s.map((x) => x.toLowerCase());
		const notFound = apiError(404, 'NotFound', `No HTTP resource was found that matches the request URI '${req.basePath}/${s.join('/')}'.`);
		for (const extra of this.extraRoutes) {
			const found = extra(req);
			if (found) return found;
		}
		if (lower[0] !== 'alerts') return notFound;
		if (s.length === 1) {
			return { endpointClass: 'alerts', roles: READ_ROLES, allowed: ['GET'], handle: (r, _p, st) => this.list(r, st) };
		}
		if (s.length === 2 && lower[1] === 'batchupdate') {
			return { endpointClass: 'batchUpdate', roles: WRITE_ROLES, allowed: ['POST'], handle: (r, p, st) => this.batchUpdate(r, p, st) };
		}
		if (s.length === 2 && lower[1] === 'createalertbyreference') {
			return { endpointClass: 'createByReference', roles: WRITE_ROLES, allowed: ['POST'], handle: (r, _p, st) => this.createByReference(r, st) };
		}
		const id = s[1];
		if (s.length === 2) {
			return {
				endpointClass: 'alerts',
				roles: req.method === 'PATCH' ? WRITE_ROLES : READ_ROLES,
				allowed: ['GET', 'PATCH'],
				handle: (r, p, st) => (r.method === 'PATCH' ? this.patch(r, p, st, id) : this.get(r, st, id)),
			};
		}
		if (s.length === 3 && RELATED_ROLES[lower[2]]) {
			const what = lower[2];
			return { endpointClass: 'alerts', roles: RELATED_ROLES[what], allowed: ['GET'], handle: (r, _p, st) => this.related(r, st, id, what) };
		}
		return notFound;
	}

	private context(req: ApiRequest, fragment: string): string {
		return `https://${req.host}/api/$metadata#${fragment}`;
	}

	private visible(store: TenantStore, id: string): StoredAlert | undefined {
		const stored = store.byId.get(id);
		return stored && store.isVisible(stored, this.clock.nowTicks()) ? stored : undefined;
	}

	private alertNotFound(id: string): Reply {
		return apiError(404, 'ResourceNotFound', `Alert ${id} was not found`);
	}

	private render(alert: Alert, withEvidence: boolean): Alert {
		const copy = structuredClone(alert);
		if (!withEvidence) copy.evidence = [];
		return copy;
	}

	// ------------------------------------------------------------------------------------------------ list / get

	private list(req: ApiRequest, store: TenantStore): Reply {
		const query = parseAlertQuery(req.query, this.settings.maxPageSize);
		const now = this.clock.nowTicks();
		const read = (s: StoredAlert) => (field: FieldDef): unknown =>
			field.name === 'alertCreationTime' ? s.createdTicks : field.name === 'lastUpdateTime' ? s.updatedTicks : s.alert[field.name as keyof Alert];
		let items = store.alerts.filter((s) => store.isVisible(s, now) && (!query.filter || evaluateFilter(query.filter, read(s))));
		if (query.orderBy.length > 0) {
			items = [...items].sort((a, b) => {
				for (const o of query.orderBy) {
					const ta = o.field === 'alertCreationTime' ? a.createdTicks : a.updatedTicks;
					const tb = o.field === 'alertCreationTime' ? b.createdTicks : b.updatedTicks;
					if (ta !== tb) return (ta < tb ? -1 : 1) * (o.desc ? -1 : 1);
				}
				return a.seq - b.seq;
			});
		}
		const pageSize = query.top ?? this.settings.maxPageSize;
		const page = items.slice(query.skip, query.skip + pageSize);
		const body: Record<string, unknown> = {
			'@odata.context': this.context(req, 'Alerts'),
			value: page.map((s) => this.render(s.alert, query.expandEvidence)),
		};
		if (query.top === undefined && items.length > query.skip + pageSize) {
			const params: string[] = [];
			for (const [k, v] of req.query) {
				if (k === '$skip') continue;
				params.push(`${encodeURIComponent(k).replace(/%24/g, '$')}=${encodeURIComponent(v)}`);
			}
			params.push(`$skip=${query.skip + pageSize}`);
			body['@odata.nextLink'] = `https://${req.host}${req.basePath}/alerts?${params.join('&')}`;
		}
		return odataReply(200, body);
	}

	private get(req: ApiRequest, store: TenantStore, id: string): Reply {
		const stored = this.visible(store, id);
		if (!stored) return this.alertNotFound(id);
		return odataReply(200, { '@odata.context': this.context(req, 'Alerts/$entity'), ...this.render(stored.alert, true) });
	}

	// ------------------------------------------------------------------------------------------------ writes

	private parseJsonBody(req: ApiRequest): Record<string, unknown> {
		const mediaType = req.contentType.split(';')[0].trim().toLowerCase();
		if (mediaType !== 'application/json') {
			throw new BodyError(
				'InvalidRequestBody',
				`Request body is incorrect: Content-Type must be application/json (received '${req.contentType || 'none'}').`,
			);
		}
		let parsed: unknown;
		try {
			parsed = JSON.parse(req.body.toString('utf8'));
		} catch {
			throw new BodyError('InvalidRequestBody', 'Request body is incorrect: the body is not valid JSON.');
		}
		if (!isPlainObject(parsed)) throw new BodyError('InvalidRequestBody', 'Request body is incorrect: a JSON object is expected.');
		return parsed;
	}

	private unknownProperty(key: string, allowed: string[]): BodyError {
		const sameIgnoringCase = allowed.find((a) => a.toLowerCase() === key.toLowerCase());
		return new BodyError(
			'InvalidRequestBody',
			sameIgnoringCase
				? `Request body is incorrect: unknown property '${key}'. Property names are case-sensitive; did you mean '${sameIgnoringCase}'?`
				: `Request body is incorrect: unknown property '${key}'. Allowed properties: ${allowed.join(', ')}.`,
		);
	}

	/** Validate the update fields shared by PATCH and batchUpdate. */
	private parseUpdate(body: Record<string, unknown>, extraAllowed: string[]): Record<string, unknown> {
		const allowed = [...extraAllowed, ...UPDATE_FIELDS];
		for (const key of Object.keys(body)) if (!allowed.includes(key)) throw this.unknownProperty(key, allowed);
		const update: Record<string, unknown> = {};
		const enumField = (name: string, values: string[], nullable: boolean): void => {
			if (!(name in body)) return;
			const v = body[name];
			if (v === null && nullable) {
				update[name] = null;
				return;
			}
			if (typeof v !== 'string' || !values.includes(v)) {
				throw new BodyError(
					'InvalidRequestBody',
					`Request body is incorrect: invalid value ${JSON.stringify(v)} for property '${name}'. Allowed values: ${values.join(', ')}.`,
				);
			}
			update[name] = v;
		};
		enumField('status', STATUS_VALUES, false);
		enumField('classification', CLASSIFICATION_VALUES, true);
		enumField('determination', DETERMINATION_VALUES, true);
		if ('assignedTo' in body) {
			const v = body.assignedTo;
			if (v !== null && typeof v !== 'string') throw new BodyError('InvalidRequestBody', "Request body is incorrect: 'assignedTo' must be a string.");
			update.assignedTo = v;
		}
		if ('comment' in body) {
			const v = body.comment;
			if (typeof v !== 'string' || v.trim() === '') throw new BodyError('InvalidRequestBody', "Request body is incorrect: 'comment' must be a non-empty string.");
			update.comment = v;
		}
		if (Object.keys(update).length === 0) {
			throw new BodyError('InvalidRequestBody', `Request body is incorrect: nothing to update. Send at least one of ${UPDATE_FIELDS.join(', ')}.`);
		}
		return update;
	}

	private applyUpdate(store: TenantStore, stored: StoredAlert, update: Record<string, unknown>, actor: string): void {
		const ticks = this.clock.writeTicks();
		const alert = stored.alert;
		if (update.status !== undefined) {
			alert.status = update.status as string;
			alert.resolvedTime = alert.status === 'Resolved' ? fromTicks(ticks) : null;
		}
		if ('assignedTo' in update) alert.assignedTo = update.assignedTo as string | null;
		if ('classification' in update) alert.classification = update.classification as string | null;
		if ('determination' in update) alert.determination = update.determination as string | null;
		if (update.comment !== undefined) alert.comments.push({ comment: update.comment as string, createdBy: actor, createdTime: fromTicks(ticks) });
		store.setLastUpdate(stored, trimFraction(fromTicks(ticks)));
	}

	private patch(req: ApiRequest, principal: Principal, store: TenantStore, id: string): Reply {
		const body = this.parseJsonBody(req);
		const update = this.parseUpdate(body, []);
		const stored = this.visible(store, id);
		if (!stored) return this.alertNotFound(id);
		this.applyUpdate(store, stored, update, principal.clientId);
		return odataReply(200, { '@odata.context': this.context(req, 'Alerts/$entity'), ...this.render(stored.alert, true) });
	}

	private batchUpdate(req: ApiRequest, principal: Principal, store: TenantStore): Reply {
		const body = this.parseJsonBody(req);
		if (body.alertIds === undefined || body.alertIds === null) {
			const wrongCase = Object.keys(body).find((k) => k.toLowerCase() === 'alertids');
			throw new BodyError(
				'MissingRequiredParameter',
				`Required parameter 'alertIds' is missing.${wrongCase ? ` Found '${wrongCase}'; property names are case-sensitive.` : ''}`,
			);
		}
		const ids = body.alertIds;
		if (!Array.isArray(ids) || ids.some((x) => typeof x !== 'string')) {
			throw new BodyError('InvalidRequestBody', "Request body is incorrect: 'alertIds' must be an array of strings.");
		}
		if (ids.length === 0) throw new BodyError('InvalidRequestBody', "Request body is incorrect: 'alertIds' must not be empty.");
		if (ids.length > this.settings.maxBatchSize) {
			throw new BodyError('MaximumBatchSizeExceeded', `Maximum batch size exceeded. Received: ${ids.length}, allowed: ${this.settings.maxBatchSize}.`);
		}
		const update = this.parseUpdate(body, ['alertIds']);
		// Unknown ids are skipped silently (the real API's behaviour is not documented: https://learn.microsoft.com/en-us/defender-endpoint/api/batch-update-alerts).
		for (const id of new Set(ids as string[])) {
			const stored = this.visible(store, id);
			if (stored) this.applyUpdate(store, stored, update, principal.clientId);
		}
		return { status: 200, headers: { 'content-length': '0' }, body: '' };
	}

	private createByReference(req: ApiRequest, store: TenantStore): Reply {
		const body = this.parseJsonBody(req);
		for (const name of CREATE_FIELDS) {
			const v = body[name];
			if (v === undefined || v === null || v === '') {
				const wrongCase = Object.keys(body).find((k) => k.toLowerCase() === name.toLowerCase() && k !== name);
				throw new BodyError(
					'MissingRequiredParameter',
					`Required parameter '${name}' is missing.${wrongCase ? ` Found '${wrongCase}'; property names are case-sensitive.` : ''}`,
				);
			}
		}
		for (const key of Object.keys(body)) if (!CREATE_FIELDS.includes(key)) throw this.unknownProperty(key, CREATE_FIELDS);
		for (const name of ['machineId', 'severity', 'title', 'description', 'recommendedAction', 'category', 'eventTime']) {
			if (typeof body[name] !== 'string') throw new BodyError('InvalidRequestBody', `Request body is incorrect: '${name}' must be a string.`);
		}
		if (typeof body.reportId !== 'string' && typeof body.reportId !== 'number') {
			throw new BodyError('InvalidRequestBody', "Request body is incorrect: 'reportId' must be a string.");
		}
		const severity = body.severity as string;
		if (!['Low', 'Medium', 'High'].includes(severity)) {
			throw new BodyError('InvalidRequestBody', `Request body is incorrect: invalid severity '${severity}'. Allowed values: Low, Medium, High.`);
		}
		const category = body.category as string;
		if (!CREATE_BY_REFERENCE_CATEGORIES.includes(category)) {
			throw new BodyError('InvalidRequestBody', `Request body is incorrect: invalid category '${category}'. Allowed values: ${CREATE_BY_REFERENCE_CATEGORIES.join(', ')}.`);
		}
		let eventTicks: bigint;
		try {
			if (!/(Z|[+-]\d{2}:?\d{2})$/i.test(body.eventTime as string)) throw new Error('no zone');
			eventTicks = toTicks(body.eventTime as string);
		} catch {
			throw new BodyError('InvalidRequestBody', `Request body is incorrect: 'eventTime' must be an ISO-8601 UTC timestamp such as 2025-03-04T09:15:22.4817263Z.`);
		}
		const reportId = String(body.reportId);
		const machineId = body.machineId as string;
		const event = store.findEvent(reportId, eventTicks, machineId);
		if (!event) {
			return apiError(404, 'ResourceNotFound', `No event was found for reportId ${reportId}, eventTime ${normalizeTimestamp(body.eventTime as string)} and machineId ${machineId}.`);
		}
		const title = body.title as string;
		const now = this.clock.nowTicks();
		const open = store.alerts.find(
			(s) => s.alert.machineId === machineId && s.alert.title === title && s.alert.status !== 'Resolved' && store.isVisible(s, now),
		);
		if (open) {
			const a = open.alert;
			if (a.lastEventTime === null || toTicks(a.lastEventTime) < eventTicks) a.lastEventTime = fromTicks(eventTicks);
			if (a.firstEventTime === null || toTicks(a.firstEventTime) > eventTicks) a.firstEventTime = fromTicks(eventTicks);
			store.setLastUpdate(open, trimFraction(this.clock.write()));
			return odataReply(200, { '@odata.context': this.context(req, 'Alerts/$entity'), ...this.render(a, true) });
		}
		const alert = store.createFromEvent(event, {
			severity,
			title,
			description: body.description as string,
			recommendedAction: body.recommendedAction as string,
			category,
		});
		return odataReply(200, { '@odata.context': this.context(req, 'Alerts/$entity'), ...this.render(alert, true) });
	}

	// ------------------------------------------------------------------------------------------------ related

	private related(req: ApiRequest, store: TenantStore, id: string, what: string): Reply {
		const stored = this.visible(store, id);
		if (!stored) return this.alertNotFound(id);
		const alert = stored.alert;
		switch (what) {
			case 'domains': {
				const hosts = new Set<string>();
				for (const e of alert.evidence) {
					if (!e.url) continue;
					try {
						hosts.add(new URL(e.url).hostname);
					} catch {
						hosts.add(e.url);
					}
				}
				return odataReply(200, { '@odata.context': this.context(req, 'Domains'), value: [...hosts].map((host) => ({ host })) });
			}
			case 'ips': {
				const ips = new Set(alert.evidence.map((e) => e.ipAddress).filter((x): x is string => !!x));
				return odataReply(200, { '@odata.context': this.context(req, 'Ips'), value: [...ips].map((ip) => ({ id: ip })) });
			}
			case 'files': {
				const shas = new Set(alert.evidence.map((e) => e.sha1).filter((x): x is string => !!x));
				const files = [...shas].map((sha1) => store.file(sha1)).filter((f) => f !== undefined);
				return odataReply(200, { '@odata.context': this.context(req, 'Files'), value: files });
			}
			case 'machine': {
				const machine = store.machine(alert.machineId);
				if (!machine) return apiError(404, 'ResourceNotFound', `Machine ${alert.machineId ?? ''} was not found`.trim());
				return odataReply(200, { '@odata.context': this.context(req, 'Machines/$entity'), ...structuredClone(machine) });
			}
			default: {
				const user = store.user(alert);
				if (!user) return apiError(404, 'ResourceNotFound', `User related to alert ${id} was not found`);
				return odataReply(200, { '@odata.context': this.context(req, 'Users/$entity'), ...structuredClone(user) });
			}
		}
	}
}
