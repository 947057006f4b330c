/** Defender for Endpoint REST API backend (`/api/alerts…`), on top of the shared transport. */
import type { ICredentialDataDecryptedObject, IDataObject, JsonObject } from 'n8n-workflow';
import { NodeApiError } from 'n8n-workflow';

import { READ_ROLES, rolesFor, WRITE_ROLES } from '../helpers/permissions';
import { alertPortalUrl } from '../core/clouds';
import { isGuid } from '../core/ids';
import { decodeTokenClaims } from '../core/jwt';
import { type DefenderContext, type DefenderSession, defenderRequest, describeFailure, openSession, sessionToken } from '../transport/request';
import type { AlertBackend, AlertListQuery, AlertPatch, AlertRecord, CreateByReferenceInput, RelatedKind, TokenInfo } from './types';

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


type Session = DefenderSession & { data: ICredentialDataDecryptedObject };

export async function mdeBackend(ctx: DefenderContext, options: BackendOptions = {}): Promise<AlertBackend> {
	const session: Session = await openSession(ctx, options);
	const base = { itemIndex: options.itemIndex, maxThrottleWaitMs: options.maxThrottleWaitMs };
	const notFound = (id: string) => `Alert ${id} was not found in tenant ${session.tenantId}`;
	const request = async <T>(req: Parameters<typeof defenderRequest>[1]): Promise<T> => await defenderRequest<T>(ctx, { ...base, ...req }, session);

	return {
		name: 'mde',
		tenantId: session.tenantId,
		maxPageSize: MDE_MAX_PAGE_SIZE,
		maxBatchSize: MDE_MAX_BATCH_SIZE,

		async listAlerts(query: AlertListQuery): Promise<AlertRecord[]> {
			const qs: IDataObject = { $top: Math.min(Math.max(1, query.top), MDE_MAX_PAGE_SIZE) };
			if (query.filter) qs.$filter = query.filter;
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
			};
		},
	};
}

function stripContext<T extends object>(entity: T): T {
	if (entity && typeof entity === 'object' && '@odata.context' in entity) {
		const { ['@odata.context']: _ignored, ...rest } = entity as Record<string, unknown>;
		void _ignored;
		return rest as T;
	}
	return entity;
}
