/** Parameters every operation has (Region, Customer Tenant, Options) and the backend they select. */
import type { IDataObject, IExecuteFunctions } from 'n8n-workflow';

import { MAX_LIMIT, parseMaxThrottleWaitMs, THROTTLE_WAIT } from '../core/limits';
import { ALERT_URL_EXTRACT, GRAPH_ALERT_URL_EXTRACT, inputError, validateAlertId, validateCustomerTenant, validateInteger, validateRegion } from './validation';

export interface CommonParams {
	region: string;
	/** undefined = the credential's tenant */
	customerTenant?: string;
	maxThrottleWaitMs: number;
	customerLabel?: string;
}

export function readCommon(ctx: IExecuteFunctions, i: number): CommonParams {
	const node = ctx.getNode();
	const region = validateRegion(node, i, ctx.getNodeParameter('region', i, 'global'));
	const customerTenant = validateCustomerTenant(node, i, ctx.getNodeParameter('customerTenant', i, ''));
	const options = ctx.getNodeParameter('options', i, {}) as IDataObject;
	let maxThrottleWaitMs: number;
	try {
		maxThrottleWaitMs = parseMaxThrottleWaitMs(options.maxThrottleWait, THROTTLE_WAIT.action);
	} catch (error) {
		throw inputError(node, i, (error as Error).message);
	}
	return { region, customerTenant, maxThrottleWaitMs, customerLabel: labelOf(options) };
}

/**
 * The alert id from the `alertId` resource locator (list, id or url mode), checked before any request. `api`: the
 * credential's Alerts API (backend/index.ts alertsApiOf): Microsoft Graph accepts the ids of every Defender XDR source.
 */
export function readAlertId(ctx: IExecuteFunctions, i: number, name = 'alertId', api: 'defender' | 'graph' = 'defender'): string {
	const node = ctx.getNode();
	const raw = ctx.getNodeParameter(name, i, '') as unknown;
	let mode = 'id';
	let value: unknown = raw;
	if (raw && typeof raw === 'object' && 'value' in (raw as object)) {
		mode = String((raw as { mode?: unknown }).mode ?? 'id');
		value = (raw as { value?: unknown }).value;
	}
	if (mode === 'url') {
		const text = typeof value === 'string' ? value.trim() : '';
		const match = new RegExp(`^${api === 'graph' ? GRAPH_ALERT_URL_EXTRACT : ALERT_URL_EXTRACT}(?:[/?#].*)?$`).exec(text);
		if (!match) {
			throw inputError(
				node,
				i,
				`"${text.length > 80 ? `${text.slice(0, 80)}…` : text}" is not a Defender portal alert link`,
				'Paste a link such as https://security.microsoft.com/alerts/da638712345678901234_-1234567890, or switch the Alert field to "By ID".',
			);
		}
		return match[1];
	}
	return validateAlertId(node, i, value, 'Alert ID', api);
}

/** Just the Customer Label option (operations that make no request). */
export function readCommonLabel(ctx: IExecuteFunctions, i: number): string | undefined {
	return labelOf(ctx.getNodeParameter('options', i, {}) as IDataObject);
}

function labelOf(options: IDataObject): string | undefined {
	const label = options.customerLabel;
	return label === undefined || label === null || String(label).trim() === '' ? undefined : String(label);
}

/** Return All / Limit (descriptions/common.ts returnAllAndLimit) as a count: Infinity with Return All. */
export function readLimit(ctx: IExecuteFunctions, i: number): number {
	if (ctx.getNodeParameter('returnAll', i, false) === true) return Infinity;
	return validateInteger(ctx.getNode(), i, 'Limit', ctx.getNodeParameter('limit', i, 50), 1, MAX_LIMIT);
}
