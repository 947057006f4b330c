/** Parameters of the Incident resource (Microsoft Graph security incidents): the incident locator, filters, update fields. */
import type { INodeProperties } from 'n8n-workflow';

import {
	INCIDENT_CLASSIFICATION_LABELS,
	INCIDENT_CLASSIFICATIONS,
	INCIDENT_DETERMINATION_LABELS,
	INCIDENT_DETERMINATIONS,
	INCIDENT_SEVERITIES,
	INCIDENT_SEVERITY_LABELS,
	INCIDENT_STATUS_LABELS,
	INCIDENT_STATUSES,
	INCIDENT_WRITABLE_STATUSES,
} from '../core/graphIncidents';
import { MAX_COMMENT_LENGTH } from '../helpers/validation';

/** Incident IDs are numbers (the incident resource type's examples, e.g. 2972395). */
export const INCIDENT_ID_PATTERN = '^\\s*\\d{1,20}\\s*$';
/** Defender portal incident links: /incidents/{id} (Graph's incidentWebUrl) and the portal's /incident2/{id}/… */
export const INCIDENT_URL_EXTRACT = 'https://security\\.(?:microsoft\\.com|microsoft\\.us|apps\\.mil)/(?:incidents|incident2)/(\\d{1,20})';
export const INCIDENT_URL_PATTERN = `^\\s*${INCIDENT_URL_EXTRACT}(?:[/?#].*)?\\s*$`;

export function incidentLocator(description: string): INodeProperties {
	return {
		displayName: 'Incident',
		name: 'incidentId',
		type: 'resourceLocator',
		default: { mode: 'id', value: '' },
		required: true,
		description,
		modes: [
			{
				displayName: 'By ID',
				name: 'id',
				type: 'string',
				placeholder: 'e.g. 2972395',
				validation: [{ type: 'regex', properties: { regex: INCIDENT_ID_PATTERN, errorMessage: 'Not an incident ID (a number, e.g. 2972395)' } }],
			},
			{
				displayName: 'By URL',
				name: 'url',
				type: 'string',
				placeholder: 'e.g. https://security.microsoft.com/incidents/2972395?tid=…',
				extractValue: { type: 'regex', regex: INCIDENT_URL_EXTRACT },
				validation: [{ type: 'regex', properties: { regex: INCIDENT_URL_PATTERN, errorMessage: 'Not a Defender portal incident link' } }],
			},
		],
	};
}

const sorted = <T extends { name: string }>(list: T[]) => [...list].sort((a, b) => a.name.localeCompare(b.name));

export const incidentFilters: INodeProperties = {
	displayName: 'Filters',
	name: 'filters',
	type: 'collection',
	placeholder: 'Add Filter',
	default: {},
	options: [
		{
			displayName: 'Assigned To',
			name: 'assignedTo',
			type: 'string',
			default: '',
			placeholder: 'e.g. analyst@contoso.com',
			description: 'Only incidents owned by this user (exact match)',
		},
		{
			displayName: 'Classification',
			name: 'classification',
			type: 'multiOptions',
			options: INCIDENT_CLASSIFICATIONS.map((c) => ({ name: INCIDENT_CLASSIFICATION_LABELS[c], value: c })),
			default: [],
			description: 'Only incidents with any of these classifications',
		},
		{
			displayName: 'Created After',
			name: 'createdAfter',
			type: 'dateTime',
			default: '',
			description: 'Only incidents created at or after this time (a time without zone is read in the workflow\'s time zone)',
		},
		{
			displayName: 'Created Before',
			name: 'createdBefore',
			type: 'dateTime',
			default: '',
			description: 'Only incidents created before this time',
		},
		{
			displayName: 'Determination',
			name: 'determination',
			type: 'multiOptions',
			options: sorted(INCIDENT_DETERMINATIONS.map((d) => ({ name: INCIDENT_DETERMINATION_LABELS[d], value: d as string }))),
			default: [],
			description: 'Only incidents with any of these determinations. Not in Microsoft\'s list of filterable properties: if Graph refuses it, the node filters the pages it reads.',
		},
		{
			displayName: 'Last Updated After',
			name: 'updatedAfter',
			type: 'dateTime',
			default: '',
			description: 'Only incidents last updated at or after this time',
		},
		{
			displayName: 'Last Updated Before',
			name: 'updatedBefore',
			type: 'dateTime',
			default: '',
			description: 'Only incidents last updated before this time',
		},
		{
			displayName: 'Severity',
			name: 'severity',
			type: 'multiOptions',
			options: INCIDENT_SEVERITIES.map((s) => ({ name: INCIDENT_SEVERITY_LABELS[s], value: s })),
			default: [],
			description: 'Only incidents with any of these severities',
		},
		{
			displayName: 'Status',
			name: 'status',
			type: 'multiOptions',
			options: INCIDENT_STATUSES.map((s) => ({ name: INCIDENT_STATUS_LABELS[s], value: s })),
			default: [],
			description: 'Only incidents with any of these statuses',
		},
	],
};

export const expandAlertsProperty: INodeProperties = {
	displayName: 'Expand Alerts',
	name: 'expandAlerts',
	type: 'boolean',
	default: false,
	description: 'Whether to include each incident\'s alerts (Microsoft Graph alerts_v2 shape, with evidence) in "alerts"; Simplify then gives alertCount and alertIds',
};

const SIMPLIFY_INCIDENT =
	'Whether to return only ticket-ready fields (ID, name, severity, status, classification, determination, owner, created and last update times, portal link, alert count and IDs (with Expand Alerts), custom tags, tenant, dedup key) instead of the full incident';

export const incidentSimplifyOn: INodeProperties = { displayName: 'Simplify', name: 'simplify', type: 'boolean', default: true, description: SIMPLIFY_INCIDENT };
export const incidentSimplifyOff: INodeProperties = { ...incidentSimplifyOn, default: false };

export const incidentUpdateFields: INodeProperties = {
	displayName: 'Update Fields',
	name: 'updateFields',
	type: 'collection',
	placeholder: 'Add Field',
	default: {},
	description: 'At least one field is required. Fields not added keep their current value.',
	options: [
		{
			displayName: 'Assigned To',
			name: 'assignedTo',
			type: 'string',
			default: '',
			placeholder: 'e.g. analyst@contoso.com',
			description: 'Owner of the incident, usually a user principal name',
		},
		{
			displayName: 'Classification',
			name: 'classification',
			type: 'options',
			options: INCIDENT_CLASSIFICATIONS.map((c) => ({ name: INCIDENT_CLASSIFICATION_LABELS[c], value: c })),
			default: 'truePositive',
			description: 'Whether the incident is a real threat, expected activity or a false alarm',
		},
		{
			displayName: 'Custom Tags',
			name: 'customTags',
			type: 'string',
			default: '',
			placeholder: 'e.g. ransomware, ticket-4711',
			description:
				'Tags, comma-separated (or an array from an expression). What happens to the incident\'s existing tags is set by Custom Tags Mode (default Add).',
		},
		{
			displayName: 'Custom Tags Mode',
			name: 'customTagsMode',
			type: 'options',
			options: [
				{ name: 'Add', value: 'add', description: 'Keep the incident\'s tags and add these (tags already there, in any case, are not repeated)' },
				{ name: 'Remove', value: 'remove', description: 'Keep the incident\'s tags except these (compared case-insensitively)' },
				{ name: 'Replace', value: 'replace', description: 'The incident\'s tags become exactly these; an empty Custom Tags clears them' },
			],
			default: 'add',
			description:
				'Microsoft Graph replaces the whole tag list on update, so Add and Remove read the incident\'s current tags first (one extra request) and send the combined list',
		},
		{
			displayName: 'Determination',
			name: 'determination',
			type: 'options',
			options: sorted(INCIDENT_DETERMINATIONS.map((d) => ({ name: INCIDENT_DETERMINATION_LABELS[d], value: d as string }))),
			default: 'other',
			description: 'Why the incident has its classification; when Classification is set in the same update, it must fit it',
		},
		{
			displayName: 'Status',
			name: 'status',
			type: 'options',
			options: INCIDENT_WRITABLE_STATUSES.map((s) => ({ name: INCIDENT_STATUS_LABELS[s], value: s })),
			default: 'active',
		},
	],
};

export const incidentCommentProperty: INodeProperties = {
	displayName: 'Comment',
	name: 'comment',
	type: 'string',
	typeOptions: { rows: 4 },
	default: '',
	required: true,
	placeholder: 'e.g. Ticket INC-1234 opened; containment in progress',
	description: `Text added to the incident's comments (existing comments are kept); at most ${MAX_COMMENT_LENGTH} characters`,
};
