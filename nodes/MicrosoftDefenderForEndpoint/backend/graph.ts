/**
 * Microsoft Graph security `alerts_v2` backend, on top of the shared transport (a session with `api: 'graph'`: the
 * cloud's Graph host, `/v1.0/`, the Graph token scope, the `graphAlerts` pacing budget, Graph error bodies).
 *
 *   List alerts_v2   https://learn.microsoft.com/en-us/graph/api/security-list-alerts_v2
 *   Get alert        https://learn.microsoft.com/en-us/graph/api/security-alert-get
 *   Update alert     https://learn.microsoft.com/en-us/graph/api/security-alert-update   (PATCH; returns the alert)
 *   Create comment   https://learn.microsoft.com/en-us/graph/api/security-alert-post-comments (returns the comment list)
 *   JSON batching    https://learn.microsoft.com/en-us/graph/json-batching (≤ 20 requests; each answers, and is
 *                    throttled, on its own: a 429 with Retry-After inside a 200 batch)
 *
 * What is not documented is handled both ways: `$orderby` (sent; without it if refused), the largest `$top` (2,000;
 * the service's own limit if it names one), nextLink with `$top` (followed, on the API's own origin only; without one
 * a full page is followed by `$skip`), filters on category, incidentId and detectionSource (sent; applied locally if
 * refused), and the determination spellings (the SDK names; the value-table names if refused).
 */
import type { ICredentialDataDecryptedObject, IDataObject } from 'n8n-workflow';
import { NodeOperationError, sleep } from 'n8n-workflow';

import { alertPortalUrl } from '../core/clouds';
import {
	GRAPH_DETERMINATION_ALTERNATES,
	graphFilterPlan,
	graphOrderBy,
	graphPatchBody,
	type OptionalClause,
	readGraphListRefusal,
	relatedFromGraphEvidence,
	type RelatedKindName,
} from '../core/graphAlerts';
import { isGuid } from '../core/ids';
import { decodeTokenClaims } from '../core/jwt';
import { DEFAULT_MAX_THROTTLE_WAIT_MS } from '../core/limits';
import { GRAPH_READ_ROLES, GRAPH_WRITE_ROLES } from '../helpers/permissions';
import { processSettings } from '../transport/processState';
import {
	apiError,
	type ApiRequest,
	batchFailureInfo,
	type DefenderContext,
	type DefenderSession,
	defenderRequest,
	describeFailure,
	GRAPH_PREFER,
	holdPacing,
	openSession,
	retryAfterMs,
	sessionToken,
	throttledError,
} from '../transport/request';
import type { BackendOptions } from './mde';
import { addHints } from './hints';
import { queryError } from './query';
import type { AlertBackend, AlertListQuery, AlertPatch, AlertRecord, ReadBackResult, RelatedKind, TokenInfo, UpdateEachResult, UpdateOutcome } from './types';
import { nodeError, stripContext } from './entities';

/** Largest page asked for. Not documented for alerts_v2; a smaller limit the service names in its 400 is used instead. */
export const GRAPH_MAX_PAGE_SIZE = 2000;
/** JSON batching: at most 20 requests per `$batch` (https://learn.microsoft.com/en-us/graph/json-batching). */
export const GRAPH_MAX_BATCH = 20;

const ALERTS = ['security', 'alerts_v2'];
const MAX_SUB_5XX_RETRIES = 3;
const MAX_SUB_THROTTLE_ROUNDS = 10;

type Session = DefenderSession & { data: ICredentialDataDecryptedObject };
type Json = Record<string, unknown>;

interface SubRequest {
	id: string;
	method: 'GET' | 'PATCH' | 'POST';
	/** relative to /v1.0, e.g. /security/alerts_v2/{id} */
	url: string;
	body?: Json;
	dependsOn?: string[];
	/** safe to send again after a 5xx */
	idempotent: boolean;
}

interface SubResponse {
	id: string;
	status: number;
	headers: Record<string, string>;
	body: unknown;
}

function alertPath(id: string, ...rest: string[]): string {
	return `/security/alerts_v2/${[id, ...rest].map((s) => encodeURIComponent(s)).join('/')}`;
}

function lower(headers: unknown): Record<string, string> {
	const out: Record<string, string> = {};
	if (headers && typeof headers === 'object') for (const [k, v] of Object.entries(headers as Json)) if (v !== undefined && v !== null) out[k.toLowerCase()] = String(v);
	return out;
}

function commentsOf(body: unknown): unknown[] | undefined {
	if (Array.isArray(body)) return body;
	if (body && typeof body === 'object' && Array.isArray((body as Json).value)) return (body as Json).value as unknown[];
	return undefined;
}

export async function graphBackend(ctx: DefenderContext, options: BackendOptions = {}): Promise<AlertBackend> {
	const session: Session = await openSession(ctx, { ...options, api: 'graph' });
	const node = ctx.getNode();
	const itemIndex = options.itemIndex;
	const maxWait = options.maxThrottleWaitMs ?? DEFAULT_MAX_THROTTLE_WAIT_MS;
	const notFound = (id: string) => `Alert ${id} was not found in tenant ${session.tenantId}`;
	const request = async <T>(req: Omit<ApiRequest, 'endpointClass'> & { endpointClass?: ApiRequest['endpointClass'] }): Promise<T> =>
		await defenderRequest<T>(ctx, { itemIndex, maxThrottleWaitMs: options.maxThrottleWaitMs, endpointClass: 'graphAlerts', ...req }, session);

	const notices: string[] = [];
	/** A notice for the output (an n8n execution hint, once per node run) and `backend.notices`. */
	const notify = (message: string) => {
		if (!notices.includes(message)) notices.push(message);
		addHints(ctx, [message]);
	};
	if (session.api.ignoredRegion) {
		notify(
			`Region "${session.api.ignoredRegion}" is ignored: the credential's Alerts API is Microsoft Graph, which has one host per cloud (${session.api.baseUrl}). Region still applies to machines and indicators (Defender for Endpoint API).`,
		);
	}

	// What this backend learned the service refuses (undocumented behaviour), kept for its later calls.
	let orderByRefused = false;
	let maxTop = GRAPH_MAX_PAGE_SIZE;
	const refusedOptional = new Set<string>();
	let determinationAlternate = false;

	const plan = (query: Pick<AlertListQuery, 'where' | 'filter'>) => {
		if (query.filter !== undefined) {
			throw new NodeOperationError(node, 'This reads alerts with a Defender for Endpoint OData filter, which Microsoft Graph does not take', {
				description:
					'Every operation and the trigger pass Microsoft Graph a structured query (trigger/graphStream.pure.ts for the trigger); a Defender OData filter reaching this backend is a bug of this package: please report it with the operation used. Meanwhile the credential\'s Alerts API = Defender for Endpoint API avoids it.',
				itemIndex,
			});
		}
		try {
			return graphFilterPlan(query.where ?? {});
		} catch (error) {
			throw queryError(node, itemIndex, error);
		}
	};

	/** One list request with the fallbacks for what the service refuses; returns the page and its nextLink. */
	const listOnce = async (query: Omit<AlertListQuery, 'top' | 'skip'> & { top: number; skip?: number }): Promise<{ value: AlertRecord[]; nextLink?: string; local: OptionalClause[] }> => {
		const p = plan(query);
		for (let attempt = 0; ; attempt++) {
			const local = p.optional.filter((o) => refusedOptional.has(o.field));
			const sent = p.optional.filter((o) => !refusedOptional.has(o.field));
			const clauses = [p.documentedFilter, ...sent.map((o) => o.clause)].filter((c): c is string => !!c);
			const qs: IDataObject = { $top: Math.min(Math.max(1, query.top), maxTop) };
			if (clauses.length) qs.$filter = clauses.join(' and ');
			if (query.skip) qs.$skip = query.skip;
			const orderBy = graphOrderBy(query.orderBy);
			if (orderBy && !orderByRefused) qs.$orderby = orderBy;
			try {
				const body = await request<{ value?: AlertRecord[]; '@odata.nextLink'?: string }>({
					method: 'GET',
					path: ALERTS,
					qs,
					idempotent: true,
					requiredRoles: GRAPH_READ_ROLES,
				});
				const value = Array.isArray(body?.value) ? body.value : [];
				return { value, nextLink: typeof body?.['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined, local };
			} catch (error) {
				const info = describeFailure(error);
				if (info.status !== 400 || attempt > 4) throw nodeError(node, error);
				const refusal = readGraphListRefusal(`${info.defender?.message ?? ''} ${info.message}`);
				if (refusal.topLimit !== undefined && refusal.topLimit < maxTop) {
					maxTop = refusal.topLimit;
					continue;
				}
				if (qs.$orderby && refusal.orderBy) {
					orderByRefused = true;
					notify('Microsoft Graph refused $orderby for alerts_v2: the alerts come in the API\'s default order, not sorted as asked.');
					continue;
				}
				if (sent.length > 0) {
					// An undocumented filter property was refused: ask without it and apply it here.
					const named = sent.filter((o) => refusal.mentions(o.field));
					for (const o of named.length ? named : sent) refusedOptional.add(o.field);
					continue;
				}
				throw nodeError(node, error);
			}
		}
	};

	const applyLocal = (value: AlertRecord[], local: OptionalClause[]) => (local.length ? value.filter((a) => local.every((o) => o.test(a))) : value);

	// ---------------------------------------------------------------------------------------------- $batch

	/**
	 * Send sub-requests in `$batch` calls of at most 20 (a sub-request and the ones that depend on it stay together).
	 * Throttled sub-requests (429 with their own Retry-After) are sent again after the wait, alone; so are 5xx of
	 * idempotent ones (bounded). Returns every final sub-response by id.
	 */
	const runBatch = async (subs: SubRequest[]): Promise<{ responses: Map<string, SubResponse>; calls: number; throttledRetries: number }> => {
		const responses = new Map<string, SubResponse>();
		let calls = 0;
		let throttledRetries = 0;
		let throttleWaited = 0;
		const serverErrors = new Map<string, number>();
		const lastAnswer = new Map<string, SubResponse>();
		// groups: a request with the requests that depend on it
		const groups: SubRequest[][] = [];
		const byId = new Map(subs.map((s) => [s.id, s]));
		const placed = new Set<string>();
		for (const s of subs) {
			if (placed.has(s.id)) continue;
			const root = s.dependsOn?.length ? undefined : s;
			if (!root) continue;
			const group = [root, ...subs.filter((d) => d.dependsOn?.includes(root.id))];
			for (const g of group) placed.add(g.id);
			groups.push(group);
		}
		for (const s of subs) if (!placed.has(s.id)) groups.push([s]);
		let pending = groups;
		for (let round = 0; pending.length > 0; round++) {
			const batches: SubRequest[][] = [];
			let current: SubRequest[] = [];
			for (const g of pending) {
				if (current.length + g.length > GRAPH_MAX_BATCH) {
					batches.push(current);
					current = [];
				}
				current.push(...g);
			}
			if (current.length) batches.push(current);
			const again: SubRequest[][] = [];
			let waitMs = 0;
			for (const batch of batches) {
				calls += 1;
				const body = await request<{ responses?: Array<{ id?: unknown; status?: unknown; headers?: unknown; body?: unknown }> }>({
					method: 'POST',
					path: ['$batch'],
					body: {
						requests: batch.map((s) => ({
							id: s.id,
							method: s.method,
							url: s.url,
							headers: { Prefer: GRAPH_PREFER, ...(s.body ? { 'Content-Type': 'application/json' } : {}) },
							...(s.body ? { body: s.body } : {}),
							...(s.dependsOn?.length ? { dependsOn: s.dependsOn } : {}),
						})),
					} as IDataObject,
					paceUnits: batch.length,
					idempotent: batch.every((s) => s.idempotent),
				});
				const answered = new Map<string, SubResponse>();
				for (const r of Array.isArray(body?.responses) ? body.responses : []) {
					if (typeof r?.id !== 'string' || typeof r.status !== 'number') continue;
					answered.set(r.id, { id: r.id, status: r.status, headers: lower(r.headers), body: r.body });
				}
				const retry = new Set<string>();
				for (const s of batch) {
					const r = answered.get(s.id) ?? { id: s.id, status: 500, headers: {}, body: { error: { code: 'NoResponse', message: 'The $batch response has no answer for this request' } } };
					lastAnswer.set(s.id, r);
					if (r.status === 429) {
						retry.add(s.id);
						waitMs = Math.max(waitMs, retryAfterMs(r.headers) ?? Math.min(60_000, 1000 * 2 ** Math.min(round + 1, 6)));
						continue;
					}
					if (r.status >= 500 && s.idempotent && (serverErrors.get(s.id) ?? 0) < MAX_SUB_5XX_RETRIES) {
						serverErrors.set(s.id, (serverErrors.get(s.id) ?? 0) + 1);
						retry.add(s.id);
						waitMs = Math.max(waitMs, processSettings.retryBackoffBaseMs * 2 ** ((serverErrors.get(s.id) ?? 1) - 1));
						continue;
					}
					responses.set(s.id, r);
				}
				// A dependent answered 424 because what it depends on is sent again: send it again too.
				for (const s of batch) {
					if (s.dependsOn?.some((d) => retry.has(d)) && responses.get(s.id)?.status === 424) {
						responses.delete(s.id);
						retry.add(s.id);
					}
				}
				if (retry.size) {
					throttledRetries += [...retry].filter((id) => answered.get(id)?.status === 429).length;
					const groupsAgain = new Map<string, SubRequest[]>();
					for (const id of retry) {
						const s = byId.get(id)!;
						const root = s.dependsOn?.find((d) => retry.has(d)) ?? s.id;
						groupsAgain.set(root, [...(groupsAgain.get(root) ?? []), s]);
					}
					again.push(...groupsAgain.values());
				}
			}
			if (again.length === 0) break;
			if (round + 1 >= MAX_SUB_THROTTLE_ROUNDS || throttleWaited + waitMs > maxWait) {
				const descriptor: ApiRequest = { method: 'POST', path: ['$batch'], endpointClass: 'graphAlerts', idempotent: false, itemIndex };
				const error = throttledError(node, descriptor, session, waitMs);
				for (const g of again) {
					for (const s of g) {
						const last = lastAnswer.get(s.id);
						responses.set(s.id, last && last.status !== 429 ? last : { id: s.id, status: 429, headers: { 'retry-after': String(Math.ceil(waitMs / 1000)) }, body: { error } });
					}
				}
				break;
			}
			if (waitMs > 0) {
				await holdPacing(ctx, session, 'graphAlerts', waitMs, itemIndex);
				throttleWaited += waitMs;
				await sleep(waitMs);
			}
			pending = again;
		}
		return { responses, calls, throttledRetries };
	};

	/** The NodeApiError a failed sub-response stands for (the same wording as a direct call's). */
	const subError = async (r: SubResponse, req: Omit<ApiRequest, 'endpointClass'>): Promise<Error> => {
		const body = r.body as { error?: unknown } | undefined;
		if (body?.error instanceof Error) return body.error;
		const token = await sessionToken(ctx, session, itemIndex).catch(() => undefined);
		return apiError(node, batchFailureInfo(r.status, r.headers, r.body), { endpointClass: 'graphAlerts', ...req }, session, token);
	};

	const getAlert = async (id: string): Promise<AlertRecord> =>
		stripContext(
			await request<AlertRecord>({
				method: 'GET',
				path: [...ALERTS, id],
				idempotent: true,
				notFoundMessage: notFound(id),
				requiredRoles: GRAPH_READ_ROLES,
			}),
		);

	const fetched = new Map<string, Promise<AlertRecord>>();
	const cachedAlert = (id: string): Promise<AlertRecord> => {
		let p = fetched.get(id);
		if (!p) {
			p = getAlert(id);
			fetched.set(id, p);
			p.catch(() => fetched.delete(id));
		}
		return p;
	};

	/** PATCH with the SDK determination spelling; if the service refuses it, once more with the value-table spelling. */
	const patchAlert = async (id: string, body: Json): Promise<AlertRecord> => {
		const send = async (b: Json) =>
			stripContext(
				await request<AlertRecord>({
					method: 'PATCH',
					path: [...ALERTS, id],
					body: b as IDataObject,
					idempotent: true,
					notFoundMessage: notFound(id),
					requiredRoles: GRAPH_WRITE_ROLES,
				}),
			);
		const alternate = typeof body.determination === 'string' ? GRAPH_DETERMINATION_ALTERNATES[body.determination] : undefined;
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
	};

	const updateEach = async (ids: string[], patch: AlertPatch): Promise<UpdateEachResult> => {
		const unique = [...new Set(ids)];
		const body = graphPatchBody(patch);
		if (determinationAlternate && typeof body.determination === 'string' && GRAPH_DETERMINATION_ALTERNATES[body.determination]) {
			body.determination = GRAPH_DETERMINATION_ALTERNATES[body.determination];
		}
		const hasFields = Object.keys(body).length > 0;
		const subs: SubRequest[] = [];
		unique.forEach((id, k) => {
			if (hasFields) subs.push({ id: `p${k}`, method: 'PATCH', url: alertPath(id), body, idempotent: true });
			if (patch.comment !== undefined) {
				subs.push({
					id: `c${k}`,
					method: 'POST',
					url: alertPath(id, 'comments'),
					body: { '@odata.type': 'microsoft.graph.security.alertComment', comment: patch.comment },
					...(hasFields ? { dependsOn: [`p${k}`] } : {}),
					idempotent: false,
				});
			}
		});
		const { responses, calls, throttledRetries } = await runBatch(subs);
		const outcomes = new Map<string, UpdateOutcome>();
		for (const [k, id] of unique.entries()) {
			const p = hasFields ? responses.get(`p${k}`) : undefined;
			const c = patch.comment !== undefined ? responses.get(`c${k}`) : undefined;
			const first = p ?? c;
			if (!first) {
				outcomes.set(id, { status: 'failed', error: new NodeOperationError(node, `No answer for alert ${id} in the $batch response`, { itemIndex }) });
				continue;
			}
			if (first.status === 404) {
				outcomes.set(id, { status: 'notFound' });
				continue;
			}
			const failed = [p, c].find((r) => r !== undefined && (r.status < 200 || r.status >= 300));
			if (failed) {
				const method = failed === p ? 'PATCH' : 'POST';
				outcomes.set(id, {
					status: 'failed',
					error: await subError(failed, {
						method,
						path: failed === p ? [...ALERTS, id] : [...ALERTS, id, 'comments'],
						idempotent: method === 'PATCH',
						notFoundMessage: notFound(id),
						requiredRoles: GRAPH_WRITE_ROLES,
					}),
				});
				continue;
			}
			const alert = p && p.body && typeof p.body === 'object' ? stripContext(p.body as AlertRecord) : ({ id } as AlertRecord);
			const comments = c ? commentsOf(c.body) : undefined;
			if (comments) alert.comments = comments;
			outcomes.set(id, { status: 'updated', alert });
		}
		return { outcomes, calls, throttledRetries };
	};

	const backend: AlertBackend = {
		name: 'graph',
		tenantId: session.tenantId,
		maxPageSize: GRAPH_MAX_PAGE_SIZE,
		maxBatchSize: GRAPH_MAX_BATCH,
		notices,

		ordered(): boolean {
			return !orderByRefused;
		},

		async listAlerts(query: AlertListQuery): Promise<AlertRecord[]> {
			const { value, local } = await listOnce(query);
			return applyLocal(value, local);
		},

		async *pages(query: Omit<AlertListQuery, 'top' | 'skip'>, limit: number): AsyncGenerator<AlertRecord[]> {
			let top = Math.min(limit, maxTop);
			let page = await listOnce({ ...query, top });
			// the page size the service used (it may have named a smaller limit)
			top = Math.min(top, maxTop);
			let read = 0;
			let sawNextLink = false;
			for (;;) {
				const received = page.value.length;
				read += received;
				// Filters applied here (an undocumented property the service refused) make fewer items than were read:
				// then the caller, who counts what it keeps, decides when to stop.
				const local = page.local.length > 0;
				yield applyLocal(page.value, page.local);
				if (received === 0 || (!local && read >= limit)) return;
				if (page.nextLink) {
					sawNextLink = true;
					// Only ever on the API's own origin (defenderRequest checks it exactly before sending the token).
					const body = await request<{ value?: AlertRecord[]; '@odata.nextLink'?: string }>({
						method: 'GET',
						path: ALERTS,
						url: page.nextLink,
						idempotent: true,
						requiredRoles: GRAPH_READ_ROLES,
					});
					page = { value: Array.isArray(body?.value) ? body.value : [], nextLink: typeof body?.['@odata.nextLink'] === 'string' ? body['@odata.nextLink'] : undefined, local: page.local };
					continue;
				}
				// The last page of a service that sends nextLinks; or, from one that never does (with $top), a short page.
				if (sawNextLink || received < top) return;
				top = local ? maxTop : Math.min(limit - read, maxTop);
				page = await listOnce({ ...query, top, skip: read });
			}
		},

		getAlert,

		async updateAlert(id: string, patch: AlertPatch): Promise<AlertRecord> {
			const body = graphPatchBody(patch);
			let alert: AlertRecord | undefined;
			if (Object.keys(body).length > 0) alert = await patchAlert(id, body);
			if (patch.comment !== undefined) {
				const list = await request<unknown>({
					method: 'POST',
					path: [...ALERTS, id, 'comments'],
					body: { '@odata.type': 'microsoft.graph.security.alertComment', comment: patch.comment },
					// a comment sent twice is two comments
					idempotent: false,
					notFoundMessage: notFound(id),
					requiredRoles: GRAPH_WRITE_ROLES,
				});
				const comments = commentsOf(list);
				if (alert && comments) alert.comments = comments;
				else alert = await getAlert(id);
			}
			return alert!;
		},

		async batchUpdate(ids: string[], patch: AlertPatch): Promise<void> {
			const { outcomes } = await updateEach(ids, patch);
			const failures = [...outcomes.values()].filter((o): o is Extract<UpdateOutcome, { status: 'failed' }> => o.status === 'failed');
			if (failures.length > 0 && failures.length === outcomes.size) throw nodeError(node, failures[0].error);
		},

		async readBack(ids: string[]): Promise<ReadBackResult> {
			const unique = [...new Set(ids)];
			const { responses, calls } = await runBatch(unique.map((id, k) => ({ id: `g${k}`, method: 'GET', url: alertPath(id), idempotent: true })));
			const alerts = new Map<string, AlertRecord>();
			const unresolved: string[] = [];
			unique.forEach((id, k) => {
				const r = responses.get(`g${k}`);
				if (r && r.status === 200 && r.body && typeof r.body === 'object') alerts.set(id, stripContext(r.body as AlertRecord));
				else if (!r || r.status !== 404) unresolved.push(id);
			});
			return { alerts, unresolved, reads: calls };
		},

		updateEach,

		async createAlertByReference(): Promise<AlertRecord> {
			throw new NodeOperationError(node, 'Create by Reference exists on the Defender for Endpoint API only', {
				description:
					'Microsoft Graph has no "create alert from an advanced-hunting event". Use a credential whose Alerts API is Defender for Endpoint API for this operation (until the Defender API retires on 2027-02-01), or a custom detection rule in the Defender portal.',
				itemIndex,
			});
		},

		async getRelated(id: string, kind: RelatedKind): Promise<unknown> {
			// One read of the alert serves every entity kind: they come from its typed evidence.
			let alert: AlertRecord;
			try {
				alert = await cachedAlert(id);
			} catch (error) {
				throw nodeError(node, error);
			}
			return relatedFromGraphEvidence(alert, kind as RelatedKindName);
		},

		portalUrl(id: string): string {
			return alertPortalUrl(session.endpoints, id, isGuid(session.tenantId) ? session.tenantId : undefined);
		},

		async tokenRoles(): Promise<string[]> {
			return decodeTokenClaims(await sessionToken(ctx, session, itemIndex)).roles ?? [];
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
	return backend;
}
