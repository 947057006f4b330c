/**
 * The trigger's parameters (the node file keeps only the node's identity: name, icon, outputs). Max Throttle Wait
 * comes from descriptions/common with core/limits' trigger limits, so its default and maximum have one owner (the
 * same one trigger/settings.ts parses it with).
 *
 * Versions: 1.1 (new nodes) has Start From, Hours Back and Start Date as top-level parameters, so the field Start From
 * asks for appears with it. Version 1 (saved workflows) keeps them inside Options, as they were: n8n drops collection
 * values its description no longer lists, so they stay there (shown for version 1 only) and trigger/settings.ts
 * reads them from where the node's version has them.
 */
import type { INodeProperties } from 'n8n-workflow';

import { THROTTLE_WAIT } from '../core/limits';
import { maxThrottleWaitProperty, regionProperty } from '../descriptions/common';
import { categoryFilter, detectionSourceFilter, severityFilter, statusFilter } from '../descriptions/filters';
import { incidentFilters } from '../descriptions/incident';
import { DEFAULT_MAX_ALERTS_PER_POLL } from './settings';

/** The trigger's versions: 1 (Start From in Options) and 1.1 (Start From top-level). */
export const TRIGGER_VERSIONS = [1, 1.1];
export const TRIGGER_DEFAULT_VERSION = 1.1;
const V1 = { '@version': [1] };

const START_FROM_OPTIONS = [
	{ name: 'Now', value: 'now', description: 'Only alerts from the moment the workflow is activated (by Defender\'s clock, not this server\'s)' },
	{ name: 'Hours Back', value: 'hoursBack', description: 'Also deliver the last N hours on the first poll' },
	{ name: 'Date', value: 'date', description: 'Deliver everything since this date on the first poll' },
];
const START_FROM_DESCRIPTION = 'Where the first poll starts (later polls continue from where the previous one stopped)';

export const properties: INodeProperties[] = [
	{
		displayName: 'Event',
		name: 'event',
		type: 'options',
		noDataExpression: true,
		options: [
			{ name: 'New Alert', value: 'newAlert', description: 'An alert was created (by alertCreationTime)' },
			{ name: 'New Incident', value: 'newIncident', description: 'Microsoft Graph: an incident was created (needs SecurityIncident.Read.All)' },
			{ name: 'Updated Alert', value: 'updatedAlert', description: 'An alert changed (by lastUpdateTime)' },
			{ name: 'Updated Incident', value: 'updatedIncident', description: 'Microsoft Graph: an incident changed, each version once (needs SecurityIncident.Read.All)' },
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
	{
		displayName: 'Start From',
		name: 'startFrom',
		type: 'options',
		options: START_FROM_OPTIONS,
		default: 'now',
		description: START_FROM_DESCRIPTION,
		displayOptions: { hide: V1 },
	},
	{
		displayName: 'Hours Back',
		name: 'hoursBack',
		type: 'number',
		typeOptions: { minValue: 0 },
		default: 24,
		description: 'How many hours before activation the first poll starts',
		displayOptions: { show: { startFrom: ['hoursBack'] }, hide: V1 },
	},
	{
		displayName: 'Start Date',
		name: 'startDate',
		type: 'dateTime',
		default: '',
		description: 'The first poll delivers alerts from this date on',
		displayOptions: { show: { startFrom: ['date'] }, hide: V1 },
	},
	regionProperty,
	{
		displayName: 'Tenants',
		name: 'tenants',
		type: 'string',
		typeOptions: { rows: 4 },
		default: '',
		placeholder: 'e.g.\n11111111-2222-3333-4444-555555555555=Contoso\nfabrikam.onmicrosoft.com=Fabrikam',
		description:
			'MSSP: the customer tenants to poll with the credential\'s multi-tenant app, one per line (or comma-separated): "tenant" or "tenant=Label", the tenant as GUID or verified domain; or an expression returning a list of IDs or {tenantId, label} objects. Empty: the credential\'s tenant. Each tenant keeps its own cursor; a failing tenant or an entry that is not a tenant goes to the Tenant Failures output on every poll without stopping the others.',
	},
	{
		displayName: 'Filters',
		name: 'filters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		options: [categoryFilter, detectionSourceFilter, severityFilter, statusFilter],
		displayOptions: { show: { event: ['newAlert', 'updatedAlert'] } },
	},
	{
		displayName: 'Incident Filters',
		name: 'incidentFilters',
		type: 'collection',
		placeholder: 'Add Filter',
		default: {},
		// the incident resource's own Severity and Status (Microsoft Graph values), applied by the server
		options: (incidentFilters.options ?? []).filter((o) => o.name === 'severity' || o.name === 'status') as INodeProperties[],
		displayOptions: { show: { event: ['newIncident', 'updatedIncident'] } },
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
				// version 1 only (1.1: the top-level Hours Back)
				displayOptions: { show: { ...V1, startFrom: ['hoursBack'] } },
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
				displayName: 'Simplify',
				name: 'simplify',
				type: 'boolean',
				default: false,
				description:
					'Whether to output only the ticket-ready fields, as the action node\'s Simplify does: the same keys and values on the Defender for Endpoint API and Microsoft Graph, so the workflow keeps working when the credential\'s Alerts API is switched (plus event and, when watching fields, changedFields and previous)',
			},
			{
				displayName: 'Start Date',
				name: 'startDate',
				type: 'dateTime',
				default: '',
				// version 1 only (1.1: the top-level Start Date)
				displayOptions: { show: { ...V1, startFrom: ['date'] } },
			},
			{
				displayName: 'Start From',
				name: 'startFrom',
				type: 'options',
				options: START_FROM_OPTIONS,
				default: 'now',
				description: START_FROM_DESCRIPTION,
				// version 1 only (1.1: the top-level Start From)
				displayOptions: { show: V1 },
			},
		],
	},
];
