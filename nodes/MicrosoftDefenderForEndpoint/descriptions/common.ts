/** Parameters shared by several operations: region, customer tenant, options, the alert resource locator. */
import type { INodeProperties } from 'n8n-workflow';

import { regionChoices } from '../core/clouds';
import { MAX_LIMIT, THROTTLE_WAIT, type ThrottleWaitLimits } from '../core/limits';
import { ALERT_ID_PATTERN, ALERT_URL_EXTRACT, ALERT_URL_PATTERN } from '../helpers/validation';

export const regionProperty: INodeProperties = {
	displayName: 'Region',
	name: 'region',
	type: 'options',
	// Global first: it is the default and the only choice for government and custom clouds.
	options: regionChoices().map(({ label, value, host }) => ({
		name: label,
		value,
		description: `Send requests to ${host ?? 'api.security.microsoft.com (or the API host of the credential\'s cloud)'}`,
	})),
	default: 'global',
	description:
		'Defender API host closest to the tenant\'s data. Regions exist only in the Commercial cloud; government clouds use Global. Alert operations ignore it when the credential\'s Alerts API is Microsoft Graph (one host per cloud; the output gets a hint); machines and indicators always use it.',
};

export const customerTenantProperty: INodeProperties = {
	displayName: 'Customer Tenant',
	name: 'customerTenant',
	type: 'string',
	default: '',
	placeholder: 'e.g. 11111111-2222-3333-4444-555555555555 or fabrikam.onmicrosoft.com',
	description:
		'MSSP: act on this customer tenant (GUID or verified domain) with the credential\'s multi-tenant app; empty = the credential\'s tenant. The customer\'s administrator must have consented to the app (Tenant → Get Consent Link).',
};

/** Return All / Limit, as every Get Many has them (the limit's bound is core/limits' MAX_LIMIT). */
export const returnAllAndLimit: INodeProperties[] = [
	{
		displayName: 'Return All',
		name: 'returnAll',
		type: 'boolean',
		default: false,
		description: 'Whether to return all results or only up to a given limit',
	},
	{
		displayName: 'Limit',
		name: 'limit',
		type: 'number',
		typeOptions: { minValue: 1, maxValue: MAX_LIMIT },
		default: 50,
		description: 'Max number of results to return',
		displayOptions: { show: { returnAll: [false] } },
	},
];

/** The Max Throttle Wait option; default and bounds come from core/limits. */
export function maxThrottleWaitProperty(limits: ThrottleWaitLimits, description: string): INodeProperties {
	// The lint rule wants a literal default; this one is core/limits' value (one owner for both nodes' defaults).
	// eslint-disable-next-line n8n-nodes-base/node-param-default-missing
	return {
		displayName: 'Max Throttle Wait (Seconds)',
		name: 'maxThrottleWait',
		type: 'number',
		typeOptions: { minValue: 0, maxValue: limits.maxSeconds },
		default: limits.defaultSeconds,
		description,
	};
}

export function optionsCollection(extra: INodeProperties[] = []): INodeProperties {
	const base: INodeProperties[] = [
		{
			displayName: 'Customer Label',
			name: 'customerLabel',
			type: 'string',
			default: '',
			placeholder: 'e.g. Fabrikam Ltd',
			description: 'Copied into every output item as "customerLabel", e.g. to route tickets per customer',
		},
		maxThrottleWaitProperty(
			THROTTLE_WAIT.action,
			'How long Defender throttling (HTTP 429) may be waited out before the item fails with a message saying when to retry',
		),
	];
	return {
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [...base, ...extra].sort((a, b) => a.displayName.localeCompare(b.displayName)),
	};
}

export function alertLocator(description = 'The alert to use'): INodeProperties {
	return {
		displayName: 'Alert',
		name: 'alertId',
		type: 'resourceLocator',
		default: { mode: 'list', value: '' },
		required: true,
		description,
		modes: [
			{
				displayName: 'From List',
				name: 'list',
				type: 'list',
				placeholder: 'Select an alert...',
				typeOptions: { searchListMethod: 'searchAlerts', searchable: true },
			},
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: 'e.g. da638712345678901234_-1234567890',
				validation: [{ type: 'regex', properties: { regex: ALERT_ID_PATTERN, errorMessage: 'Not a Defender alert ID (e.g. da638712345678901234_-1234567890)' } }],
			},
			{
				displayName: 'By URL',
				name: 'url',
				type: 'string',
				placeholder: 'e.g. https://security.microsoft.com/alerts/da638712345678901234_-1234567890',
				extractValue: { type: 'regex', regex: ALERT_URL_EXTRACT },
				validation: [{ type: 'regex', properties: { regex: ALERT_URL_PATTERN, errorMessage: 'Not a Defender portal alert link' } }],
			},
		],
	};
}

const SIMPLIFY_DESCRIPTION =
	'Whether to return only ticket-ready fields (ID, title, severity, status, category, detection source, times, device, user, assignee, classification, determination, incident ID, MITRE techniques, portal link, tenant, dedup key) instead of the full alert';

/** Simplify, on by default (Get Many). */
export const simplifyOn: INodeProperties = {
	displayName: 'Simplify',
	name: 'simplify',
	type: 'boolean',
	default: true,
	description: SIMPLIFY_DESCRIPTION,
};

/** Simplify, off by default (single-alert operations of node version 1). */
export const simplifyOff: INodeProperties = {
	displayName: 'Simplify',
	name: 'simplify',
	type: 'boolean',
	default: false,
	description: SIMPLIFY_DESCRIPTION,
};

/**
 * Simplify of the single-alert operations (Get, Update, Add Comment, Create by Reference): on by default from node
 * version 1.1, as in Get Many, so Get, Get Many and Update give the same shape unless asked otherwise. Saved
 * version-1 nodes keep their default (off): n8n does not store a default, so changing it in place would change
 * their output.
 */
export const simplifySingleAlert: INodeProperties[] = [
	{ ...simplifyOff, displayOptions: { show: { '@version': [1] } } },
	{ ...simplifyOn, displayOptions: { hide: { '@version': [1] } } },
];

/** The action node's versions: 1, and 1.1 (Simplify on by default in the single-alert operations). */
export const NODE_VERSIONS = [1, 1.1];
export const NODE_DEFAULT_VERSION = 1.1;

/**
 * The action node's description. The trigger's description starts with it: n8n's node creator shows one entry for a
 * node and its trigger (same name without "Trigger") and gives that entry the TRIGGER's description
 * (editor-ui generateMergedNodesAndActions), so this is the text users see for the action node there.
 */
export const NODE_DESCRIPTION =
	'Triage alerts, investigate and isolate machines, and manage indicators in Microsoft Defender for Endpoint, for one tenant or many (MSSP)';

/**
 * The parameters that say WHAT an operation acts on (the alert, the machine, the filters…). The node lists them right
 * after the operation, before Region and Customer Tenant (WHERE), then the rest (HOW), Options last.
 */
const MAIN_FIELDS = new Set([
	'alertId',
	'alertIds',
	'filters',
	'machineSource',
	'machineId',
	'actionId',
	'ip',
	'tag',
	'deleteBy',
	'indicatorId',
	'indicatorType',
	'indicatorValue',
	'incidentId',
	'tenants',
	'query',
]);
export const isMainField = (p: INodeProperties): boolean => MAIN_FIELDS.has(p.name);
