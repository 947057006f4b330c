/**
 * New Incident / Updated Incident: Microsoft Graph security incidents (`/v1.0/security/incidents`, always on Graph
 * with the credential's app, whatever its Alerts API) on the same exactly-once poller as alerts (trigger/poller.ts),
 * through the same Graph stream adapter (trigger/graphStream.pure.ts: the view, the window read when the service
 * does not sort). Pure: no n8n, no HTTP. Source: https://learn.microsoft.com/en-us/graph/api/security-list-incidents.
 *
 * INVARIANTS
 * - The poller sees an incident as a VIEW: `id` = the incident id, alertCreationTime / lastUpdateTime =
 *   createdDateTime / lastUpdateDateTime. New Incident: one event per incident; Updated Incident: one event per
 *   (id, lastUpdateDateTime) version (no watched fields: Graph gives an incident's creation values nowhere, so a
 *   change could not be told from a creation).
 * - Pages are at most GRAPH_INCIDENT_MAX_PAGE_SIZE (50, what Graph serves for incidents): the trigger's page size is
 *   capped there, so a full page is never mistaken for the last one.
 * - The state of incident streams lives under the node's static data key `incidents`, apart from the alert streams
 *   (same tenant, same event kind, other ids): switching Event between alerts and incidents keeps both positions.
 * - Filters: Status and Severity, in Graph's values, both documented as filterable: applied by the server.
 */
import type { AlertListQuery, AlertRecord } from '../backend/types';
import { GRAPH_INCIDENT_MAX_PAGE_SIZE, type IncidentTimeField, type IncidentWhere } from '../core/graphIncidents';
import { type GraphAlertSource, type GraphStreamApi, graphStreamApi, type OrderMemory } from './graphStream.pure';
import type { TenantApi } from './orchestrator.pure';

export const INCIDENT_PAGE_SIZE = GRAPH_INCIDENT_MAX_PAGE_SIZE;
/** The static data key of the incident streams. */
export const INCIDENT_STATE_KEY = 'incidents';

/** What the stream needs of the incident backend (backend/incidents.ts IncidentBackend is one). */
export interface IncidentSource {
	readonly tenantId: string;
	listIncidentPage(query: {
		where?: IncidentWhere;
		orderBy?: { field: IncidentTimeField; direction?: 'asc' | 'desc' };
		top: number;
		skip?: number;
	}): Promise<{ value: Array<{ id: string; [key: string]: unknown }>; ordered: boolean }>;
	pages(query: { where?: IncidentWhere; orderBy?: { field: IncidentTimeField; direction?: 'asc' | 'desc' } }, limit: number): AsyncGenerator<Array<{ id: string; [key: string]: unknown }>>;
	portalUrl(id: string): string;
}

const FIELDS: Record<string, IncidentTimeField> = { alertCreationTime: 'createdDateTime', lastUpdateTime: 'lastUpdateDateTime', createdDateTime: 'createdDateTime', lastUpdateDateTime: 'lastUpdateDateTime' };

/** `lastUpdateTime asc` (the poller's names) → the incident order. */
function orderOf(orderBy: string | undefined): { field: IncidentTimeField; direction: 'asc' | 'desc' } | undefined {
	if (!orderBy) return undefined;
	const [name, dir] = orderBy.trim().split(/\s+/);
	const field = FIELDS[name];
	return field ? { field, direction: dir === 'desc' ? 'desc' : 'asc' } : undefined;
}

/** The poller's view of an incident (see INVARIANTS). */
export function incidentStreamView(raw: AlertRecord): AlertRecord {
	return { id: String(raw.id), alertCreationTime: (raw.createdDateTime as string | undefined) ?? null, lastUpdateTime: (raw.lastUpdateDateTime as string | undefined) ?? null };
}

/** The incident backend as the Graph stream's source: the poller's alert-shaped queries in incident terms. */
export function incidentAlertSource(source: IncidentSource, filters: IncidentWhere): GraphAlertSource {
	let ordered = true;
	const whereOf = (query: Pick<AlertListQuery, 'where'>): IncidentWhere => {
		const w: IncidentWhere = { ...filters };
		if (query.where?.createdAfter) w.createdAfter = query.where.createdAfter;
		if (query.where?.updatedAfter) w.updatedAfter = query.where.updatedAfter;
		return w;
	};
	return {
		tenantId: source.tenantId,
		async listAlerts(query: AlertListQuery): Promise<AlertRecord[]> {
			const page = await source.listIncidentPage({ where: whereOf(query), orderBy: orderOf(query.orderBy), top: Math.min(query.top, INCIDENT_PAGE_SIZE), skip: query.skip });
			if (!page.ordered) ordered = false;
			return page.value as AlertRecord[];
		},
		async *pages(query: Omit<AlertListQuery, 'top' | 'skip'>, limit: number): AsyncGenerator<AlertRecord[]> {
			for await (const page of source.pages({ where: whereOf(query), orderBy: orderOf(query.orderBy) }, limit)) yield page as AlertRecord[];
		},
		portalUrl: (id) => source.portalUrl(id),
		ordered: () => ordered,
	};
}

export function incidentStreamApi(source: IncidentSource, filters: IncidentWhere, extra: Pick<TenantApi, 'tenantGuid'> & { order?: OrderMemory } = {}): GraphStreamApi {
	return graphStreamApi(incidentAlertSource(source, filters), {}, { ...extra, view: incidentStreamView });
}
