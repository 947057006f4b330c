/** Shapes alert output: deep link, tenant, dedup key, customer label, and the ticket-ready "simplified" view. */
import type { IDataObject } from 'n8n-workflow';

import type { AlertBackend, AlertRecord } from '../backend/types';
import { isGuid } from '../core/ids';
import type { CommonParams } from './params';

/** The tenant GUID an alert belongs to: the tenant called when it is a GUID, else the alert's own aadTenantId. */
export function outputTenantId(backend: AlertBackend, alert?: object): string {
	if (isGuid(backend.tenantId)) return backend.tenantId.toLowerCase();
	const own = (alert as { aadTenantId?: unknown } | undefined)?.aadTenantId;
	if (typeof own === 'string' && isGuid(own)) return own.toLowerCase();
	return backend.tenantId;
}

export function dedupKey(tenantId: string, alertId: string): string {
	return `${tenantId}:${alertId}`;
}

/** Adds portalUrl, tenantId, dedupKey and customerLabel to the alert object itself (no copy of large pages). */
export function decorateAlert(alert: AlertRecord, backend: AlertBackend, common: CommonParams): IDataObject {
	const out = alert as unknown as IDataObject;
	const tenantId = outputTenantId(backend, alert);
	out.portalUrl = backend.portalUrl(alert.id);
	out.tenantId = tenantId;
	out.dedupKey = dedupKey(tenantId, alert.id);
	if (common.customerLabel !== undefined) out.customerLabel = common.customerLabel;
	return out;
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

/** Ticket-ready fields of a decorated alert; relatedUser becomes "DOMAIN\\user". */
export function simplifyAlert(alert: IDataObject): IDataObject {
	const out: IDataObject = {};
	for (const key of SIMPLE_FIELDS) {
		const value = alert[key];
		if (key === 'relatedUser') out.relatedUser = userText(value);
		else out[key] = value === undefined ? null : value;
	}
	if (alert.customerLabel !== undefined) out.customerLabel = alert.customerLabel;
	return out;
}
