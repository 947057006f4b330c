import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { indicatorBackendFor } from '../../backend';
import type { IndicatorRecord } from '../../backend/indicators';
import { optionsCollection, returnAllAndLimit } from '../../descriptions/common';
import { INDICATOR_ACTION_OPTIONS, INDICATOR_TYPE_OPTIONS } from '../../descriptions/indicator';
import { buildIndicatorFilter, INDICATOR_ACTIONS, INDICATOR_SIMPLE_FIELDS, INDICATOR_TYPES } from '../../helpers/indicators';
import { rawFilterProblem } from '../../helpers/odata';
import { outputTenantId } from '../../helpers/output';
import { readCommon, readLimit } from '../../helpers/params';
import { inputError, toStringList, validateEnumList } from '../../helpers/validation';

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
				displayName: 'Action',
				name: 'actions',
				type: 'multiOptions',
				options: INDICATOR_ACTION_OPTIONS.map(({ name, value }) => ({ name, value })),
				default: [],
				description: 'Only indicators with one of these actions',
			},
			{
				displayName: 'Indicator Type',
				name: 'types',
				type: 'multiOptions',
				options: INDICATOR_TYPE_OPTIONS,
				default: [],
				description: 'Only indicators of these types',
			},
			{
				displayName: 'Raw OData Filter',
				name: 'rawFilter',
				type: 'string',
				default: '',
				placeholder: "e.g. severity eq 'High' and createdBy eq 'analyst@contoso.com'",
				description:
					'Advanced: an OData $filter expression ANDed (in parentheses) with the other filters. Filterable: indicatorValue, indicatorType, action, severity, title, application, createdBy, createdByDisplayName, generateAlert, expirationTime, creationTimeDateTimeUtc, rbacGroupNames, rbacGroupIds.',
			},
			{
				displayName: 'Value',
				name: 'values',
				type: 'string',
				default: '',
				placeholder: 'e.g. evil.example.com',
				description: 'Only indicators with this exact value (several: comma-separated)',
			},
		],
	},
	{
		displayName: 'Simplify',
		name: 'simplify',
		type: 'boolean',
		default: true,
		description: `Whether to return only the main fields (${INDICATOR_SIMPLE_FIELDS.join(', ')}) instead of the full indicator`,
	},
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['indicator'], operation: ['getAll'] } }, properties);

function simplify(indicator: IDataObject): IDataObject {
	const out: IDataObject = {};
	for (const key of INDICATOR_SIMPLE_FIELDS) out[key] = indicator[key] === undefined ? null : indicator[key];
	if (indicator.customerLabel !== undefined) out.customerLabel = indicator.customerLabel;
	return out;
}

/** List indicators ($top/$skip pages of up to 10,000, streamed into output items page by page). */
export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	const limit = readLimit(this, i);
	const f = this.getNodeParameter('filters', i, {}) as IDataObject;
	const rawFilter = typeof f.rawFilter === 'string' ? f.rawFilter.trim() : '';
	if (rawFilter) {
		const problem = rawFilterProblem(rawFilter);
		if (problem) throw inputError(node, i, `Raw OData Filter is malformed: ${problem}`, "Fix the filter text; string values go in single quotes, e.g. action eq 'Block'.");
	}
	const filter = buildIndicatorFilter({
		types: validateEnumList(node, i, 'Indicator Type', f.types, INDICATOR_TYPES),
		actions: validateEnumList(node, i, 'Action', f.actions, INDICATOR_ACTIONS),
		values: toStringList(f.values),
		raw: rawFilter || undefined,
	});
	const simple = this.getNodeParameter('simplify', i, true) as boolean;
	const backend = await indicatorBackendFor(this, { itemIndex: i, ...common });
	const tenantId = outputTenantId(backend);
	const out: INodeExecutionData[] = [];
	const seen = new Set<string>();
	let remaining = limit;
	let skip = 0;
	while (remaining > 0) {
		const top = Math.min(remaining, backend.maxPageSize);
		const page: IndicatorRecord[] = await backend.list({ filter, top, skip });
		const received = page.length;
		const json: IDataObject[] = [];
		for (const indicator of page) {
			if (remaining <= 0) break;
			// $skip paging can repeat an indicator when one is added between pages: return each id once.
			if (seen.has(String(indicator.id))) continue;
			seen.add(String(indicator.id));
			const decorated = indicator as unknown as IDataObject;
			decorated.tenantId = tenantId;
			if (common.customerLabel !== undefined) decorated.customerLabel = common.customerLabel;
			json.push(simple ? simplify(decorated) : decorated);
			remaining -= 1;
		}
		for (const item of this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } })) out.push(item);
		if (received < top) break;
		skip += received;
	}
	return out;
}
