/** Defender for Endpoint REST API backend (`/api/alerts…`), on top of the shared transport. */
import type { ICredentialDataDecryptedObject, IDataObject, JsonObject } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import { READ_ROLES, rolesFor, WRITE_ROLES } from '../helpers/permissions';
import { alertPortalUrl } from '../core/clouds';
import { isGuid } from '../core/ids';
import { decodeTokenClaims } from '../core/jwt';
import { type DefenderContext, type DefenderSession, defenderRequest, describeFailure, openSession, sessionToken } from '../transport/request';
import { odataString } from '../helpers/odata';
import { mdeFilter } from './query';
import { fromDate } from '../helpers/timestamps';
import type { AlertBackend, AlertListQuery, AlertPatch, AlertRecord, CreateByReferenceInput, ReadBackResult, RelatedKind, TokenInfo } from './types';
import { stripContext } from './entities';

export interface BackendOptions {
	itemIndex?: number;
	/** customer tenant override */
	tenantId?: string;
	region?: string;
	maxThrottleWaitMs?: number;
}

export const MDE_MAX_PAGE_SIZE = 10_000;
/** Not documented by Microsoft (Batch update alerts, https://learn.microsoft.com/en-us/defender-endpoint/api/batch-update-alerts); 500 matches the other batch endpoints' documented caps. */
export const MDE_MAX_BATCH_SIZE = 500;
/**
 * Ids per `id eq … or id eq …` read-back filter. `in` is not among the documented OData operators
 * (https://learn.microsoft.com/en-us/defender-endpoint/api/exposed-apis-odata-samples), so `or` terms are used; the
 * API runs on ASP.NET OData, whose default MaxNodeCount of 100 allows about 25 such terms (4 nodes each), and it keeps
 * the URL short. A 400 for a chunk halves it.
 */
export const MDE_IDS_PER_FILTER = 25;


type Session = DefenderSession & { data: ICredentialDataDecryptedObject };

export async function mdeBackend(ctx: DefenderContext, options: BackendOptions = {}): Promise<AlertBackend> {
	const session: Session = await openSession(ctx, options);
	const base = { itemIndex: options.itemIndex, maxThrottleWaitMs: options.maxThrottleWaitMs };
	const notFound = (id: string) => `Alert ${id} was not found in tenant ${session.tenantId}`;
	const request = async <T>(req: Parameters<typeof defenderRequest>[1]): Promise<T> => await defenderRequest<T>(ctx, { ...base, ...req }, session);

	const backend: AlertBackend = {
		name: 'mde',
		tenantId: session.tenantId,
		maxPageSize: MDE_MAX_PAGE_SIZE,
		maxBatchSize: MDE_MAX_BATCH_SIZE,

		async listAlerts(query: AlertListQuery): Promise<AlertRecord[]> {
			const qs: IDataObject = { $top: Math.min(Math.max(1, query.top), MDE_MAX_PAGE_SIZE) };
			const filter = query.where ? mdeFilter(ctx.getNode(), options.itemIndex, query.where) : query.filter;
			if (filter) qs.$filter = filter;
			if (query.skip) qs.$skip = query.skip;
			if (query.orderBy) qs.$orderby = query.orderBy;
			if (query.expandEvidence) qs.$expand = 'evidence';
			const body = await request<{ value?: AlertRecord[] }>({
				method: 'GET',
				path: ['alerts'],
				qs,
				endpointClass: 'alerts',
				idempotent: true,
				requiredRoles: READ_ROLES,
			});
			return Array.isArray(body?.value) ? body.value : [];
		},

		async getAlert(id: string): Promise<AlertRecord> {
			const alert = await request<AlertRecord>({
				method: 'GET',
				path: ['alerts', id],
				qs: { $expand: 'evidence' },
				endpointClass: 'alerts',
				idempotent: true,
				notFoundMessage: notFound(id),
				requiredRoles: READ_ROLES,
			});
			return stripContext(alert);
		},

		async updateAlert(id: string, patch: AlertPatch): Promise<AlertRecord> {
			const alert = await request<AlertRecord>({
				method: 'PATCH',
				path: ['alerts', id],
				body: patch as IDataObject,
				endpointClass: 'alerts',
				// Setting the same fields twice gives the same alert; a comment would be added twice, so not then.
				idempotent: patch.comment === undefined,
				notFoundMessage: notFound(id),
				requiredRoles: WRITE_ROLES,
			});
			return stripContext(alert);
		},

		async batchUpdate(ids: string[], patch: AlertPatch): Promise<void> {
			await request<unknown>({
				method: 'POST',
				path: ['alerts', 'batchUpdate'],
				body: { alertIds: ids, ...patch } as IDataObject,
				endpointClass: 'batchUpdate',
				idempotent: patch.comment === undefined,
				requiredRoles: WRITE_ROLES,
			});
		},

		async readBack(ids: string[], options: { updatedSince?: Date } = {}): Promise<ReadBackResult> {
			const wanted = new Set(ids);
			const alerts = new Map<string, AlertRecord>();
			const unresolved: string[] = [];
			let reads = 0;
			const list = async (filter: string, top: number): Promise<AlertRecord[]> => {
				reads += 1;
				return await backend.listAlerts({ filter, top });
			};
			// Many ids: one read of everything changed since just before the batch (lastUpdateTime moves on every
			// change) usually finds them all; what it misses is read by id below. Few ids: by id only.
			if (options.updatedSince && wanted.size > MDE_IDS_PER_FILTER) {
				try {
					for (const a of await list(`lastUpdateTime ge ${fromDate(options.updatedSince)}`, MDE_MAX_PAGE_SIZE)) {
						if (wanted.has(a.id)) alerts.set(a.id, a);
					}
				} catch {
					// e.g. a smaller page limit or a filter the API refuses: the id reads below settle every id
				}
			}
			const rest = [...wanted].filter((id) => !alerts.has(id));
			const queue: string[][] = [];
			for (let k = 0; k < rest.length; k += MDE_IDS_PER_FILTER) queue.push(rest.slice(k, k + MDE_IDS_PER_FILTER));
			while (queue.length > 0) {
				const part = queue.shift()!;
				try {
					for (const a of await list(part.map((id) => `id eq ${odataString(id)}`).join(' or '), part.length)) {
						if (wanted.has(a.id)) alerts.set(a.id, a);
					}
				} catch (error) {
					if (describeFailure(error).status === 400 && part.length > 1) {
						const half = Math.ceil(part.length / 2);
						queue.unshift(part.slice(0, half), part.slice(half));
						continue;
					}
					unresolved.push(...part);
				}
			}
			return { alerts, unresolved, reads };
		},

		async createAlertByReference(input: CreateByReferenceInput): Promise<AlertRecord> {
			const alert = await request<AlertRecord>({
				method: 'POST',
				path: ['alerts', 'CreateAlertByReference'],
				body: input as unknown as IDataObject,
				endpointClass: 'createByReference',
				idempotent: false,
				notFoundMessage: `No event with report ID ${input.reportId} at ${input.eventTime} on machine ${input.machineId} was found in tenant ${session.tenantId}`,
				requiredRoles: WRITE_ROLES,
			});
			return stripContext(alert);
		},

		async getRelated(id: string, kind: RelatedKind): Promise<unknown> {
			try {
				const body = await request<IDataObject>({
					method: 'GET',
					path: ['alerts', id, kind],
					endpointClass: 'alerts',
					idempotent: true,
					notFoundMessage: notFound(id),
					requiredRoles: rolesFor(`alert.getRelated.${kind}`),
				});
				if (kind === 'machine' || kind === 'user') return body ? stripContext(body as AlertRecord) : null;
				return Array.isArray(body?.value) ? body.value : [];
			} catch (error) {
				// /machine and /user answer 404 both for a missing alert and for an alert without that entity.
				if ((kind === 'machine' || kind === 'user') && describeFailure(error).status === 404 && error instanceof NodeApiError) {
					await request<AlertRecord>({
						method: 'GET',
						path: ['alerts', id],
						endpointClass: 'alerts',
						idempotent: true,
						notFoundMessage: notFound(id),
					});
					return null;
				}
				throw new NodeApiError(ctx.getNode(), error as JsonObject);
			}
		},

		portalUrl(id: string): string {
			return alertPortalUrl(session.endpoints, id, isGuid(session.tenantId) ? session.tenantId : undefined);
		},

		async tokenRoles(): Promise<string[]> {
			return decodeTokenClaims(await sessionToken(ctx, session, options.itemIndex)).roles ?? [];
		},

		async tokenInfo(): Promise<TokenInfo> {
			const claims = decodeTokenClaims(await sessionToken(ctx, session, options.itemIndex));
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

