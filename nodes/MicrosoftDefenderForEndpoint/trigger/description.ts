/**
 * The trigger's parameters (the node file keeps only the node's identity: name, icon, outputs). Moved as-is from
 * the node file; Max Throttle Wait comes from descriptions/common with core/limits' trigger limits, so its default
 * and maximum have one owner (the same one trigger/settings.ts parses it with).
 */
import type { INodeProperties } from 'n8n-workflow';

import { THROTTLE_WAIT } from '../core/limits';
import { maxThrottleWaitProperty, regionProperty } from '../descriptions/common';
import { categoryFilter, detectionSourceFilter, severityFilter, statusFilter } from '../descriptions/filters';
import { DEFAULT_MAX_ALERTS_PER_POLL } from './settings';

export const properties: INodeProperties[] = [
	{
		displayName: 'Event',
		name: 'event',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'New Alert', value: 'newAlert', description: 'An alert was created (by alertCreationTime)' },
			{ name: 'Updated Alert', value: 'updatedAlert', description: 'An alert changed (by lastUpdateTime)' },
		],
		default: 'newAlert',
	},
	{
		displayName: 'Only When These Fields Change',
		name: 'watchFields',
		type: 'multiOptions',
		options: [
			{ name: 'Assigned To', value: 'assignedTo' },
			{ name: 'Classification', value: 'classification' },
			{ name: 'Comments', value: 'comments' },
			{ name: 'Determination', value: 'determination' },
			{ name: 'Status', value: 'status' },
		],
		default: [],
		displayOptions: { show: { event: ['updatedAlert'] } },
		description: 'Emit an update only when one of these changed since the alert was last seen (output adds changedFields and previous). Empty: every update.',
	},
	regionProperty,
	{
		displayName: 'Tenants',
		name: 'tenants',
		type: 'string',
		default: '',
		placeholder: 'e.g. 11111111-…=Contoso, fabrikam.onmicrosoft.com=Fabrikam',
		description:
			'MSSP: poll these customer tenants with the credential\'s multi-tenant app. Comma- or newline-separated "tenant" or "tenant=Label" entries, or an expression returning a list of IDs or {tenantId, label} objects. Empty: the credential\'s tenant. Each tenant has its own cursor (kept by tenant GUID, so a domain and its GUID are the same tenant); a failing tenant, or an entry that is not a tenant, goes to the Tenant Failures output on every poll without stopping the others.',
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		options: [categoryFilter, detectionSourceFilter, severityFilter, statusFilter],
	},
	{
		displayName: 'Options',
		name: 'options',
		type: 'collection',
		placeholder: 'Add Option',
		default: {},
		options: [
			{
				displayName: 'Hours Back',
				name: 'hoursBack',
				type: 'number',
				typeOptions: { minValue: 0 },
				default: 24,
				displayOptions: { show: { startFrom: ['hoursBack'] } },
			},
			{
				displayName: 'Include Evidence',
				name: 'includeEvidence',
				type: 'boolean',
				default: false,
				description: 'Whether to include each alert\'s evidence (files, processes, users…); larger responses',
			},
			{
				displayName: 'Late Arrival Window (Minutes)',
				name: 'overlapMinutes',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 1440 },
				default: 15,
				description: 'Alerts can appear in the API a while after their timestamp; each poll re-reads this window and skips what it already emitted',
			},
			{
				displayName: 'Max Alerts per Poll',
				name: 'maxAlertsPerPoll',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 50000 },
				default: DEFAULT_MAX_ALERTS_PER_POLL,
				description: 'Per tenant. A larger backlog drains over the next polls, oldest first, without gaps.',
			},
			{
				displayName: 'Max Concurrent Tenants',
				name: 'concurrency',
				type: 'number',
				typeOptions: { minValue: 1, maxValue: 50 },
				default: 5,
				description: 'How many tenants are polled at the same time',
			},
			maxThrottleWaitProperty(
				THROTTLE_WAIT.trigger,
				'How long Defender throttling (HTTP 429) may be waited out within one poll (never beyond the poll\'s time budget). Beyond it the poll fails (with Tenants: the tenant goes to Tenant Failures) saying when to retry; nothing is lost.',
			),
			{
				displayName: 'Output',
				name: 'outputMode',
				type: 'options',
				options: [
					{ name: 'One Item per Alert', value: 'perAlert' },
					{ name: 'One Item With All Alerts', value: 'single' },
				],
				default: 'perAlert',
			},
			{
				displayName: 'Page Size',
				name: 'pageSize',
				type: 'number',
				typeOptions: { minValue: 0, maxValue: 10000 },
				default: 0,
				description: 'Alerts per API request (up to 10,000). 0: automatic (what the poll will read, the late-arrival window plus Max Alerts per Poll, in one request: at least 1,000, at most 10,000, or 1,000 with evidence). Smaller pages help when evidence is included.',
			},
			{
				displayName: 'Start Date',
				name: 'startDate',
				type: 'dateTime',
				default: '',
				displayOptions: { show: { startFrom: ['date'] } },
			},
			{
				displayName: 'Start From',
				name: 'startFrom',
				type: 'options',
				options: [
					{ name: 'Now', value: 'now', description: 'Only alerts from the moment the workflow is activated (by Defender\'s clock, not this server\'s)' },
					{ name: 'Hours Back', value: 'hoursBack', description: 'Also deliver the last N hours on the first poll' },
					{ name: 'Date', value: 'date', description: 'Deliver everything since this date on the first poll' },
				],
				default: 'now',
				description: 'Where the first poll starts (later polls continue from where the previous one stopped)',
			},
		],
	},
];
