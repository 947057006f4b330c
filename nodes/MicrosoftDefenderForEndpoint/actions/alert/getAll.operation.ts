import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { optionsCollection, returnAllAndLimit, simplifyOn } from '../../descriptions/common';
import { CATEGORY_OPTIONS, categoryFilter, detectionSourceFilter, severityFilter, statusFilter } from '../../descriptions/filters';
import { ALERT_STATUSES, ALL_DETERMINATIONS, CLASSIFICATION_LABELS, CLASSIFICATIONS, DETERMINATION_LABELS, DETECTION_SOURCES, SEVERITIES } from '../../helpers/enums';
import { rawFilterProblem } from '../../helpers/odata';
import { decorateAlert, simplifyAlert } from '../../helpers/output';
import { backendFor } from '../../backend';
import type { AlertBackend, AlertListQuery, AlertRecord, AlertWhere } from '../../backend/types';
import { ALL_SERVICE_SOURCES, MDE_SERVICE_SOURCE, SERVICE_SOURCE_LABELS, SERVICE_SOURCES } from '../../core/graphAlerts';
import { readCommon, readLimit } from '../../helpers/params';
import {
	inputError,
	toCanonicalUtc,
	validateEnum,
	validateEnumList,
	validateInteger,
	validateWordList,
} from '../../helpers/validation';

const properties: INodeProperties[] = [
	...returnAllAndLimit,
	{
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
				description: 'Only alerts assigned to this owner (exact match)',
			},
			categoryFilter,
			{
				displayName: 'Classification',
				name: 'classification',
				type: 'multiOptions',
				options: CLASSIFICATIONS.map((c) => ({ name: CLASSIFICATION_LABELS[c], value: c })),
				default: [],
				description: 'Only alerts with any of these classifications (Microsoft Graph Security API only)',
			},
			{
				displayName: 'Created After',
				name: 'createdAfter',
				type: 'dateTime',
				default: '',
				description: 'Only alerts created at or after this time (a time without zone is read in the workflow\'s time zone)',
			},
			{
				displayName: 'Created Before',
				name: 'createdBefore',
				type: 'dateTime',
				default: '',
				description: 'Only alerts created before this time',
			},
			detectionSourceFilter,
			{
				displayName: 'Determination',
				name: 'determination',
				type: 'multiOptions',
				options: [...ALL_DETERMINATIONS].sort((a, b) => DETERMINATION_LABELS[a].localeCompare(DETERMINATION_LABELS[b])).map((d) => ({ name: DETERMINATION_LABELS[d], value: d })),
				default: [],
				description: 'Only alerts with any of these determinations (Microsoft Graph Security API only)',
			},
			{
				displayName: 'Incident ID',
				name: 'incidentId',
				type: 'number',
				default: 0,
				description: 'Only alerts of this incident',
			},
			{
				displayName: 'Investigation ID',
				name: 'investigationId',
				type: 'number',
				default: 0,
				description: 'Only alerts of this automated investigation',
			},
			{
				displayName: 'Last Updated After',
				name: 'updatedAfter',
				type: 'dateTime',
				default: '',
				description: 'Only alerts last updated at or after this time',
			},
			{
				displayName: 'Last Updated Before',
				name: 'updatedBefore',
				type: 'dateTime',
				default: '',
				description: 'Only alerts last updated before this time',
			},
			{
				displayName: 'Raw OData Filter',
				name: 'rawFilter',
				type: 'string',
				default: '',
				placeholder: "e.g. lastEventTime ge 2025-03-01T00:00:00Z and status ne 'Resolved'",
				description:
					'Advanced: an OData $filter expression ANDed (in parentheses) with the other filters. Filterable properties: alertCreationTime, lastUpdateTime, lastEventTime, incidentId, investigationId, the alert ID, assignedTo, detectionSource, status, severity, category. Defender for Endpoint API only.',
			},
			{
				displayName: 'Service Source',
				name: 'serviceSource',
				type: 'options',
				options: [
					{ name: 'All Defender XDR Sources', value: ALL_SERVICE_SOURCES, description: 'Every product that raises alerts in Microsoft Defender XDR' },
					...SERVICE_SOURCES.map((v) => ({ name: SERVICE_SOURCE_LABELS[v] ?? v, value: v as string })),
				].sort((a, b) => a.name.localeCompare(b.name)),
				default: MDE_SERVICE_SOURCE,
				description:
					'Microsoft Graph Security API: the product that raised the alert. Without this filter only Defender for Endpoint alerts are listed, as on the Defender for Endpoint API.',
			},
			severityFilter,
			statusFilter,
		],
	},
	{
		displayName: 'Include Evidence',
		name: 'includeEvidence',
		type: 'boolean',
		default: false,
		description: 'Whether to include each alert\'s evidence (files, processes, users, IPs, URLs) in the full output',
	},
	{
		displayName: 'Sort',
		name: 'sort',
		type: 'collection',
		placeholder: 'Add Sort Option',
		default: {},
		options: [
			{
				displayName: 'Sort By',
				name: 'field',
				type: 'options',
				options: [
					{ name: 'Creation Time', value: 'alertCreationTime' },
					{ name: 'Last Update Time', value: 'lastUpdateTime' },
				],
				default: 'alertCreationTime',
			},
			{
				displayName: 'Direction',
				name: 'direction',
				type: 'options',
				options: [
					{ name: 'Ascending (Oldest First)', value: 'asc' },
					{ name: 'Descending (Newest First)', value: 'desc' },
				],
				default: 'desc',
			},
		],
	},
	simplifyOn,
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['alert'], operation: ['getAll'] } }, properties);

function optionalNumber(value: unknown): unknown {
	return value === undefined || value === null || value === '' || value === 0 ? undefined : value;
}

/** Validated filter, sort and paging settings of one item (no request made). */
export function readListSettings(ctx: IExecuteFunctions, i: number) {
	const node = ctx.getNode();
	const limit = readLimit(ctx, i);
	const f = ctx.getNodeParameter('filters', i, {}) as IDataObject;
	const tz = ctx.getTimezone();
	const rawFilter = typeof f.rawFilter === 'string' ? f.rawFilter.trim() : '';
	if (rawFilter) {
		const problem = rawFilterProblem(rawFilter);
		if (problem) throw inputError(node, i, `Raw OData Filter is malformed: ${problem}`, 'Fix the filter text; string values go in single quotes, e.g. status eq \'New\'.');
	}
	const incident = optionalNumber(f.incidentId);
	const investigation = optionalNumber(f.investigationId);
	const assignedTo = typeof f.assignedTo === 'string' && f.assignedTo.trim() ? f.assignedTo.trim() : undefined;
	const serviceSource = f.serviceSource === undefined || f.serviceSource === '' ? undefined : validateEnum(node, i, 'Service Source', f.serviceSource, [ALL_SERVICE_SOURCES, ...SERVICE_SOURCES]);
	const where: AlertWhere = {
		status: validateEnumList(node, i, 'Status', f.status, ALERT_STATUSES),
		severity: validateEnumList(node, i, 'Severity', f.severity, SEVERITIES),
		category: validateWordList(node, i, 'Category', f.category, CATEGORY_OPTIONS),
		detectionSource: validateWordList(node, i, 'Detection Source', f.detectionSource, DETECTION_SOURCES),
		assignedTo,
		incidentId: incident === undefined ? undefined : validateInteger(node, i, 'Incident ID', incident, 1, Number.MAX_SAFE_INTEGER),
		investigationId: investigation === undefined ? undefined : validateInteger(node, i, 'Investigation ID', investigation, 1, Number.MAX_SAFE_INTEGER),
		createdAfter: toCanonicalUtc(node, i, 'Created After', f.createdAfter, tz),
		createdBefore: toCanonicalUtc(node, i, 'Created Before', f.createdBefore, tz),
		updatedAfter: toCanonicalUtc(node, i, 'Last Updated After', f.updatedAfter, tz),
		updatedBefore: toCanonicalUtc(node, i, 'Last Updated Before', f.updatedBefore, tz),
		raw: rawFilter || undefined,
		classification: validateEnumList(node, i, 'Classification', f.classification, CLASSIFICATIONS),
		determination: validateEnumList(node, i, 'Determination', f.determination, ALL_DETERMINATIONS),
		serviceSource,
	};
	const sort = ctx.getNodeParameter('sort', i, {}) as IDataObject;
	const field = sort.field === 'lastUpdateTime' ? 'lastUpdateTime' : sort.field === undefined || sort.field === 'alertCreationTime' ? 'alertCreationTime' : undefined;
	const direction = sort.direction === 'asc' ? 'asc' : sort.direction === undefined || sort.direction === 'desc' ? 'desc' : undefined;
	if (!field || !direction) throw inputError(node, i, 'Sort is not valid', 'Sort by Creation Time or Last Update Time, ascending or descending.');
	return {
		limit,
		where,
		orderBy: `${field} ${direction}`,
		expandEvidence: ctx.getNodeParameter('includeEvidence', i, false) as boolean,
		simplify: ctx.getNodeParameter('simplify', i, true) as boolean,
	};
}

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const common = readCommon(this, i);
	const settings = readListSettings(this, i);
	const backend = await backendFor(this, { itemIndex: i, ...common });
	const out: INodeExecutionData[] = [];
	const seen = new Set<string>();
	let remaining = settings.limit;
	const query: Omit<AlertListQuery, 'top' | 'skip'> = { where: settings.where, orderBy: settings.orderBy, expandEvidence: settings.expandEvidence };
	/** Each page becomes output items before the next one is fetched (a page is dropped once it is turned into items). */
	const take = (page: AlertRecord[]) => {
		const pageJson: IDataObject[] = [];
		for (const alert of page) {
			if (remaining <= 0) break;
			// Paging can repeat an alert when a new one arrives between pages: return each id once.
			if (seen.has(alert.id)) continue;
			seen.add(alert.id);
			const decorated = decorateAlert(alert, backend, common);
			pageJson.push(settings.simplify ? simplifyAlert(decorated) : decorated);
			remaining -= 1;
		}
		page.length = 0;
		for (const item of this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(pageJson), { itemData: { item: i } })) out.push(item);
	};
	if (backend.pages) {
		// The backend pages the way its API pages best (Microsoft Graph: @odata.nextLink, on its own origin only).
		for await (const page of backend.pages(query, settings.limit)) {
			take(page);
			if (remaining <= 0) break;
		}
		return out;
	}
	await skipPages(backend, query, take, () => remaining);
	return out;
}

/**
 * $top/$skip paging, not @odata.nextLink (the Defender alerts API does not return one when $top is set, List alerts,
 * https://learn.microsoft.com/en-us/defender-endpoint/api/get-alerts).
 */
async function skipPages(
	backend: AlertBackend,
	query: Omit<AlertListQuery, 'top' | 'skip'>,
	take: (page: AlertRecord[]) => void,
	remaining: () => number,
): Promise<void> {
	let skip = 0;
	while (remaining() > 0) {
		const top = Math.min(remaining(), backend.maxPageSize);
		const page = await backend.listAlerts({ ...query, top, skip });
		const received = page.length;
		take(page);
		if (received < top) break;
		skip += received;
	}
}
