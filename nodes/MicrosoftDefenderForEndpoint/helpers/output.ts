/** Shapes alert output: deep link, tenant, dedup key, customer label, and the ticket-ready "simplified" view. */
import type { IDataObject } from 'n8n-workflow';

import type { AlertBackend, AlertRecord } from '../backend/types';
import { defenderFieldsOfGraphAlert, isGraphAlert, stableAlertId } from '../core/graphAlerts';
import { isGuid } from '../core/ids';
import type { CommonParams } from './params';

/**
 * The tenant GUID an alert belongs to: the tenant called when it is a GUID, else the alert's own tenant
 * (`aadTenantId` on the Defender API, `tenantId` on Microsoft Graph).
 */
export function outputTenantId(backend: Pick<AlertBackend, 'tenantId'>, alert?: object): string {
	if (isGuid(backend.tenantId)) return backend.tenantId.toLowerCase();
	const a = alert as { aadTenantId?: unknown; tenantId?: unknown } | undefined;
	const own = a?.aadTenantId ?? (isGraphAlert(a) ? a.tenantId : undefined);
	if (typeof own === 'string' && isGuid(own)) return own.toLowerCase();
	return backend.tenantId;
}

export function dedupKey(tenantId: string, alertId: string): string {
	return `${tenantId}:${alertId}`;
}

export interface AlertDecoration {
	/** the alert's tenant as outputTenantId gives it */
	tenantId: string;
	portalUrl: string;
	/** set only when defined */
	customerLabel?: string;
}

/**
 * Sets portalUrl, tenantId, dedupKey and customerLabel (in that order) on the alert object itself: no copy of large
 * pages. Shared by the action node (decorateAlert) and the trigger, so both give one alert the same dedupKey. On
 * Microsoft Graph the key uses the Defender alert id (`providerAlertId`) of Defender for Endpoint alerts, so it is
 * the same on both APIs.
 */
export function decorateAlertFields(alert: AlertRecord, fields: AlertDecoration): IDataObject {
	const out = alert as unknown as IDataObject;
	out.portalUrl = fields.portalUrl;
	out.tenantId = fields.tenantId;
	out.dedupKey = dedupKey(fields.tenantId, stableAlertId(alert));
	if (fields.customerLabel !== undefined) out.customerLabel = fields.customerLabel;
	return out;
}

/** Adds portalUrl, tenantId, dedupKey and customerLabel to the alert object itself (no copy of large pages). */
export function decorateAlert(alert: AlertRecord, backend: AlertBackend, common: CommonParams): IDataObject {
	const tenantId = outputTenantId(backend, alert);
	return decorateAlertFields(alert, { tenantId, portalUrl: backend.portalUrl(stableAlertId(alert)), customerLabel: common.customerLabel });
}

export const SIMPLE_FIELDS = [
	'id',
	'title',
	'severity',
	'status',
	'category',
	'detectionSource',
	'alertCreationTime',
	'lastUpdateTime',
	'computerDnsName',
	'machineId',
	'relatedUser',
	'assignedTo',
	'classification',
	'determination',
	'incidentId',
	'mitreTechniques',
	'portalUrl',
	'tenantId',
	'dedupKey',
] as const;

function userText(user: unknown): string | null {
	if (!user || typeof user !== 'object') return typeof user === 'string' && user ? user : null;
	const u = user as { userName?: unknown; domainName?: unknown };
	const name = typeof u.userName === 'string' ? u.userName : '';
	const domain = typeof u.domainName === 'string' ? u.domainName : '';
	if (!name) return null;
	return domain ? `${domain}\\${name}` : name;
}

/**
 * Ticket-ready fields of a decorated alert; relatedUser becomes "DOMAIN\\user". The same keys and spellings on both
 * APIs: a Microsoft Graph alert is read through core/graphAlerts (enums in the Defender spelling, device and user
 * from its evidence), so a workflow built on Simplify survives switching the credential's Alerts API.
 */
export function simplifyAlert(alert: IDataObject): IDataObject {
	const out: IDataObject = {};
	const source: IDataObject = isGraphAlert(alert) ? ({ ...alert, ...defenderFieldsOfGraphAlert(alert) } as IDataObject) : alert;
	for (const key of SIMPLE_FIELDS) {
		const value = source[key];
		if (key === 'relatedUser') out.relatedUser = userText(value);
		else out[key] = value === undefined ? null : value;
	}
	if (alert.customerLabel !== undefined) out.customerLabel = alert.customerLabel;
	return out;
}
