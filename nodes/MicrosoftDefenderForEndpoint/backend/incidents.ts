/**
 * Microsoft Graph security incidents (`/v1.0/security/incidents…`), on top of the shared transport. Incidents exist on
 * Microsoft Graph only, so this backend always opens a Graph session (the cloud's Graph host, `/v1.0/`, the Graph token
 * scope) with the credential's app, whatever the credential's Alerts API — as machines and indicators always use the
 * Defender for Endpoint API. Says WHAT each call is; `defenderRequest` does the rest (token, pacing, retries, 429,
 * error mapping, redaction, `Prefer: include-unknown-enum-members`).
 *
 *   List incidents   https://learn.microsoft.com/en-us/graph/api/security-list-incidents   ($filter, $top, $skip, $expand=alerts)
 *   Get incident     https://learn.microsoft.com/en-us/graph/api/security-incident-get
 *   Update incident  https://learn.microsoft.com/en-us/graph/api/security-incident-update (PATCH; returns the incident)
 *   Create comment   https://learn.microsoft.com/en-us/graph/api/security-incident-post-comments (returns the comment list)
 *   Throttling       https://learn.microsoft.com/en-us/graph/throttling-limits#security-detections-and-incidents-service-limits
 *                    (one budget for security detections and incidents: the `graphAlerts` endpoint class)
 *
 * What is not documented is handled both ways, as for alerts_v2: the largest `$top` (50, reported; a smaller limit the
 * service names in its 400 is used instead), `$orderby` (sent; without it, and sorted here page by page, if refused),
 * a `determination` filter (sent; applied here if refused), the determination spelling of PATCH (the resource's names;
 * the Update page's `notMalicious`/`notEnoughDataToValidate` spelling if refused), nextLink (followed on the API's own
 * origin only; without one a full page is followed by `$skip`).
 */
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

import { GRAPH_DETERMINATION_ALTERNATES, type OptionalClause, readGraphListRefusal } from '../core/graphAlerts';
import {
	GRAPH_INCIDENT_MAX_PAGE_SIZE,
	type IncidentPatch,
	type IncidentTimeField,
	type IncidentWhere,
	incidentFilterPlan,
	incidentOrderBy,
	incidentPatchBody,
	mergeCustomTags,
} from '../core/graphIncidents';
import { isGuid } from '../core/ids';
import { decodeTokenClaims } from '../core/jwt';
import { GRAPH_INCIDENT_READ_ROLES, GRAPH_INCIDENT_WRITE_ROLES } from '../helpers/permissions';
import { type ApiRequest, type DefenderContext, type DefenderSession, defenderRequest, describeFailure, openSession, sessionToken } from '../transport/request';
import { addHints } from './hints';
import { type BackendTarget, validatedTarget } from './index';
import type { BackendOptions } from './mde';
import { queryError } from './query';
import type { TokenInfo } from './types';
import { nodeError, stripContext } from './entities';

export type IncidentRecord = { id: string; [key: string]: unknown };

/** A list query: the trigger asks `where.createdAfter` (or `updatedAfter`) with `orderBy` on the same field, ascending. */
export interface IncidentListQuery {
	where?: IncidentWhere;
	/** `$orderby <field> <direction>` (direction default asc) */
	orderBy?: { field: IncidentTimeField; direction?: 'asc' | 'desc' };
	/** page size; at most GRAPH_INCIDENT_MAX_PAGE_SIZE is sent */
	top: number;
	skip?: number;
	/** `$expand=alerts`: each incident carries its alerts (alerts_v2 shape) */
	expandAlerts?: boolean;
}

/** One page as the API answered it. */
export interface IncidentPage {
	/** the incidents of the page, after any filter applied here (see `local`) */
	value: IncidentRecord[];
	/** how many incidents the API returned for this page (what a following `$skip` counts) */
	received: number;
	/** the page size that was sent (`$top`) */
	top: number;
	/** the API's `@odata.nextLink`, if any */
	nextLink?: string;
	/** filters applied here because the service refused them (then `value` may be shorter than `received`) */
	local: string[];
	/** false when the service refused `$orderby`: the page is sorted here, the pages are not ordered among themselves */
	ordered: boolean;
}

export interface IncidentBackend {
	readonly name: 'graph';
	/** tenant the calls go to (GUID or domain, as configured) */
	readonly tenantId: string;
	/** largest `$top` sent (50, or less once the service named a smaller limit) */
	readonly maxPageSize: number;
	/** hints shown in the output (e.g. a Region that does not apply) */
	readonly notices: string[];
	/** one request; the page with what the trigger needs to page on (`received`, `ordered`) */
	listIncidentPage(query: IncidentListQuery): Promise<IncidentPage>;
	/** one request; the incidents only */
	listIncidents(query: IncidentListQuery): Promise<IncidentRecord[]>;
	/** pages until `limit` (Infinity: all) are read: @odata.nextLink on the API's own origin, else `$skip` */
	pages(query: Omit<IncidentListQuery, 'top' | 'skip'>, limit: number): AsyncGenerator<IncidentRecord[]>;
	getIncident(id: string, options?: { expandAlerts?: boolean }): Promise<IncidentRecord>;
	/** PATCH (custom tags Add/Remove read the incident first); returns the incident as the API answered */
	updateIncident(id: string, patch: IncidentPatch): Promise<IncidentRecord>;
	/** POST …/comments, then the incident with its comment list */
	addComment(id: string, comment: string): Promise<IncidentRecord>;
	/** Defender portal link of an incident */
	portalUrl(id: string): string;
	/** the Graph token's roles, tenant GUID, app and audience (no API request) */
	tokenInfo(): Promise<TokenInfo>;
}

type Session = DefenderSession & { data: ICredentialDataDecryptedObject };
type ListBody = { value?: unknown; '@odata.nextLink'?: unknown };

const INCIDENTS = ['security', 'incidents'];

function recordsOf(body: ListBody | undefined): IncidentRecord[] {
	return Array.isArray(body?.value) ? (body.value as IncidentRecord[]).map((r) => stripContext(r)) : [];
}

function nextLinkOf(body: ListBody | undefined): string | undefined {
	return typeof body?.['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined;
}

function sortBy(records: IncidentRecord[], order: IncidentListQuery['orderBy']): IncidentRecord[] {
	if (!order) return records;
	const sign = order.direction === 'desc' ? -1 : 1;
	const ms = (r: IncidentRecord) => {
		const t = Date.parse(String(r[order.field] ?? ''));
		return Number.isNaN(t) ? 0 : t;
	};
	return [...records].sort((a, b) => sign * (ms(a) - ms(b)));
}

/** The incident backend for one target (region and customer tenant validated as for every backend). */
export async function incidentBackendFor(ctx: DefenderContext, target: BackendTarget): Promise<IncidentBackend> {
	return await graphIncidentBackend(ctx, validatedTarget(ctx, target));
}

export async function graphIncidentBackend(ctx: DefenderContext, options: BackendOptions = {}): Promise<IncidentBackend> {
	const session: Session = await openSession(ctx, { ...options, api: 'graph' });
	const node = ctx.getNode();
	const itemIndex = options.itemIndex;
	const request = async <T>(req: Omit<ApiRequest, 'endpointClass'>): Promise<T> =>
		// One budget for security detections and incidents (transport/pacer.ts): the alerts' class.
		await defenderRequest<T>(ctx, { itemIndex, maxThrottleWaitMs: options.maxThrottleWaitMs, endpointClass: 'graphAlerts', ...req }, session);
	const notFound = (id: string) => `Incident ${id} was not found in tenant ${session.tenantId}`;
	/** A 404's advice for incidents (the transport's names alert IDs). */
	const withIncidentAdvice = (error: unknown): NodeApiError | NodeOperationError => {
		const e = nodeError(node, error);
		if (e instanceof NodeApiError && describeFailure(error).status === 404) {
			e.description = 'Check the incident ID (the number in the incident\'s portal link, or "id" of Incident → Get Many) and the Customer Tenant.';
		}
		return e;
	};

	const notices: string[] = [];
	const notify = (message: string) => {
		if (!notices.includes(message)) notices.push(message);
		addHints(ctx, [message]);
	};
	if (session.api.ignoredRegion) {
		notify(
			`Region "${session.api.ignoredRegion}" is ignored: incidents are read through Microsoft Graph, which has one host per cloud (${session.api.baseUrl}). Region still applies to machines and indicators (Defender for Endpoint API).`,
		);
	}

	// What this backend learned the service refuses (undocumented behaviour), kept for its later calls.
	let maxTop = GRAPH_INCIDENT_MAX_PAGE_SIZE;
	let orderByRefused = false;
	const refusedOptional = new Set<string>();
	let determinationAlternate = false;

	const plan = (where: IncidentWhere | undefined) => {
		try {
			return incidentFilterPlan(where ?? {});
		} catch (error) {
			throw queryError(node, itemIndex, error);
		}
	};

	const applyLocal = (value: IncidentRecord[], local: OptionalClause[]) => (local.length ? value.filter((r) => local.every((o) => o.test(r))) : value);

	const listIncidentPage = async (query: IncidentListQuery): Promise<IncidentPage> => {
		const p = plan(query.where);
		for (let attempt = 0; ; attempt++) {
			const local = p.optional.filter((o) => refusedOptional.has(o.field));
			const sent = p.optional.filter((o) => !refusedOptional.has(o.field));
			const clauses = [p.documentedFilter, ...sent.map((o) => o.clause)].filter((c): c is string => !!c);
			const top = Math.min(Math.max(1, Math.floor(query.top)), maxTop);
			const qs: IDataObject = { $top: top };
			if (clauses.length) qs.$filter = clauses.join(' and ');
			if (query.skip) qs.$skip = query.skip;
			const orderBy = incidentOrderBy(query.orderBy?.field, query.orderBy?.direction);
			if (orderBy && !orderByRefused) qs.$orderby = orderBy;
			if (query.expandAlerts) qs.$expand = 'alerts';
			try {
				const body = await request<ListBody>({ method: 'GET', path: INCIDENTS, qs, idempotent: true, requiredRoles: GRAPH_INCIDENT_READ_ROLES });
				const records = recordsOf(body);
				const ordered = !(orderBy && orderByRefused);
				return {
					value: applyLocal(ordered ? records : sortBy(records, query.orderBy), local),
					received: records.length,
					top,
					nextLink: nextLinkOf(body),
					local: local.map((o) => o.field),
					ordered,
				};
			} catch (error) {
				const info = describeFailure(error);
				if (info.status !== 400 || attempt > 4) throw nodeError(node, error);
				const refusal = readGraphListRefusal(`${info.defender?.message ?? ''} ${info.message}`);
				if (refusal.topLimit !== undefined && refusal.topLimit < top) {
					maxTop = refusal.topLimit;
					continue;
				}
				if (qs.$orderby && refusal.orderBy) {
					orderByRefused = true;
					notify('Microsoft Graph refused $orderby for incidents: each page is sorted as asked, the pages come in the API\'s default order.');
					continue;
				}
				const named = sent.filter((o) => refusal.mentions(o.field));
				if (named.length > 0) {
					// An undocumented filter property was refused: ask without it and apply it here.
					for (const o of named) refusedOptional.add(o.field);
					continue;
				}
				throw nodeError(node, error);
			}
		}
	};

	const getIncident = async (id: string, opts: { expandAlerts?: boolean } = {}): Promise<IncidentRecord> => {
		try {
			const incident = await request<IncidentRecord>({
				method: 'GET',
				path: [...INCIDENTS, id],
				...(opts.expandAlerts ? { qs: { $expand: 'alerts' } } : {}),
				idempotent: true,
				notFoundMessage: notFound(id),
				requiredRoles: GRAPH_INCIDENT_READ_ROLES,
			});
			return stripContext(incident);
		} catch (error) {
			throw withIncidentAdvice(error);
		}
	};

	/** PATCH with the resource's determination spelling; if the service refuses it, once more with the Update page's. */
	const patchIncident = async (id: string, body: Record<string, unknown>): Promise<IncidentRecord> => {
		const send = async (b: Record<string, unknown>) =>
			stripContext(
				await request<IncidentRecord>({
					method: 'PATCH',
					path: [...INCIDENTS, id],
					body: b as IDataObject,
					// setting the same values twice leaves the same incident
					idempotent: true,
					notFoundMessage: notFound(id),
					requiredRoles: GRAPH_INCIDENT_WRITE_ROLES,
				}),
			);
		const alternate = typeof body.determination === 'string' ? GRAPH_DETERMINATION_ALTERNATES[body.determination] : undefined;
		try {
			if (alternate && determinationAlternate) return await send({ ...body, determination: alternate });
			try {
				return await send(body);
			} catch (error) {
				const info = describeFailure(error);
				if (alternate && info.status === 400 && /determination/i.test(`${info.defender?.message ?? ''} ${info.message}`)) {
					determinationAlternate = true;
					return await send({ ...body, determination: alternate });
				}
				throw nodeError(node, error);
			}
		} catch (error) {
			throw withIncidentAdvice(error);
		}
	};

	return {
		name: 'graph',
		tenantId: session.tenantId,
		get maxPageSize() {
			return maxTop;
		},
		notices,

		listIncidentPage,

		async listIncidents(query: IncidentListQuery): Promise<IncidentRecord[]> {
			return (await listIncidentPage(query)).value;
		},

		async *pages(query: Omit<IncidentListQuery, 'top' | 'skip'>, limit: number): AsyncGenerator<IncidentRecord[]> {
			let page = await listIncidentPage({ ...query, top: Math.min(limit, maxTop) });
			let read = 0;
			let sawNextLink = false;
			for (;;) {
				read += page.received;
				const local = page.local.length > 0;
				yield page.value;
				// With a filter applied here the caller, who counts what it keeps, decides when to stop.
				if (page.received === 0 || (!local && read >= limit)) return;
				if (page.nextLink) {
					sawNextLink = true;
					// Only ever on the API's own origin (defenderRequest checks it exactly before sending the token).
					const body = await request<ListBody>({ method: 'GET', path: INCIDENTS, url: page.nextLink, idempotent: true, requiredRoles: GRAPH_INCIDENT_READ_ROLES });
					const records = recordsOf(body);
					const refused = refusedOptional.size ? plan(query.where).optional.filter((o) => refusedOptional.has(o.field)) : [];
					page = { ...page, value: applyLocal(page.ordered ? records : sortBy(records, query.orderBy), refused), received: records.length, nextLink: nextLinkOf(body) };
					continue;
				}
				// The last page of a service that sends nextLinks; or, from one that never does, a short page.
				if (sawNextLink || page.received < page.top) return;
				page = await listIncidentPage({ ...query, top: local ? maxTop : Math.min(limit - read, maxTop), skip: read });
			}
		},

		getIncident,

		async updateIncident(id: string, patch: IncidentPatch): Promise<IncidentRecord> {
			const body = incidentPatchBody(patch);
			if (patch.customTags) {
				const { mode, tags } = patch.customTags;
				if (mode === 'replace') {
					body.customTags = mergeCustomTags(undefined, tags, 'replace');
				} else {
					// Graph's PATCH sets the whole list: Add and Remove start from the incident's current tags.
					const current = await getIncident(id);
					const next = mergeCustomTags(current.customTags, tags, mode);
					const unchanged = Array.isArray(current.customTags) && JSON.stringify(current.customTags) === JSON.stringify(next);
					if (unchanged && Object.keys(body).length === 0) return current;
					if (!unchanged) body.customTags = next;
				}
			}
			if (Object.keys(body).length === 0) return await getIncident(id);
			return await patchIncident(id, body);
		},

		async addComment(id: string, comment: string): Promise<IncidentRecord> {
			let list: unknown;
			try {
				list = await request<unknown>({
					method: 'POST',
					path: [...INCIDENTS, id, 'comments'],
					body: { '@odata.type': 'microsoft.graph.security.alertComment', comment },
					// a comment sent twice is two comments
					idempotent: false,
					notFoundMessage: notFound(id),
					requiredRoles: GRAPH_INCIDENT_WRITE_ROLES,
				});
			} catch (error) {
				throw withIncidentAdvice(error);
			}
			const incident = await getIncident(id);
			const comments = Array.isArray(list) ? list : list && typeof list === 'object' && Array.isArray((list as { value?: unknown }).value) ? (list as { value: unknown[] }).value : undefined;
			if (comments) incident.comments = comments;
			return incident;
		},

		portalUrl(id: string): string {
			const tid = isGuid(session.tenantId) ? `?tid=${session.tenantId.toLowerCase()}` : '';
			return `${session.endpoints.portalUrl}/incidents/${encodeURIComponent(id)}${tid}`;
		},

		async tokenInfo(): Promise<TokenInfo> {
			const claims = decodeTokenClaims(await sessionToken(ctx, session, itemIndex));
			return {
				roles: claims.roles ?? [],
				tenantId: claims.tid,
				appId: claims.appid,
				expiresAt: claims.exp ? new Date(claims.exp * 1000).toISOString() : undefined,
				audience: claims.aud,
			};
		},
	};
}
