/**
 * The API backend behind the operations and the trigger: the Defender for Endpoint REST API (`mde`, backend/mde.ts)
 * or Microsoft Graph security `alerts_v2` (`graph`, backend/graph.ts), chosen by the credential's Alerts API.
 * Microsoft's notice MC1220762 retires the Defender API on 2027-02-01. Both take the same patches and queries in the
 * package's PascalCase values (the Graph backend maps them, core/graphAlerts.ts); records are each API's own shape,
 * and Simplify (helpers/output.ts) gives the same fields for both.
 */
import type { AlertWhere } from '../core/graphAlerts';

export type { AlertWhere };

export type AlertRecord = { id: string; [key: string]: unknown };

export type RelatedKind = 'domains' | 'files' | 'ips' | 'machine' | 'user';

export interface AlertListQuery {
	/**
	 * Defender OData $filter (already built and validated), as the trigger builds it: the Defender backend only (the
	 * Graph backend refuses it with a clear message). New callers pass `where`.
	 */
	filter?: string;
	/** the structured query, rendered by each backend for its API (Defender OData or Graph `$filter`) */
	where?: AlertWhere;
	top: number;
	skip?: number;
	orderBy?: string;
	expandEvidence?: boolean;
}

export interface AlertPatch {
	status?: string;
	assignedTo?: string;
	classification?: string;
	determination?: string;
	comment?: string;
}

export interface CreateByReferenceInput {
	eventTime: string;
	reportId: string;
	machineId: string;
	severity: string;
	title: string;
	description: string;
	recommendedAction: string;
	category: string;
}

export interface AlertBackend {
	readonly name: 'mde' | 'graph';
	/** hints for the output (e.g. "Region is ignored with Microsoft Graph") */
	readonly notices?: string[];
	/** tenant the calls go to (GUID or domain, as configured) */
	readonly tenantId: string;
	/** largest page the backend serves */
	readonly maxPageSize: number;
	/** largest id list per batch update call */
	readonly maxBatchSize: number;
	listAlerts(query: AlertListQuery): Promise<AlertRecord[]>;
	/**
	 * Pages of alerts until `limit` (Infinity: all) are read, the way the API pages best (Graph: its @odata.nextLink,
	 * on its own origin only). Absent: callers page with listAlerts and $top/$skip.
	 */
	pages?(query: Omit<AlertListQuery, 'top' | 'skip'>, limit: number): AsyncGenerator<AlertRecord[]>;
	/**
	 * Graph: false once the service refused `$orderby` (undocumented for alerts_v2); lists then come in its default
	 * order. Absent: the API sorts as asked (the Defender API documents `$orderby`).
	 */
	ordered?(): boolean;
	getAlert(id: string): Promise<AlertRecord>;
	updateAlert(id: string, patch: AlertPatch): Promise<AlertRecord>;
	batchUpdate(ids: string[], patch: AlertPatch): Promise<void>;
	/**
	 * Read alerts back by id after a batch update (which answers 200 with no body, also for unknown ids), in as few
	 * reads as the API allows. Never throws for a failed read: ids it could not settle are in `unresolved`.
	 */
	readBack(ids: string[], options?: { updatedSince?: Date }): Promise<ReadBackResult>;
	/**
	 * Update each alert and report each one's own outcome (Graph: JSON batching, which answers per sub-request).
	 * Present when the API has no batch update of its own; then Update Many uses it instead of batchUpdate + readBack.
	 */
	updateEach?(ids: string[], patch: AlertPatch): Promise<UpdateEachResult>;
	createAlertByReference(input: CreateByReferenceInput): Promise<AlertRecord>;
	/** null when the API answers 404 for a machine or user the alert does not have */
	getRelated(id: string, kind: RelatedKind): Promise<unknown>;
	/** portal deep link for an alert */
	portalUrl(id: string): string;
	/** the access token's WindowsDefenderATP roles (for Check Access) */
	tokenRoles(): Promise<string[]>;
	/** roles plus the tenant GUID (`tid`) and app id the token was issued for (for Check Access) */
	tokenInfo(): Promise<TokenInfo>;
}

export type UpdateOutcome =
	| { status: 'updated'; alert: AlertRecord }
	| { status: 'notFound' }
	/** the error the API answered for this alert (already a NodeApiError with the API's message) */
	| { status: 'failed'; error: Error };

export interface UpdateEachResult {
	outcomes: Map<string, UpdateOutcome>;
	/** requests sent (Graph: $batch calls) */
	calls: number;
	/** sub-requests answered 429 and sent again */
	throttledRetries: number;
}

export interface ReadBackResult {
	/** the alerts that were read, by id */
	alerts: Map<string, AlertRecord>;
	/** ids whose read failed (neither found nor known to be missing) */
	unresolved: string[];
	/** API reads made */
	reads: number;
}

export interface TokenInfo {
	roles: string[];
	/** tenant GUID from the token (resolves a domain given as tenant) */
	tenantId?: string;
	appId?: string;
	/** ISO time the token expires */
	expiresAt?: string;
	/** the API the token is for (`aud`) */
	audience?: string;
}
