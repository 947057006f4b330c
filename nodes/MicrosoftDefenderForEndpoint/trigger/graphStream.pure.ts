/**
 * The trigger on Microsoft Graph security `alerts_v2` (the credential's Alerts API = Microsoft Graph): a tenant's
 * Graph backend seen as the orchestrator's TenantApi, so New Alert and Updated Alert run the same exactly-once poller
 * (trigger/poller.ts) with the same guarantees and tests as on the Defender for Endpoint API. Pure: no n8n, no HTTP.
 *
 * Sources: https://learn.microsoft.com/en-us/graph/api/security-list-alerts_v2 (`$filter` on createdDateTime,
 * lastUpdateDateTime, severity, status, serviceSource; `$top`, `$skip`), https://learn.microsoft.com/en-us/graph/api/resources/security-alert.
 *
 * INVARIANTS
 * - The poller sees each Graph alert in the shape it is written for (a VIEW): `id` = stableAlertId (for a Defender
 *   for Endpoint alert its `providerAlertId`, the Defender alert id), alertCreationTime / lastUpdateTime =
 *   createdDateTime / lastUpdateDateTime, and the watched fields in the package's spelling (core/graphAlerts
 *   defenderFieldsOfGraphAlert: status `New`, classification `null` for Graph's `unknown`, …). So the poller's
 *   CREATION_DEFAULTS hold on Graph, and a stream's `seen` keys and fingerprints stay valid when the credential's
 *   Alerts API is switched: the switch delivers no alert twice and loses none inside the overlap window (tested).
 * - The output is the API's own record: `rawOf(view)` (raw mode is each API's shape, as in the action node).
 * - Query: `<createdDateTime|lastUpdateDateTime> ge <from>`, `$orderby <same> asc`, `$top`, `$skip`, plus the
 *   Filters that Graph documents as filterable (Severity, Status) and serviceSource (Defender for Endpoint, the
 *   alerts the Defender API lists). Category and Detection Source are not documented Graph filters: they are
 *   applied at delivery (`deliver`), never to a page, because a page filtered here would look short to the poller
 *   and a page of only excluded alerts would stall the stream. Excluded alerts are consumed (never read as new
 *   again) and not delivered, as on the Defender API where the server never returns them.
 * - Paging: the poller asks `field ge from` again from its cursor and uses `$skip` only inside one tie group larger
 *   than a page, in one poll (ASSUMPTIONS of poller.ts), so its exactness does not depend on the form of Graph's
 *   nextLink; the trigger never follows nextLink.
 * - Order: `$orderby` on alerts_v2 is not documented. When the service refuses it (the Graph backend then reports
 *   `ordered() === false`), pages in the service's default order would break the poller's ascending reading. Then
 *   the stream reads the whole window `field ge from` once per poll (following the API's paging, at most
 *   MAX_UNORDERED_WINDOW alerts, else a clear error) and serves the poller's pages from it sorted by (field, id):
 *   the pages a server that orders would give. More requests, same guarantees.
 */
import type { AlertListQuery, AlertRecord } from '../backend/types';
import { ALL_SERVICE_SOURCES, type AlertWhere, defenderFieldsOfGraphAlert, graphFilterPlan, isGraphAlert, type OptionalClause, stableAlertId } from '../core/graphAlerts';
import { toTicks } from '../helpers/timestamps';
import type { StreamListQuery, TenantApi } from './orchestrator.pure';
import type { TimeField } from './poller';

/** Largest window read when the service refuses `$orderby` (one poll's memory). */
export const MAX_UNORDERED_WINDOW = 50_000;

/** What the stream needs of the Graph backend (backend/graph.ts). */
export interface GraphAlertSource {
	readonly tenantId: string;
	listAlerts(query: AlertListQuery): Promise<AlertRecord[]>;
	pages?(query: Omit<AlertListQuery, 'top' | 'skip'>, limit: number): AsyncGenerator<AlertRecord[]>;
	portalUrl(id: string): string;
	/** false once the service refused `$orderby` */
	ordered?(): boolean;
}

export class GraphStreamError extends Error {
	constructor(
		message: string,
		readonly hint: string,
	) {
		super(message);
		this.name = 'GraphStreamError';
	}
}

export interface GraphStreamApi extends TenantApi {
	/** the API's own record of a view the poller emitted */
	rawOf(alert: AlertRecord): AlertRecord;
	/** requests sent to read pages (for tests and the bench) */
	readonly requests: number;
}

/**
 * Filters the server applies (documented for alerts_v2) and the tests applied at delivery (Category, Detection
 * Source: core/graphAlerts' optional clauses, on the API's record). Throws QueryNotSupportedError (a Detection
 * Source Graph does not know) before any request.
 */
export function splitTriggerWhere(where: AlertWhere): { server: AlertWhere; delivery: OptionalClause[] } {
	const { category, detectionSource, ...server } = where;
	return { server, delivery: graphFilterPlan({ category, detectionSource, serviceSource: ALL_SERVICE_SOURCES }).optional };
}

const AFTER: Record<TimeField, 'createdAfter' | 'updatedAfter'> = { alertCreationTime: 'createdAfter', lastUpdateTime: 'updatedAfter' };

function ticksOf(value: unknown): bigint | undefined {
	if (typeof value !== 'string') return undefined;
	try {
		return toTicks(value);
	} catch {
		return undefined;
	}
}

/** What this process learned about an API origin's ordering (trigger/processMemory.ts), so it is asked only once. */
export interface OrderMemory {
	unordered(): boolean;
	markUnordered(): void;
}

/** The view of a Graph alert the poller reads (see INVARIANTS); records of another shape pass as they are. */
export function alertStreamView(raw: AlertRecord): AlertRecord {
	if (!isGraphAlert(raw)) return raw;
	return { ...(defenderFieldsOfGraphAlert(raw) as AlertRecord), id: stableAlertId(raw), comments: Array.isArray(raw.comments) ? raw.comments : [] };
}

export function graphStreamApi(
	source: GraphAlertSource,
	where: AlertWhere,
	extra: Pick<TenantApi, 'tenantGuid'> & { order?: OrderMemory; view?: (raw: AlertRecord) => AlertRecord } = {},
): GraphStreamApi {
	const { order, view: viewOf = alertStreamView, ...rest } = extra;
	const { server, delivery } = splitTriggerWhere(where);
	const raws = new WeakMap<AlertRecord, AlertRecord>();
	let requests = 0;

	const view = (raw: AlertRecord): AlertRecord => {
		const v = viewOf(raw);
		if (v !== raw) raws.set(v, raw);
		return v;
	};
	const queryOf = (q: StreamListQuery): AlertListQuery => {
		const w: AlertWhere = { ...server };
		if (q.stream) w[AFTER[q.stream.field]] = q.stream.from;
		return { where: w, orderBy: q.orderBy, top: q.top, skip: q.skip, expandEvidence: q.expandEvidence };
	};

	// The whole window of one (field, from), sorted, when the service does not order (see Order above).
	let window: { field: TimeField; from: bigint; items: AlertRecord[] } | undefined;
	const readWindow = async (q: StreamListQuery & { stream: { field: TimeField; from: string } }): Promise<AlertRecord[]> => {
		const { field } = q.stream;
		const from = toTicks(q.stream.from);
		if (!window || window.field !== field || from < window.from) {
			const items: AlertRecord[] = [];
			const query = { ...queryOf(q), orderBy: undefined };
			const take = (page: AlertRecord[]) => {
				requests++;
				for (const raw of page) items.push(view(raw));
				if (items.length > MAX_UNORDERED_WINDOW) {
					throw new GraphStreamError(
						`Microsoft Graph does not sort alerts for this tenant, and more than ${MAX_UNORDERED_WINDOW} alerts lie in the trigger's window`,
						'The trigger then reads its whole window each poll to keep every alert exactly once. Narrow the Filters (Severity, Status), or use the Defender for Endpoint API until the backlog is delivered.',
					);
				}
			};
			if (source.pages) {
				for await (const page of source.pages(query, Infinity)) take(page);
			} else {
				const top = q.top;
				for (let skip = 0; ; skip += top) {
					const page = await source.listAlerts({ ...query, top, skip });
					take(page);
					if (page.length < top) break;
				}
			}
			const key = (a: AlertRecord) => ticksOf(a[field]) ?? -1n;
			items.sort((a, b) => {
				const d = key(a) - key(b);
				return d < 0n ? -1 : d > 0n ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
			});
			window = { field, from, items };
		}
		const skip = q.skip ?? 0;
		return window.items.filter((a) => (ticksOf(a[field]) ?? -1n) >= from).slice(skip, skip + q.top);
	};

	const api: GraphStreamApi = {
		tenantId: source.tenantId,
		...rest,
		get requests() {
			return requests;
		},
		async listAlerts(q: StreamListQuery): Promise<AlertRecord[]> {
			const unordered = () => order?.unordered() === true || source.ordered?.() === false;
			if (q.stream && unordered()) return await readWindow({ ...q, stream: q.stream });
			const page = await source.listAlerts(order?.unordered() ? { ...queryOf(q), orderBy: undefined } : queryOf(q));
			requests++;
			if (source.ordered?.() === false) order?.markUnordered();
			// The service refused $orderby during this request: this page is in its default order; read the window.
			if (q.stream && unordered()) return await readWindow({ ...q, stream: q.stream });
			return page.map(view);
		},
		deliver(alert: AlertRecord): boolean {
			const raw = raws.get(alert) ?? alert;
			return delivery.every((clause) => clause.test(raw));
		},
		rawOf(alert: AlertRecord): AlertRecord {
			return raws.get(alert) ?? alert;
		},
		portalUrl(id: string): string {
			return source.portalUrl(id);
		},
	};
	return api;
}
