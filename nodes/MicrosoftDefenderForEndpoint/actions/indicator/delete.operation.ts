import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import { indicatorBackendFor } from '../../backend';
import { optionsCollection } from '../../descriptions/common';
import { indicatorTypeProperty, indicatorValueProperty } from '../../descriptions/indicator';
import { buildIndicatorFilter, INDICATOR_TYPES, type IndicatorType, indicatorIdProblem, normalizeIndicatorValue, valueSpellings } from '../../helpers/indicators';
import { outputTenantId } from '../../helpers/output';
import { readCommon } from '../../helpers/params';
import { inputError, validateEnum } from '../../helpers/validation';

const byValue = { show: { deleteBy: ['value'] } };

const properties: INodeProperties[] = [
	{
		displayName: 'Delete By',
		name: 'deleteBy',
		type: 'options',
		options: [
			{ name: 'ID', value: 'id', description: 'The indicator\'s ID, as Get Many and Submit return it' },
			{ name: 'Value', value: 'value', description: 'Its type and value: one list call finds the indicator, then it is deleted' },
		],
		default: 'id',
	},
	{
		displayName: 'Indicator ID',
		name: 'indicatorId',
		type: 'string',
		default: '',
		required: true,
		placeholder: 'e.g. 5123',
		description: 'ID of the indicator to delete',
		displayOptions: { show: { deleteBy: ['id'] } },
	},
	{ ...indicatorTypeProperty, displayOptions: byValue },
	{ ...indicatorValueProperty, displayOptions: byValue, description: 'Value of the indicator to delete (checked like Submit checks it)' },
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['indicator'], operation: ['delete'] } }, properties);

/** Delete one indicator per item, by ID or by type + value (one list call, then the delete). */
export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	const by = this.getNodeParameter('deleteBy', i, 'id') as string;
	const label = common.customerLabel !== undefined ? { customerLabel: common.customerLabel } : {};
	const reply = (json: IDataObject[]) => this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } });

	if (by === 'value') {
		const type = validateEnum(node, i, 'Indicator Type', this.getNodeParameter('indicatorType', i, ''), INDICATOR_TYPES) as IndicatorType;
		const value = normalizeIndicatorValue(type, this.getNodeParameter('indicatorValue', i, ''));
		if (!value.ok) throw inputError(node, i, value.message, value.hint);
		const backend = await indicatorBackendFor(this, { itemIndex: i, ...common });
		const found = await backend.list({ filter: buildIndicatorFilter({ types: [type], values: valueSpellings(type, value.value) }), top: 100 });
		if (found.length === 0) {
			throw new NodeOperationError(node, `No ${type} indicator with value "${value.value}" exists in tenant ${backend.tenantId}`, {
				itemIndex: i,
				description: 'Nothing was deleted. The indicator may have been deleted already or have expired; with only Ti.ReadWrite the app sees just the indicators it created.',
			});
		}
		const tenantId = outputTenantId(backend);
		const out: IDataObject[] = [];
		for (const indicator of found) {
			await backend.delete(String(indicator.id));
			out.push({ id: String(indicator.id), deleted: true, indicatorValue: indicator.indicatorValue ?? value.value, indicatorType: indicator.indicatorType ?? type, tenantId, region: common.region, ...label });
		}
		return reply(out);
	}
	if (by !== 'id') throw inputError(node, i, `Delete By "${by}" is not valid`, 'Use ID or Value.');
	const raw = this.getNodeParameter('indicatorId', i, '') as unknown;
	const id = typeof raw === 'number' ? String(raw) : typeof raw === 'string' ? raw.trim() : '';
	if (!id) throw inputError(node, i, 'Indicator ID is empty', 'Enter the indicator\'s ID (the "id" field of Get Many or Submit), or set Delete By to Value.');
	const bad = indicatorIdProblem(id);
	if (bad) throw inputError(node, i, bad.message, bad.hint);
	const backend = await indicatorBackendFor(this, { itemIndex: i, ...common });
	await backend.delete(id);
	return reply([{ id, deleted: true, tenantId: outputTenantId(backend), region: common.region, ...label }]);
}
