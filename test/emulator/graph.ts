/**
 * Microsoft Graph security alerts_v2 on the emulator's tenant stores: the same Defender alerts the `/api` routes
 * serve, rendered as Graph shapes (ids, providerAlertId, camelCase enums, serviceSource, evidence typed by
 * @odata.type, comments), plus Graph-only alerts of other Defender XDR sources. Sources:
 * https://learn.microsoft.com/en-us/graph/api/resources/security-alert (properties, enums, evidence),
 * https://learn.microsoft.com/en-us/graph/api/security-list-alerts_v2 (query options),
 * https://learn.microsoft.com/en-us/graph/api/security-alert-update, https://learn.microsoft.com/en-us/graph/api/security-alert-post-comments,
 * https://learn.microsoft.com/en-us/graph/json-batching ($batch ≤ 20, dependsOn, per-request status and throttling),
 * https://learn.microsoft.com/en-us/graph/errors (error body with innerError request-id), https://learn.microsoft.com/en-us/graph/throttling,
 * https://learn.microsoft.com/en-us/graph/best-practices-concept#handling-future-members-in-evolvable-enumerations (Prefer).
 *
 * Routes (under `/v1.0`): `GET /security/alerts_v2` (`$filter`, `$top` ≤ maxPageSize, `$skip`, `$orderby`, `$count`,
 * nextLink), `GET|PATCH /security/alerts_v2/{id}`, `POST /security/alerts_v2/{id}/comments`, `POST /$batch`.
 * What Microsoft does not document is a setting, so tests cover both answers (see GraphSettings).
 */
import { fromTicks, toTicks } from '../../nodes/MicrosoftDefenderForEndpoint/helpers/timestamps';
import { trimFraction, type EmulatorClock } from './clock';
import { type Directory, GRAPH_RESOURCES } from './directory';
import { guid, isPlainObject, jsonReply, type Reply } from './http-util';
import { HuntingService, huntingControl, isHuntingPath } from './hunting';
import type { JwtSigner } from './jwt';
import { evaluateFilter, ODataQueryError, parseFilter, parseOrderBy, type FieldDef } from './odata';
import type { RateLimiter } from './ratelimit';
import type { StoredAlert, TenantStore } from './store';
import { IncidentService, incidentControl } from './incidents';
import type { Alert, AlertEvidence, Machine } from './types';

export interface GraphSettings {
	/** the token endpoint issues Microsoft Graph tokens (off: Graph scopes answer AADSTS500011, as before) */
	enabled: boolean;
	/** largest `$top`, and the page size without `$top` (undocumented for alerts_v2; 2,000 here) */
	maxPageSize: number;
	/** requests per `$batch` (documented: 20) */
	maxBatch: number;
	/** `$orderby` on createdDateTime / lastUpdateDateTime is accepted (undocumented; public code uses it) */
	orderBy: boolean;
	/**
	 * The order of a list without `$orderby` (undocumented): as stored (oldest first), newest first, or a stable order
	 * that follows neither time (a hash of the id), for tests of clients that must not rely on it
	 */
	defaultOrder: 'stored' | 'newestFirst' | 'hashed';
	/** `@odata.nextLink` form: `$skip` (default), an opaque keyset `$skiptoken`, or none at all */
	nextLink: 'skip' | 'skiptoken' | 'none';
	/** filter properties accepted besides the documented ones (e.g. ['category', 'incidentId', 'detectionSource']) */
	extraFilterable: string[];
	/** Graph id of a Defender alert: the Defender id (the docs' example) or a distinct id (`gr_<defender id>`) */
	idStyle: 'same' | 'distinct';
	/** determination names PATCH accepts and alerts show: the SDK names (default) or the resource page's value table */
	determinationSpelling: 'sdk' | 'table';
	/** answer to a valid token for another API (Graph: 401 InvalidAuthenticationToken "Invalid audience") */
	wrongAudienceStatus: 401 | 403;
}

/** A stable pseudo-random rank of a sequence number (Knuth's multiplicative hash). */
function hashOrder(seq: number): number {
	return Math.imul(seq + 1, 2654435761) >>> 0;
}

export const DEFAULT_GRAPH_SETTINGS: GraphSettings = {
	enabled: false,
	maxPageSize: 2000,
	maxBatch: 20,
	orderBy: true,
	defaultOrder: 'stored',
	nextLink: 'skip',
	extraFilterable: [],
	idStyle: 'same',
	determinationSpelling: 'sdk',
	wrongAudienceStatus: 401,
};

export const GRAPH_READ_ROLES = ['SecurityAlert.Read.All', 'SecurityAlert.ReadWrite.All'];
export const GRAPH_WRITE_ROLES = ['SecurityAlert.ReadWrite.All'];

const STATUS: Record<string, string> = { Unknown: 'unknown', New: 'new', InProgress: 'inProgress', Resolved: 'resolved' };
const SEVERITY: Record<string, string> = { UnSpecified: 'unknown', Informational: 'informational', Low: 'low', Medium: 'medium', High: 'high' };
const CLASSIFICATION: Record<string, string> = { TruePositive: 'truePositive', InformationalExpectedActivity: 'informationalExpectedActivity', FalsePositive: 'falsePositive' };
/** Defender determination → Graph, per spelling. */
const DETERMINATION: Record<'sdk' | 'table', Record<string, string>> = {
	sdk: {
		MultiStagedAttack: 'multiStagedAttack', MaliciousUserActivity: 'maliciousUserActivity', CompromisedUser: 'compromisedUser', Malware: 'malware',
		Phishing: 'phishing', UnwantedSoftware: 'unwantedSoftware', Other: 'other', SecurityTesting: 'securityTesting',
		LineOfBusinessApplication: 'lineOfBusinessApplication', ConfirmedUserActivity: 'confirmedUserActivity', ConfirmedActivity: 'confirmedUserActivity',
		Clean: 'clean', NotMalicious: 'clean', InsufficientData: 'insufficientData',
	},
	table: {
		MultiStagedAttack: 'multiStagedAttack', MaliciousUserActivity: 'maliciousUserActivity', CompromisedUser: 'compromisedAccount', Malware: 'malware',
		Phishing: 'phishing', UnwantedSoftware: 'unwantedSoftware', Other: 'other', SecurityTesting: 'securityTesting',
		LineOfBusinessApplication: 'lineOfBusinessApplication', ConfirmedUserActivity: 'confirmedActivity', ConfirmedActivity: 'confirmedActivity',
		Clean: 'notMalicious', NotMalicious: 'notMalicious', InsufficientData: 'notEnoughDataToValidate',
	},
};
const DETECTION_SOURCE: Record<string, string> = {
	WindowsDefenderAtp: 'microsoftDefenderForEndpoint', WindowsDefenderAv: 'antivirus', WindowsDefenderSmartScreen: 'smartScreen', CustomerTI: 'customTi',
	CustomDetection: 'customDetection', AutomatedInvestigation: 'automatedInvestigation', ThreatExperts: 'microsoftThreatExperts', MTP: 'microsoft365Defender',
	OfficeATP: 'microsoftDefenderForOffice365', Manual: 'manual',
};
/** Members after unknownFutureValue: shown only with `Prefer: include-unknown-enum-members`. */
const EVOLVABLE: Record<string, Set<string>> = {
	serviceSource: new Set(['microsoftDefenderForCloud']),
	detectionSource: new Set([
		'microsoftDefenderForCloud', 'microsoftDefenderForIoT', 'microsoftDefenderForServers', 'microsoftDefenderForStorage', 'microsoftDefenderForDNS',
		'microsoftDefenderForDatabases', 'microsoftDefenderForContainers', 'microsoftDefenderForNetwork', 'microsoftDefenderForAppService',
		'microsoftDefenderForKeyVault', 'microsoftDefenderForResourceManager', 'microsoftDefenderForApiManagement',
	]),
};

const invert = (m: Record<string, string>): Record<string, string> => {
	const out: Record<string, string> = {};
	for (const [k, v] of Object.entries(m)) if (!(v in out)) out[v] = k;
	return out;
};
const FROM_STATUS = invert(STATUS);
const FROM_CLASSIFICATION = invert(CLASSIFICATION);
const FROM_DETERMINATION: Record<'sdk' | 'table', Record<string, string>> = {
	sdk: { ...invert(DETERMINATION.sdk), clean: 'Clean', confirmedUserActivity: 'ConfirmedUserActivity' },
	table: { ...invert(DETERMINATION.table), notMalicious: 'Clean', confirmedActivity: 'ConfirmedUserActivity' },
};

const DOCUMENTED_FILTER: readonly FieldDef[] = [
	{ name: 'assignedTo', type: 'string' },
	{ name: 'classification', type: 'string' },
	{ name: 'determination', type: 'string' },
	{ name: 'createdDateTime', type: 'datetime' },
	{ name: 'lastUpdateDateTime', type: 'datetime' },
	{ name: 'severity', type: 'string' },
	{ name: 'serviceSource', type: 'string' },
	{ name: 'status', type: 'string' },
];
const OPTIONAL_FILTER: Record<string, FieldDef> = {
	category: { name: 'category', type: 'string' },
	incidentId: { name: 'incidentId', type: 'string' },
	detectionSource: { name: 'detectionSource', type: 'string' },
	providerAlertId: { name: 'providerAlertId', type: 'string' },
	title: { name: 'title', type: 'string' },
};
const ORDER_FIELDS = ['createdDateTime', 'lastUpdateDateTime'];
const PATCH_FIELDS = ['status', 'classification', 'determination', 'assignedTo', '@odata.type'];

export interface GraphRequest {
	method: string;
	host: string;
	/** segments after `/v1.0` */
	segments: string[];
	query: URLSearchParams;
	body: Buffer;
	contentType: string;
	authorization: string | undefined;
	prefer: string | undefined;
	clientRequestId?: string;
}

export interface GraphOutcome {
	reply: Reply;
	tenantId?: string;
	clientId?: string;
	endpointClass?: 'graphAlerts';
}

interface Principal {
	tenantId: string;
	clientId: string;
	roles: string[];
}

/** A Graph-only alert (another Defender XDR source): stored in its Graph shape. */
interface GraphOnlyAlert {
	seq: number;
	alert: Record<string, unknown>;
	createdTicks: bigint;
	updatedTicks: bigint;
}

/** One entry of the list: a Defender alert seen through Graph, or a Graph-only one. */
type Entry = { kind: 'mde'; stored: StoredAlert } | { kind: 'graph'; stored: GraphOnlyAlert };

export interface SubRequestLogEntry {
	seq: number;
	tenantId: string;
	method: string;
	url: string;
	status: number;
}

class GraphError extends Error {
	constructor(
		readonly status: number,
		readonly code: string,
		message: string,
		readonly headers: Record<string, string> = {},
	) {
		super(message);
	}
}

const lowerFirst = (v: string) => (v ? v.charAt(0).toLowerCase() + v.slice(1) : v);

export class GraphService {
	settings: GraphSettings = { ...DEFAULT_GRAPH_SETTINGS };
	private readonly graphOnly = new Map<string, GraphOnlyAlert[]>();
	private seq = 1_000_000_000;
	private forcedThrottles = 0;
	private forcedRetryAfter = 1;
	private readonly subLog: SubRequestLogEntry[] = [];
	private subSeq = 0;

	constructor(
		private readonly directory: Directory,
		private readonly signer: JwtSigner,
		private readonly clock: EmulatorClock,
		private readonly limiter: RateLimiter,
		private readonly storeFor: (tenantId: string) => TenantStore,
		private readonly tenantOf: (idOrDomain: string) => string | undefined,
	) {
		this.hunting = new HuntingService(clock, storeFor);
		this.incidents = new IncidentService({
			clock,
			limiter,
			storeFor,
			tenantOf,
			renderAlert: (stored, include) => this.render({ kind: 'mde', stored }, include),
			determinationSpelling: () => this.settings.determinationSpelling,
		});
	}

	/** Advanced hunting (`POST /v1.0/security/runHuntingQuery`, hunting.ts) on the same stores, after the same auth. */
	readonly hunting: HuntingService;
	/** Security incidents (`/v1.0/security/incidents…`, incidents.ts) on the same stores, token checks and rate limiter. */
	readonly incidents: IncidentService;

	/** Change settings; `enabled` adds or removes the Graph resources the token endpoint issues tokens for. */
	configure(partial: Partial<GraphSettings>): GraphSettings {
		this.settings = { ...this.settings, ...partial };
		const others = this.directory.otherResources.filter((r) => !GRAPH_RESOURCES.includes(r));
		this.directory.otherResources = this.settings.enabled ? [...others, ...GRAPH_RESOURCES.filter((r) => r.startsWith('https://'))] : others;
		return { ...this.settings };
	}

	reset(): void {
		this.graphOnly.clear();
		this.forcedThrottles = 0;
		this.subLog.length = 0;
		this.hunting.reset();
		this.incidents.reset();
		this.configure({ ...DEFAULT_GRAPH_SETTINGS, enabled: this.settings.enabled });
	}

	/** The next `count` sub-requests of any $batch answer 429 with this Retry-After (deterministic throttling). */
	throttleSubRequests(count: number, retryAfterSeconds = 1): void {
		this.forcedThrottles = count;
		this.forcedRetryAfter = retryAfterSeconds;
	}

	/** Sub-requests the $batch endpoint handled (each with its own status), oldest first. */
	subRequests(filter: { tenantId?: string; sinceSeq?: number } = {}): SubRequestLogEntry[] {
		return this.subLog.filter((e) => (filter.tenantId === undefined || e.tenantId === filter.tenantId) && (filter.sinceSeq === undefined || e.seq > filter.sinceSeq));
	}
	lastSubSeq(): number {
		return this.subSeq;
	}

	/** The Graph id of a Defender alert id. */
	graphIdOf(defenderId: string): string {
		return this.settings.idStyle === 'distinct' ? `gr_${defenderId}` : defenderId;
	}

	/** Add Graph-only alerts (other service sources); fields given win, the rest is generated. */
	addGraphAlerts(tenant: string, inputs: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
		const tenantId = this.tenantOf(tenant);
		if (!tenantId) throw new Error(`Unknown tenant ${tenant}`);
		const list = this.graphOnly.get(tenantId) ?? [];
		this.graphOnly.set(tenantId, list);
		return inputs.map((input) => {
			const ticks = this.clock.writeTicks();
			const created = typeof input.createdDateTime === 'string' ? input.createdDateTime : fromTicks(ticks);
			const id = typeof input.id === 'string' ? input.id : `fa${guid().replace(/-/g, '').slice(0, 30)}`;
			const alert: Record<string, unknown> = {
				'@odata.type': '#microsoft.graph.security.alert',
				id,
				providerAlertId: id,
				incidentId: String(9000 + list.length),
				status: 'new',
				severity: 'medium',
				classification: 'unknown',
				determination: 'unknown',
				serviceSource: 'microsoftDefenderForOffice365',
				detectionSource: 'microsoftDefenderForOffice365',
				detectorId: guid(),
				tenantId,
				title: 'Email messages containing malicious URL removed after delivery',
				description: 'Emails with malicious URL that were delivered and later removed',
				recommendedActions: '',
				category: 'InitialAccess',
				assignedTo: null,
				alertWebUrl: `https://security.microsoft.com/alerts/${id}?tid=${tenantId}`,
				incidentWebUrl: `https://security.microsoft.com/incidents/${9000 + list.length}?tid=${tenantId}`,
				actorDisplayName: null,
				threatDisplayName: null,
				threatFamilyName: null,
				mitreTechniques: [],
				createdDateTime: created,
				lastUpdateDateTime: created,
				resolvedDateTime: null,
				firstActivityDateTime: created,
				lastActivityDateTime: created,
				comments: [],
				evidence: [],
				systemTags: [],
				...structuredClone(input),
			};
			const stored: GraphOnlyAlert = { seq: ++this.seq, alert, createdTicks: toTicks(String(alert.createdDateTime)), updatedTicks: toTicks(String(alert.lastUpdateDateTime)) };
			list.push(stored);
			return structuredClone(alert);
		});
	}

	// ============================================================================================ pipeline

	handle(req: GraphRequest): GraphOutcome {
		let principal: Principal;
		try {
			principal = this.authenticate(req);
		} catch (error) {
			return { reply: this.errorReply(error, req) };
		}
		const base = { tenantId: principal.tenantId, clientId: principal.clientId };
		const s = req.segments;
		if (isHuntingPath(s)) return { ...base, reply: this.hunting.handle(req, principal) };
		if (s.length === 1 && s[0] === '$batch') {
			if (req.method !== 'POST') return { ...base, reply: this.errorReply(new GraphError(405, 'MethodNotAllowed', 'Only POST is supported for $batch.'), req) };
			try {
				return { ...base, reply: this.batch(req, principal) };
			} catch (error) {
				return { ...base, reply: this.errorReply(error, req) };
			}
		}
		const answer = IncidentService.handles(s)
			? this.incidents.route(req.method, s, req.query, this.parseBody(req), req.prefer, principal, req.host)
			: this.route(req.method, s, req.query, this.parseBody(req), req.prefer, principal, req.host);
		const reply = answer.status >= 400 ? this.errorReply(new GraphError(answer.status, String((answer.body as { error?: { code?: string } })?.error?.code ?? 'Error'), String((answer.body as { error?: { message?: string } })?.error?.message ?? ''), answer.headers), req) : jsonReply(answer.status, answer.body, answer.headers);
		return { ...base, endpointClass: answer.endpointClass, reply };
	}

	private parseBody(req: GraphRequest): unknown {
		const text = req.body.toString('utf8').trim();
		if (!text) return undefined;
		const mediaType = req.contentType.split(';')[0].trim().toLowerCase();
		if (mediaType !== 'application/json') return new GraphError(415, 'UnsupportedMediaType', `Content-Type must be application/json (received '${req.contentType || 'none'}').`);
		try {
			return JSON.parse(text) as unknown;
		} catch {
			return new GraphError(400, 'BadRequest', 'Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid JSON format.');
		}
	}

	private errorReply(error: unknown, req: { clientRequestId?: string }): Reply {
		const e = error instanceof GraphError ? error : new GraphError(500, 'InternalServerError', error instanceof Error ? error.message : String(error));
		const requestId = guid();
		const reply = jsonReply(
			e.status,
			{ error: { code: e.code, message: e.message, innerError: { date: new Date(this.clock.nowMs()).toISOString().replace(/\.\d+Z$/, ''), 'request-id': requestId, 'client-request-id': req.clientRequestId ?? requestId } } },
			{ 'request-id': requestId, ...e.headers },
		);
		reply.errorCode = e.code;
		return reply;
	}

	// ============================================================================================ auth

	private authenticate(req: GraphRequest): Principal {
		const challenge = { 'www-authenticate': 'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", client_id="00000003-0000-0000-c000-000000000000"' };
		const invalid = (message: string) => new GraphError(401, 'InvalidAuthenticationToken', message, challenge);
		const header = req.authorization?.trim();
		if (!header) throw invalid('Access token is empty.');
		const m = /^Bearer\s+(\S+)$/i.exec(header);
		if (!m) throw invalid('Access token is empty.');
		const verified = this.signer.verify(m[1]);
		if (!verified.ok) throw invalid('IDX14100: JWT is not well formed.');
		const claims = verified.payload;
		const now = this.clock.nowSeconds();
		if (typeof claims.exp !== 'number' || typeof claims.nbf !== 'number' || now > claims.exp + 5 || now + 5 < claims.nbf) {
			throw invalid('Lifetime validation failed, the token is expired.');
		}
		const tid = typeof claims.tid === 'string' ? claims.tid : '';
		const tenant = tid ? this.directory.findTenant(tid) : undefined;
		if (!tenant || tenant.id !== tid || claims.iss !== `https://sts.windows.net/${tid}/`) throw invalid('Access token validation failure. Invalid issuer.');
		const appid = typeof claims.appid === 'string' ? claims.appid : '';
		const status = this.directory.tokenStatus(claims.uti);
		if (!appid || status !== 'valid') throw invalid('Access token validation failure.');
		const aud = typeof claims.aud === 'string' ? claims.aud.replace(/\/+$/, '').toLowerCase() : '';
		if (!GRAPH_RESOURCES.includes(aud)) {
			if (this.settings.wrongAudienceStatus === 403) throw new GraphError(403, 'Forbidden', `The access token audience '${String(claims.aud)}' is not valid for Microsoft Graph.`);
			throw invalid('Access token validation failure. Invalid audience.');
		}
		const roles = Array.isArray(claims.roles) ? claims.roles.filter((r): r is string => typeof r === 'string') : [];
		return { tenantId: tid, clientId: appid.toLowerCase(), roles };
	}

	private needRoles(principal: Principal, roles: string[]): void {
		if (!roles.some((r) => principal.roles.includes(r))) {
			throw new GraphError(403, 'Forbidden', `Missing role permissions on the request. API requires one of '${roles.join(', ')}'. Roles on the request '${principal.roles.join(', ')}'.`);
		}
	}

	private rateLimit(principal: Principal): void {
		const decision = this.limiter.check(principal.clientId, principal.tenantId, 'graphAlerts');
		if (!decision.ok) {
			throw new GraphError(429, 'TooManyRequests', 'Too many requests.', { 'retry-after': String(decision.retryAfterSeconds) });
		}
	}

	// ============================================================================================ routing

	/** One request (direct, or a $batch sub-request): status, headers, body. Never throws. */
	private route(
		method: string,
		segments: string[],
		query: URLSearchParams,
		body: unknown,
		prefer: string | undefined,
		principal: Principal,
		host: string,
	): { status: number; headers: Record<string, string>; body: unknown; endpointClass?: 'graphAlerts' } {
		const fail = (e: unknown, endpointClass?: 'graphAlerts') => {
			const g = e instanceof GraphError ? e : e instanceof ODataQueryError ? new GraphError(400, 'BadRequest', e.message.replace(/microsoft\.windowsDefenderATP\.api\.PublicAlert/g, 'microsoft.graph.security.alert')) : new GraphError(500, 'InternalServerError', e instanceof Error ? e.message : String(e));
			return { status: g.status, headers: g.headers, body: { error: { code: g.code, message: g.message } }, endpointClass };
		};
		const lower = segments.map((x) => x.toLowerCase());
		if (lower[0] !== 'security' || lower[1] !== 'alerts_v2' || segments.length > 4) {
			return fail(new GraphError(400, 'BadRequest', `Resource not found for the segment '${segments[segments.length - 1] ?? ''}'.`));
		}
		const include = (prefer ?? '').split(',').some((p) => p.trim().toLowerCase() === 'include-unknown-enum-members');
		const headers: Record<string, string> = include ? { 'preference-applied': 'include-unknown-enum-members' } : {};
		try {
			if (body instanceof GraphError) throw body;
			this.rateLimit(principal);
			const store = this.storeFor(principal.tenantId);
			if (segments.length === 2) {
				if (method !== 'GET') throw new GraphError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
				this.needRoles(principal, GRAPH_READ_ROLES);
				return { status: 200, headers, body: this.list(query, principal.tenantId, store, include, host), endpointClass: 'graphAlerts' };
			}
			const id = segments[2];
			const entry = this.find(principal.tenantId, store, id);
			if (segments.length === 3) {
				if (method === 'GET') {
					this.needRoles(principal, GRAPH_READ_ROLES);
					if (!entry) throw this.notFound(id);
					return { status: 200, headers, body: { '@odata.context': `https://${host}/v1.0/$metadata#security/alerts_v2/$entity`, ...this.render(entry, include) }, endpointClass: 'graphAlerts' };
				}
				if (method === 'PATCH') {
					this.needRoles(principal, GRAPH_WRITE_ROLES);
					if (!entry) throw this.notFound(id);
					this.patch(entry, store, body);
					return { status: 200, headers, body: this.render(entry, include), endpointClass: 'graphAlerts' };
				}
				throw new GraphError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
			}
			if (lower[3] === 'comments') {
				if (method !== 'POST') throw new GraphError(405, 'MethodNotAllowed', `The requested resource does not support http method '${method}'.`);
				this.needRoles(principal, GRAPH_WRITE_ROLES);
				if (!entry) throw this.notFound(id);
				const comments = this.comment(entry, store, body, principal);
				return {
					status: 200,
					headers,
					body: { '@odata.context': `https://${host}/v1.0/$metadata#Collection(microsoft.graph.security.alertComment)`, value: comments },
					endpointClass: 'graphAlerts',
				};
			}
			throw new GraphError(400, 'BadRequest', `Resource not found for the segment '${segments[3]}'.`);
		} catch (error) {
			return fail(error, 'graphAlerts');
		}
	}

	private notFound(id: string): GraphError {
		return new GraphError(404, 'NotFound', `Alert with id '${id}' was not found.`);
	}

	private find(tenantId: string, store: TenantStore, id: string): Entry | undefined {
		const defenderId = this.settings.idStyle === 'distinct' ? (id.startsWith('gr_') ? id.slice(3) : undefined) : id;
		if (defenderId !== undefined) {
			const stored = store.byId.get(defenderId);
			if (stored && store.isVisible(stored, this.clock.nowTicks())) return { kind: 'mde', stored };
		}
		const other = this.graphOnly.get(tenantId)?.find((g) => g.alert.id === id);
		return other ? { kind: 'graph', stored: other } : undefined;
	}

	// ============================================================================================ list

	private entries(tenantId: string, store: TenantStore): Entry[] {
		const now = this.clock.nowTicks();
		const out: Entry[] = [];
		for (const s of store.alerts) if (store.isVisible(s, now)) out.push({ kind: 'mde', stored: s });
		for (const g of this.graphOnly.get(tenantId) ?? []) out.push({ kind: 'graph', stored: g });
		return out;
	}

	private seqOf(e: Entry): number {
		return e.stored.seq;
	}

	private ticksOf(e: Entry, field: string): bigint {
		if (field === 'createdDateTime') return e.stored.createdTicks;
		return e.stored.updatedTicks;
	}

	private fieldValue(e: Entry, name: string, include: boolean): unknown {
		if (name === 'createdDateTime' || name === 'lastUpdateDateTime') return this.ticksOf(e, name);
		if (e.kind === 'graph') return this.evolvable(name, e.stored.alert[name], include);
		const a = e.stored.alert;
		switch (name) {
			case 'status':
				return STATUS[a.status] ?? lowerFirst(a.status);
			case 'severity':
				return SEVERITY[a.severity] ?? lowerFirst(a.severity);
			case 'classification':
				return a.classification ? (CLASSIFICATION[a.classification] ?? lowerFirst(a.classification)) : 'unknown';
			case 'determination':
				return a.determination ? (DETERMINATION[this.settings.determinationSpelling][a.determination] ?? lowerFirst(a.determination)) : 'unknown';
			case 'serviceSource':
				return 'microsoftDefenderForEndpoint';
			case 'detectionSource':
				return DETECTION_SOURCE[a.detectionSource] ?? 'unknown';
			case 'assignedTo':
				return a.assignedTo;
			case 'category':
				return a.category;
			case 'incidentId':
				return a.incidentId === null ? null : String(a.incidentId);
			case 'providerAlertId':
				return a.id;
			case 'title':
				return a.title;
			default:
				return undefined;
		}
	}

	private evolvable(name: string, value: unknown, include: boolean): unknown {
		if (!include && typeof value === 'string' && EVOLVABLE[name]?.has(value)) return 'unknownFutureValue';
		return value;
	}

	private list(query: URLSearchParams, tenantId: string, store: TenantStore, include: boolean, host: string): Record<string, unknown> {
		const known = new Set(['$filter', '$top', '$skip', '$orderby', '$count', '$skiptoken']);
		for (const key of query.keys()) {
			if (key.startsWith('$') && !known.has(key)) throw new GraphError(400, 'BadRequest', `Query option '${key}' is not allowed. Allowed: ${[...known].join(', ')}.`);
		}
		const fields = [...DOCUMENTED_FILTER, ...this.settings.extraFilterable.map((f) => OPTIONAL_FILTER[f]).filter((f): f is FieldDef => !!f)];
		const filterText = query.get('$filter');
		let filter;
		try {
			filter = filterText ? parseFilter(filterText, fields) : undefined;
		} catch (error) {
			if (error instanceof ODataQueryError) throw new GraphError(400, 'BadRequest', `Invalid filter clause: ${error.message.replace(/microsoft\.windowsDefenderATP\.api\.PublicAlert/g, 'microsoft.graph.security.alert')}`);
			throw error;
		}
		const orderText = query.get('$orderby');
		if (orderText !== null && !this.settings.orderBy) throw new GraphError(400, 'BadRequest', 'The query specified in the URI is not valid. $orderby is not supported on alerts_v2.');
		const order = orderText ? parseOrderBy(orderText, ORDER_FIELDS) : [];
		const topText = query.get('$top');
		const top = topText === null ? this.settings.maxPageSize : Number(topText);
		if (!/^\d+$/.test(topText ?? '0') || top < 0) throw new GraphError(400, 'BadRequest', `Invalid value '${topText}' for $top query option found.`);
		if (top > this.settings.maxPageSize) throw new GraphError(400, 'BadRequest', `The limit of '${this.settings.maxPageSize}' for Top query has been exceeded. The value from the incoming request is '${topText}'.`);
		const skipText = query.get('$skip');
		const skip = skipText === null ? 0 : Number(skipText);
		if (!/^\d+$/.test(skipText ?? '0')) throw new GraphError(400, 'BadRequest', `Invalid value '${skipText}' for $skip query option found.`);

		let items = this.entries(tenantId, store).filter((e) => !filter || evaluateFilter(filter, (f) => this.fieldValue(e, f.name, include)));
		const compare = (a: Entry, b: Entry): number => {
			for (const o of order) {
				const ta = this.ticksOf(a, o.field);
				const tb = this.ticksOf(b, o.field);
				if (ta !== tb) return (ta < tb ? -1 : 1) * (o.desc ? -1 : 1);
			}
			return this.seqOf(a) - this.seqOf(b);
		};
		if (order.length) items = items.sort(compare);
		else if (this.settings.defaultOrder === 'newestFirst') items = items.sort((a, b) => this.seqOf(b) - this.seqOf(a));
		else if (this.settings.defaultOrder === 'hashed') items = items.sort((a, b) => hashOrder(this.seqOf(a)) - hashOrder(this.seqOf(b)) || this.seqOf(a) - this.seqOf(b));
		const total = items.length;
		const token = query.get('$skiptoken');
		if (token) {
			let after: { t: string; s: number };
			try {
				after = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { t: string; s: number };
			} catch {
				throw new GraphError(400, 'BadRequest', 'Invalid $skiptoken.');
			}
			const o = order[0];
			items = items.filter((e) => {
				if (!o) return this.seqOf(e) > after.s;
				const t = this.ticksOf(e, o.field);
				const at = BigInt(after.t);
				if (t !== at) return o.desc ? t < at : t > at;
				return this.seqOf(e) > after.s;
			});
		}
		const page = items.slice(skip, skip + top);
		const body: Record<string, unknown> = { '@odata.context': `https://${host}/v1.0/$metadata#security/alerts_v2` };
		if ((query.get('$count') ?? '').toLowerCase() === 'true') body['@odata.count'] = total;
		body.value = page.map((e) => this.render(e, include));
		if (this.settings.nextLink !== 'none' && items.length > skip + top && top > 0) {
			const params: string[] = [];
			for (const [k, v] of query) {
				if (k === '$skip' || k === '$skiptoken') continue;
				params.push(`${encodeURIComponent(k).replace(/%24/g, '$')}=${encodeURIComponent(v)}`);
			}
			if (this.settings.nextLink === 'skip') {
				params.push(`$skip=${skip + top}`);
			} else {
				const last = page[page.length - 1];
				const o = order[0];
				params.push(`$skiptoken=${Buffer.from(JSON.stringify({ t: o ? String(this.ticksOf(last, o.field)) : '0', s: this.seqOf(last) })).toString('base64url')}`);
			}
			body['@odata.nextLink'] = `https://${host}/v1.0/security/alerts_v2?${params.join('&')}`;
		}
		return body;
	}

	// ============================================================================================ render

	/** A Defender alert (or a Graph-only one) in Graph's alert shape. */
	render(e: Entry, include: boolean): Record<string, unknown> {
		if (e.kind === 'graph') {
			const copy = structuredClone(e.stored.alert);
			copy.serviceSource = this.evolvable('serviceSource', copy.serviceSource, include);
			copy.detectionSource = this.evolvable('detectionSource', copy.detectionSource, include);
			return copy;
		}
		const a = e.stored.alert;
		const store = this.storeFor(a.aadTenantId);
		const id = this.graphIdOf(a.id);
		return {
			'@odata.type': '#microsoft.graph.security.alert',
			id,
			providerAlertId: a.id,
			incidentId: a.incidentId === null ? null : String(a.incidentId),
			status: this.fieldValue(e, 'status', include),
			severity: this.fieldValue(e, 'severity', include),
			classification: this.fieldValue(e, 'classification', include),
			determination: this.fieldValue(e, 'determination', include),
			serviceSource: 'microsoftDefenderForEndpoint',
			detectionSource: this.fieldValue(e, 'detectionSource', include),
			detectorId: a.detectorId,
			tenantId: a.aadTenantId,
			title: a.title,
			description: a.description,
			recommendedActions: '',
			category: a.category,
			assignedTo: a.assignedTo,
			alertWebUrl: `https://security.microsoft.com/alerts/${a.id}?tid=${a.aadTenantId}`,
			incidentWebUrl: a.incidentId === null ? null : `https://security.microsoft.com/incidents/${a.incidentId}?tid=${a.aadTenantId}`,
			actorDisplayName: null,
			threatDisplayName: a.threatName,
			threatFamilyName: a.threatFamilyName,
			mitreTechniques: [...a.mitreTechniques],
			createdDateTime: a.alertCreationTime,
			lastUpdateDateTime: a.lastUpdateTime,
			resolvedDateTime: a.resolvedTime,
			firstActivityDateTime: a.firstEventTime,
			lastActivityDateTime: a.lastEventTime,
			comments: a.comments.map((c) => ({ comment: c.comment, createdByDisplayName: c.createdBy, createdDateTime: c.createdTime })),
			evidence: this.evidence(a, store.machine(a.machineId)),
			systemTags: [],
		};
	}

	private evidence(a: Alert, machine: Machine | undefined): Array<Record<string, unknown>> {
		const base = (type: string, created: string | null) => ({
			'@odata.type': `#microsoft.graph.security.${type}`,
			createdDateTime: created ?? a.alertCreationTime,
			verdict: 'suspicious',
			remediationStatus: 'none',
			remediationStatusDetails: null,
			roles: [],
			detailedRoles: [],
			tags: [],
		});
		const out: Array<Record<string, unknown>> = [];
		if (a.machineId) {
			out.push({
				...base('deviceEvidence', a.alertCreationTime),
				mdeDeviceId: a.machineId,
				deviceDnsName: a.computerDnsName,
				azureAdDeviceId: machine?.aadDeviceId ?? null,
				osPlatform: machine?.osPlatform ?? null,
				osBuild: machine?.osBuild ?? null,
				version: machine?.version ?? null,
				healthStatus: machine ? lowerFirst(machine.healthStatus) : null,
				riskScore: machine ? lowerFirst(machine.riskScore) : null,
				rbacGroupId: machine?.rbacGroupId ?? null,
				rbacGroupName: a.rbacGroupName ?? machine?.rbacGroupName ?? null,
				onboardingStatus: machine ? lowerFirst(machine.onboardingStatus) : null,
				defenderAvStatus: machine ? lowerFirst(machine.defenderAvStatus) : null,
				ipInterfaces: machine ? machine.ipAddresses.map((i) => i.ipAddress) : [],
				loggedOnUsers: [],
				firstSeenDateTime: machine?.firstSeen ?? null,
				tags: machine ? [...machine.machineTags] : [],
			});
		}
		const account = (e: Pick<AlertEvidence, 'accountName' | 'domainName' | 'userSid' | 'aadUserId' | 'userPrincipalName'>) => ({
			accountName: e.accountName,
			domainName: e.domainName,
			userSid: e.userSid,
			azureAdUserId: e.aadUserId,
			userPrincipalName: e.userPrincipalName,
			displayName: null,
		});
		// The alert's user first (Defender's relatedUser), as its userEvidence.
		const related = a.relatedUser;
		const userEvidence = a.evidence.find((e) => e.entityType === 'User' && related && e.accountName === related.userName);
		if (related) {
			out.push({
				...base('userEvidence', userEvidence?.evidenceCreationTime ?? null),
				userAccount: userEvidence ? account(userEvidence) : { accountName: related.userName, domainName: related.domainName, userSid: null, azureAdUserId: null, userPrincipalName: null, displayName: null },
			});
		}
		for (const e of a.evidence) {
			const detection = e.detectionStatus ? lowerFirst(e.detectionStatus) : null;
			switch (e.entityType) {
				case 'File':
					out.push({ ...base('fileEvidence', e.evidenceCreationTime), detectionStatus: detection, mdeDeviceId: a.machineId, fileDetails: { sha1: e.sha1, sha256: e.sha256, fileName: e.fileName, filePath: e.filePath, fileSize: null, filePublisher: null, signer: null, issuer: null } });
					break;
				case 'Process':
					out.push({
						...base('processEvidence', e.evidenceCreationTime),
						processId: e.processId,
						parentProcessId: e.parentProcessId,
						processCommandLine: e.processCommandLine,
						processCreationDateTime: e.processCreationTime,
						parentProcessCreationDateTime: e.parentProcessCreationTime,
						detectionStatus: detection,
						mdeDeviceId: a.machineId,
						imageFile: { sha1: e.sha1, sha256: e.sha256, fileName: e.fileName, filePath: e.filePath, fileSize: null, filePublisher: null, signer: null, issuer: null },
						parentProcessImageFile: { sha1: null, sha256: null, fileName: e.parentProcessFileName, filePath: e.parentProcessFilePath, fileSize: null, filePublisher: null, signer: null, issuer: null },
						userAccount: account(e),
					});
					break;
				case 'User':
					if (e === userEvidence) break;
					out.push({ ...base('userEvidence', e.evidenceCreationTime), userAccount: account(e) });
					break;
				case 'Ip':
					out.push({ ...base('ipEvidence', e.evidenceCreationTime), ipAddress: e.ipAddress, countryLetterCode: null });
					break;
				case 'Url':
					out.push({ ...base('urlEvidence', e.evidenceCreationTime), url: e.url });
					break;
				case 'Registry':
					out.push({ ...base('registryKeyEvidence', e.evidenceCreationTime), registryKey: e.registryKey, registryHive: e.registryHive });
					break;
				default:
					break;
			}
		}
		return out;
	}

	// ============================================================================================ writes

	private patch(e: Entry, store: TenantStore, body: unknown): void {
		if (!isPlainObject(body)) throw new GraphError(400, 'BadRequest', 'A JSON object is expected.');
		for (const key of Object.keys(body)) {
			if (!PATCH_FIELDS.includes(key)) throw new GraphError(400, 'BadRequest', `The property '${key}' does not exist on type 'microsoft.graph.security.alert' or cannot be updated.`);
		}
		const spelling = this.settings.determinationSpelling;
		const enumField = (name: string, allowed: string[]): string | undefined => {
			if (!(name in body)) return undefined;
			const v = body[name];
			if (typeof v !== 'string' || !allowed.includes(v)) {
				throw new GraphError(400, 'BadRequest', `Invalid value '${String(v)}' for property '${name}'. Allowed: ${allowed.join(', ')}.`);
			}
			return v;
		};
		const status = enumField('status', ['new', 'inProgress', 'resolved']);
		const classification = enumField('classification', ['unknown', ...Object.values(CLASSIFICATION)]);
		const determination = enumField('determination', ['unknown', ...new Set(Object.values(DETERMINATION[spelling])), 'apt', 'securityPersonnel']);
		if ('assignedTo' in body && body.assignedTo !== null && typeof body.assignedTo !== 'string') throw new GraphError(400, 'BadRequest', "'assignedTo' must be a string.");
		const ticks = this.clock.writeTicks();
		if (e.kind === 'graph') {
			const g = e.stored.alert;
			if (status !== undefined) {
				g.status = status;
				g.resolvedDateTime = status === 'resolved' ? fromTicks(ticks) : null;
			}
			if (classification !== undefined) g.classification = classification;
			if (determination !== undefined) g.determination = determination;
			if ('assignedTo' in body) g.assignedTo = body.assignedTo;
			g.lastUpdateDateTime = trimFraction(fromTicks(ticks));
			e.stored.updatedTicks = ticks;
			return;
		}
		const a = e.stored.alert;
		if (status !== undefined) {
			a.status = FROM_STATUS[status];
			a.resolvedTime = a.status === 'Resolved' ? fromTicks(ticks) : null;
		}
		if (classification !== undefined) a.classification = classification === 'unknown' ? null : FROM_CLASSIFICATION[classification];
		if (determination !== undefined) {
			a.determination = determination === 'unknown' ? null : (FROM_DETERMINATION[spelling][determination] ?? (determination === 'apt' ? 'Apt' : 'SecurityPersonnel'));
		}
		if ('assignedTo' in body) a.assignedTo = body.assignedTo as string | null;
		store.setLastUpdate(e.stored, trimFraction(fromTicks(ticks)));
	}

	private comment(e: Entry, store: TenantStore, body: unknown, principal: Principal): Array<Record<string, unknown>> {
		if (!isPlainObject(body) || typeof body.comment !== 'string' || body.comment.trim() === '') {
			throw new GraphError(400, 'BadRequest', "The request body must be an alertComment with a non-empty 'comment'.");
		}
		const ticks = this.clock.writeTicks();
		const created = fromTicks(ticks);
		if (e.kind === 'graph') {
			const list = e.stored.alert.comments as Array<Record<string, unknown>>;
			list.push({ comment: body.comment, createdByDisplayName: principal.clientId, createdDateTime: created });
			e.stored.alert.lastUpdateDateTime = trimFraction(created);
			e.stored.updatedTicks = ticks;
			return structuredClone(list);
		}
		const a = e.stored.alert;
		a.comments.push({ comment: body.comment, createdBy: principal.clientId, createdTime: created });
		store.setLastUpdate(e.stored, trimFraction(created));
		return a.comments.map((c) => ({ '@odata.type': '#microsoft.graph.security.alertComment', comment: c.comment, createdByDisplayName: c.createdBy, createdDateTime: c.createdTime }));
	}

	// ============================================================================================ $batch

	private batch(req: GraphRequest, principal: Principal): Reply {
		const body = this.parseBody(req);
		if (body instanceof GraphError) throw body;
		if (!isPlainObject(body) || !Array.isArray(body.requests)) throw new GraphError(400, 'BadRequest', "The request body must be a JSON object with a 'requests' array.");
		const requests = body.requests as unknown[];
		if (requests.length === 0) throw new GraphError(400, 'BadRequest', 'The batch contains no requests.');
		if (requests.length > this.settings.maxBatch) throw new GraphError(400, 'BadRequest', `Number of batch requests exceeds the maximum of ${this.settings.maxBatch}.`);
		const ids = new Set<string>();
		for (const r of requests) {
			if (!isPlainObject(r) || typeof r.id !== 'string' || typeof r.method !== 'string' || typeof r.url !== 'string') {
				throw new GraphError(400, 'BadRequest', "Every batch request needs 'id', 'method' and 'url'.");
			}
			if (ids.has(r.id)) throw new GraphError(400, 'BadRequest', `Batch request ids must be unique: '${r.id}' is repeated.`);
			ids.add(r.id);
			if (/^https?:/i.test(r.url)) throw new GraphError(400, 'BadRequest', `Batch request '${r.id}': the url must be relative to the version (e.g. /security/alerts_v2).`);
		}
		const statuses = new Map<string, number>();
		const responses: Array<Record<string, unknown>> = [];
		for (const raw of requests as Array<Record<string, unknown>>) {
			const id = raw.id as string;
			const method = (raw.method as string).toUpperCase();
			const url = new URL((raw.url as string).replace(/^\/?(v1\.0\/)?/i, '/'), 'https://graph.invalid');
			const headers = isPlainObject(raw.headers) ? Object.fromEntries(Object.entries(raw.headers).map(([k, v]) => [k.toLowerCase(), String(v)])) : {};
			const depends = Array.isArray(raw.dependsOn) ? (raw.dependsOn as unknown[]).map(String) : [];
			let answer: { status: number; headers: Record<string, string>; body: unknown };
			if (depends.some((d) => !statuses.has(d) || (statuses.get(d)! < 200 || statuses.get(d)! >= 300))) {
				answer = { status: 424, headers: {}, body: { error: { code: 'FailedDependency', message: `Dependent request(s) ${depends.join(', ')} failed or were not run.` } } };
			} else if (this.forcedThrottles > 0) {
				this.forcedThrottles -= 1;
				answer = { status: 429, headers: { 'retry-after': String(this.forcedRetryAfter) }, body: { error: { code: 'TooManyRequests', message: 'Too many requests.' } } };
			} else {
				let segments: string[];
				try {
					segments = url.pathname.split('/').filter(Boolean).map((s) => decodeURIComponent(s));
				} catch {
					segments = url.pathname.split('/').filter(Boolean);
				}
				const subBody = raw.body === undefined ? undefined : raw.body;
				answer = this.route(method, segments, url.searchParams, subBody, headers.prefer, principal, req.host);
			}
			statuses.set(id, answer.status);
			this.subLog.push({ seq: ++this.subSeq, tenantId: principal.tenantId, method, url: raw.url as string, status: answer.status });
			if (this.subLog.length > 200_000) this.subLog.splice(0, this.subLog.length - 200_000);
			responses.push({
				id,
				status: answer.status,
				headers: { 'content-type': 'application/json', ...answer.headers },
				body: answer.status >= 400 ? { error: { ...((answer.body as { error?: object }).error ?? {}), innerError: { date: new Date(this.clock.nowMs()).toISOString(), 'request-id': guid() } } } : answer.body,
			});
		}
		return jsonReply(200, { responses });
	}
}

/** Control API: `GET|POST /_emulator/graph` (settings), `POST /_emulator/graph/throttle {count, retryAfter}`, `GET /_emulator/graph/sub-requests`, `POST /_emulator/graph/tenants/{tid}/alerts` (Graph-only alerts). */
export function graphControl(service: GraphService, req: { method: string; segments: string[]; query: URLSearchParams; body: Buffer }): Reply {
	const [, what, tenant, sub] = req.segments;
	if (what === 'incidents') {
		const answer = incidentControl(service.incidents, { method: req.method, segments: req.segments.slice(2), body: req.body });
		return jsonReply(answer.status, answer.body);
	}
	if (what === 'hunting') return huntingControl(service.hunting, { ...req, segments: req.segments.slice(2) });
	const text = req.body.toString('utf8').trim();
	const body = text ? (JSON.parse(text) as unknown) : {};
	if (what === undefined) {
		if (req.method === 'GET') return jsonReply(200, service.settings);
		if (req.method === 'POST') {
			if (!isPlainObject(body)) throw new Error('Send a JSON object of Graph settings');
			if (body.reset === true) service.reset();
			const { reset: _reset, ...settings } = body;
			void _reset;
			return jsonReply(200, service.configure(settings as Partial<GraphSettings>));
		}
	}
	if (what === 'throttle' && req.method === 'POST' && isPlainObject(body)) {
		service.throttleSubRequests(Number(body.count ?? 1), Number(body.retryAfter ?? 1));
		return jsonReply(200, { ok: true });
	}
	if (what === 'sub-requests' && req.method === 'GET') {
		const since = req.query.get('sinceSeq');
		return jsonReply(200, { value: service.subRequests({ tenantId: req.query.get('tenantId') ?? undefined, sinceSeq: since === null ? undefined : Number(since) }), lastSeq: service.lastSubSeq() });
	}
	if (what === 'tenants' && tenant && sub === 'alerts' && req.method === 'POST') {
		const list = Array.isArray(body) ? body : isPlainObject(body) && Array.isArray(body.alerts) ? body.alerts : undefined;
		if (!list) throw new Error('Send an array of partial Graph alerts or {alerts:[…]}');
		return jsonReply(200, { value: service.addGraphAlerts(tenant, list as Array<Record<string, unknown>>) });
	}
	throw new Error(`Unknown control endpoint ${req.method} /_emulator/${req.segments.join('/')}`);
}
