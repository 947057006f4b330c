/**
 * The indicator fields of Submit and Submit Many (one indicator per input item) and their reader, which validates
 * every value before any request (Submit or Update Indicator API:
 * https://learn.microsoft.com/en-us/defender-endpoint/api/post-ti-indicator).
 */
import type { IDataObject, IExecuteFunctions, INodeProperties } from 'n8n-workflow';

import type { IndicatorInput } from '../backend/indicators';
import {
	actionProblem,
	expirationProblem,
	INDICATOR_ACTION_LABELS,
	INDICATOR_ACTIONS,
	INDICATOR_SEVERITIES,
	INDICATOR_TYPE_LABELS,
	INDICATOR_TYPES,
	type IndicatorAction,
	type IndicatorType,
	isBlockingAction,
	normalizeIndicatorValue,
	parseGroupNames,
} from '../helpers/indicators';
import { inputError, toCanonicalUtc, validateEnum } from '../helpers/validation';

export const INDICATOR_TYPE_OPTIONS = INDICATOR_TYPES.map((t) => ({ name: INDICATOR_TYPE_LABELS[t], value: t })).sort((a, b) => a.name.localeCompare(b.name));

const ACTION_DESCRIPTIONS: Record<IndicatorAction, string> = {
	Allowed: 'Let the file, IP, URL, domain or certificate run or load (overrides a Microsoft verdict)',
	Audit: 'Raise an alert when it is seen, block nothing (Generate Alert is sent as true)',
	Warn: 'Warn the user, who may continue (files, IPs, URLs, domains)',
	Block: 'Block it from running or loading (files, IPs, URLs, domains). Blocking.',
	BlockAndRemediate: 'Block it and remediate (files and certificates). Blocking.',
	Alert: 'Pre-2022 name of Audit with an alert; Defender may reject it',
	AlertAndBlock: 'Pre-2022 name of Block and Remediate; Defender may reject it. Blocking.',
};

export const INDICATOR_ACTION_OPTIONS = INDICATOR_ACTIONS.map((a) => ({ name: INDICATOR_ACTION_LABELS[a], value: a, description: ACTION_DESCRIPTIONS[a] })).sort((a, b) =>
	a.name.localeCompare(b.name),
);

export const indicatorTypeProperty: INodeProperties = {
	displayName: 'Indicator Type',
	name: 'indicatorType',
	type: 'options',
	options: INDICATOR_TYPE_OPTIONS,
	default: 'FileSha256',
	required: true,
	description: 'What the value is; Defender keeps one indicator per type and value',
};

export const indicatorValueProperty: INodeProperties = {
	displayName: 'Value',
	name: 'indicatorValue',
	type: 'string',
	default: '',
	required: true,
	placeholder: 'e.g. 2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae',
	description:
		'The hash (hexadecimal), certificate thumbprint (SHA-1), IP address (a single IPv4 or IPv6 address, no CIDR; external addresses only), domain (covers its subdomains) or URL',
};

/** Indicator fields shared by Submit and Submit Many. */
export function indicatorFields(valueDescription?: string): INodeProperties[] {
	return [
		indicatorTypeProperty,
		valueDescription ? { ...indicatorValueProperty, description: valueDescription } : indicatorValueProperty,
		{
			displayName: 'Action',
			name: 'indicatorAction',
			type: 'options',
			options: INDICATOR_ACTION_OPTIONS,
			default: 'Audit',
			required: true,
			description:
				'What Defender does when it sees the indicator. Files: Allow, Audit, Warn, Block Execution, Block and Remediate; IPs, URLs, domains: Allow, Audit, Warn, Block Execution; certificates: Allow, Block and Remediate.',
		},
		{
			displayName: 'Title',
			name: 'title',
			type: 'string',
			default: '',
			required: true,
			placeholder: 'e.g. Emotet loader (ticket INC-1234)',
			description: 'Indicator title, also the title of the alerts it raises',
		},
		{
			displayName: 'Description',
			name: 'description',
			type: 'string',
			typeOptions: { rows: 2 },
			default: '',
			required: true,
			description: 'Why the indicator exists (shown on the indicator and its alerts)',
		},
		{
			displayName: 'Severity',
			name: 'indicatorSeverity',
			type: 'options',
			options: INDICATOR_SEVERITIES.map((s) => ({ name: s, value: s })),
			default: 'Informational',
			description: 'Severity of the alerts the indicator raises',
		},
		{
			displayName: 'Additional Fields',
			name: 'additionalFields',
			type: 'collection',
			placeholder: 'Add Field',
			default: {},
			options: [
				{
					displayName: 'Application',
					name: 'application',
					type: 'string',
					default: '',
					description: 'Application associated with the indicator (only set when the indicator is created, not on updates)',
				},
				{
					displayName: 'Device Groups',
					name: 'rbacGroupNames',
					type: 'string',
					default: '',
					placeholder: 'e.g. Servers, Finance laptops',
					description: 'Comma-separated device group (RBAC group) names the indicator applies to; empty = all devices',
				},
				{
					displayName: 'Expiration Time',
					name: 'expirationTime',
					type: 'dateTime',
					default: '',
					description: 'When the indicator stops applying (must be in the future); empty = never. Expired indicators no longer count against the tenant limit of 15,000.',
				},
				{
					displayName: 'Generate Alert',
					name: 'generateAlert',
					type: 'boolean',
					default: true,
					description: 'Whether a match raises an alert (required for Audit)',
				},
				{
					displayName: 'Recommended Actions',
					name: 'recommendedActions',
					type: 'string',
					typeOptions: { rows: 2 },
					default: '',
					description: 'What analysts should do when the indicator raises an alert',
				},
			],
		},
		{
			displayName: 'Dry Run',
			name: 'dryRun',
			type: 'boolean',
			default: false,
			description: 'Whether to only validate and return what would be sent, without sending anything to Defender',
		},
	];
}

export interface ReadIndicator {
	input: IndicatorInput;
	blocking: boolean;
}

function requiredText(ctx: IExecuteFunctions, i: number, name: string, label: string): string {
	const raw = ctx.getNodeParameter(name, i, '') as unknown;
	const value = raw === undefined || raw === null ? '' : String(raw).trim();
	if (!value) throw inputError(ctx.getNode(), i, `${label} is empty`, `Defender requires a ${label} for every indicator.`);
	return value;
}

/** Read and validate one item's indicator (no request). */
export function readIndicator(ctx: IExecuteFunctions, i: number, nowMs = Date.now()): ReadIndicator {
	const node = ctx.getNode();
	const type = validateEnum(node, i, 'Indicator Type', ctx.getNodeParameter('indicatorType', i, ''), INDICATOR_TYPES) as IndicatorType;
	const value = normalizeIndicatorValue(type, ctx.getNodeParameter('indicatorValue', i, ''));
	if (!value.ok) throw inputError(node, i, value.message, value.hint);
	const action = validateEnum(node, i, 'Action', ctx.getNodeParameter('indicatorAction', i, ''), INDICATOR_ACTIONS) as IndicatorAction;
	const mismatch = actionProblem(type, action);
	if (mismatch) throw inputError(node, i, mismatch.message, mismatch.hint);
	const input: IndicatorInput = {
		indicatorValue: value.value,
		indicatorType: type,
		action,
		title: requiredText(ctx, i, 'title', 'Title'),
		description: requiredText(ctx, i, 'description', 'Description'),
		severity: validateEnum(node, i, 'Severity', ctx.getNodeParameter('indicatorSeverity', i, 'Informational'), INDICATOR_SEVERITIES),
	};
	const extra = ctx.getNodeParameter('additionalFields', i, {}) as IDataObject;
	const expiration = toCanonicalUtc(node, i, 'Expiration Time', extra.expirationTime, ctx.getTimezone());
	if (expiration) {
		const late = expirationProblem(expiration, nowMs);
		if (late) throw inputError(node, i, late.message, late.hint);
		input.expirationTime = expiration;
	}
	const recommended = typeof extra.recommendedActions === 'string' ? extra.recommendedActions.trim() : '';
	if (recommended) input.recommendedActions = recommended;
	const groups = parseGroupNames(extra.rbacGroupNames);
	if (groups.length) input.rbacGroupNames = groups;
	const application = typeof extra.application === 'string' ? extra.application.trim() : '';
	if (application) input.application = application;
	if (extra.generateAlert !== undefined && extra.generateAlert !== null && extra.generateAlert !== '') {
		if (typeof extra.generateAlert !== 'boolean') throw inputError(node, i, `Generate Alert "${String(extra.generateAlert)}" is not true or false`);
		input.generateAlert = extra.generateAlert;
	}
	if (action === 'Audit') {
		// "The GenerateAlert parameter must be set to TRUE when creating an action with Audit" (Submit Indicator API).
		if (input.generateAlert === false) {
			throw inputError(node, i, 'Generate Alert is off for an Audit indicator', 'Defender requires Generate Alert for Audit (an audit indicator only raises alerts). Turn it on, or choose another action.');
		}
		input.generateAlert = true;
	}
	return { input, blocking: isBlockingAction(action) };
}
