import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import { machineBackendFor } from '../../backend';
import { optionsCollection, returnAllAndLimit } from '../../descriptions/common';
import { ACTION_STATUSES, ACTION_TYPES, buildActionFilter, validateMachineId } from '../../helpers/machines';
import { readCommon, readLimit } from '../../helpers/params';
import { toCanonicalUtc, validateEnumList } from '../../helpers/validation';
import { checked } from '../machine/common';
import { decorateAction } from './common';

const humanize = (value: string): string => value.replace(/([a-z])([A-Z])/g, '$1 $2');

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
				displayName: 'Created After',
				name: 'createdAfter',
				type: 'dateTime',
				default: '',
				description: 'Only actions created at or after this time',
			},
			{
				displayName: 'Machine ID',
				name: 'machineId',
				type: 'string',
				default: '',
				placeholder: 'e.g. 3f2a6b1c9d8e7f60514a2b3c4d5e6f708192a3b4',
				description: 'Only actions on this machine (40-character device ID). Use it to check whether a request whose answer was lost reached Defender.',
			},
			{
				displayName: 'Requestor',
				name: 'requestor',
				type: 'string',
				default: '',
				description: 'Only actions requested by this identity (a user\'s UPN, or an app\'s ID for API requests)',
			},
			{
				displayName: 'Status',
				name: 'status',
				type: 'multiOptions',
				options: [...ACTION_STATUSES].sort().map((v) => ({ name: humanize(v).replace('Time Out', 'Timed Out'), value: v })),
				default: [],
				description: 'Only actions in one of these states',
			},
			{
				displayName: 'Type',
				name: 'type',
				type: 'multiOptions',
				options: ACTION_TYPES.map((v) => ({ name: humanize(v).replace('Anti Virus', 'Antivirus'), value: v })),
				default: [],
				description: 'Only actions of these types',
			},
		],
	},
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['machineAction'], operation: ['getAll'] } }, properties);

export async function execute(this: IExecuteFunctions, i: number): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const common = readCommon(this, i);
	const limit = readLimit(this, i);
	const f = this.getNodeParameter('filters', i, {}) as IDataObject;
	const machineId = typeof f.machineId === 'string' && f.machineId.trim() ? checked(node, i, validateMachineId(f.machineId)) : undefined;
	const filter = buildActionFilter({
		machineId,
		status: validateEnumList(node, i, 'Status', f.status, ACTION_STATUSES),
		type: validateEnumList(node, i, 'Type', f.type, ACTION_TYPES),
		requestor: typeof f.requestor === 'string' && f.requestor.trim() ? f.requestor.trim() : undefined,
		createdAfter: toCanonicalUtc(node, i, 'Created After', f.createdAfter, this.getTimezone()),
	});
	const backend = await machineBackendFor(this, { itemIndex: i, ...common });
	const tenantId = await backend.outputTenantId();
	const out: INodeExecutionData[] = [];
	const seen = new Set<string>();
	let remaining = limit;
	let skip = 0;
	while (remaining > 0) {
		const top = Math.min(remaining, backend.maxPageSize);
		const page = await backend.listActions({ filter, top, skip });
		const json: IDataObject[] = [];
		for (const action of page) {
			if (remaining <= 0) break;
			if (seen.has(action.id)) continue;
			seen.add(action.id);
			json.push(decorateAction(action, backend, tenantId, common));
			remaining -= 1;
		}
		for (const item of this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: i } })) out.push(item);
		if (page.length < top) break;
		skip += page.length;
	}
	return out;
}
