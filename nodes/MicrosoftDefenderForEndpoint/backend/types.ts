/**
 * The API backend behind the operations and the trigger. Today: the Defender for Endpoint REST API (`mde`).
 * Microsoft's notice MC1220762 retires it on 2027-02-01 in favour of Microsoft Graph security `alerts_v2`;
 * a Graph backend implements this same interface (camelCase enums are mapped to the PascalCase values
 * used here), so operations and the poller do not change.
 */
export type AlertRecord = { id: string; [key: string]: unknown };

export type RelatedKind = 'domains' | 'files' | 'ips' | 'machine' | 'user';

export interface AlertListQuery {
	/** OData $filter (already built and validated) */
	filter?: string;
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
	readonly name: 'mde';
	/** tenant the calls go to (GUID or domain, as configured) */
	readonly tenantId: string;
	/** largest page the backend serves */
	readonly maxPageSize: number;
	/** largest id list per batch update call */
	readonly maxBatchSize: number;
	listAlerts(query: AlertListQuery): Promise<AlertRecord[]>;
	getAlert(id: string): Promise<AlertRecord>;
	updateAlert(id: string, patch: AlertPatch): Promise<AlertRecord>;
	batchUpdate(ids: string[], patch: AlertPatch): Promise<void>;
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

export interface TokenInfo {
	roles: string[];
	/** tenant GUID from the token (resolves a domain given as tenant) */
	tenantId?: string;
	appId?: string;
	/** ISO time the token expires */
	expiresAt?: string;
}
