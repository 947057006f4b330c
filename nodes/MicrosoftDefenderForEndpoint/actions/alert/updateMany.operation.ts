import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { AlertBackend, AlertPatch } from '../../backend/types';
import { optionsCollection } from '../../descriptions/common';
import { updateFieldsCollection } from '../../descriptions/updateFields';
import { errorItem, withItemIndex } from '../../helpers/errors';
import { outputTenantId } from '../../helpers/output';
import { backendFor } from '../../backend';
import { type CommonParams, readCommon } from '../../helpers/params';
import { patchKey, readPatch } from '../../helpers/patch';
import { parseAlertIdList } from '../../helpers/validation';

const properties: INodeProperties[] = [
	{
		displayName: 'Alert IDs',
		name: 'alertIds',
		type: 'string',
		typeOptions: { rows: 2 },
		default: '',
		required: true,
		placeholder: 'e.g. da638712345678901234_-1234567890, da638712345678905678_987654321',
		description:
			'One alert ID, a comma or newline separated list, or an expression that returns an array of IDs from the input item. Items that ask for the same change are sent together in one batch call.',
	},
	updateFieldsCollection,
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['alert'], operation: ['updateMany'] } }, properties);

interface Planned {
	index: number;
	ids: string[];
	patch: AlertPatch;
	common: CommonParams;
}

function chunk<T>(list: T[], size: number): T[][] {
	const out: T[][] = [];
	for (let k = 0; k < list.length; k += size) out.push(list.slice(k, k + size));
	return out;
}

/**
 * Items asking for the same change (same fields and values, same tenant and region) become one
 * `alerts/batchUpdate` call per chunk of backend.maxBatchSize unique ids; every item still gets its own output.
 */
export async function executeAll(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const continueOnFail = this.continueOnFail();
	const results: Array<INodeExecutionData | undefined> = new Array(items.length);
	const groups = new Map<string, Planned[]>();

	// 1. Validate every item before any request.
	for (let i = 0; i < items.length; i++) {
		try {
			const common = readCommon(this, i);
			const ids = parseAlertIdList(node, i, this.getNodeParameter('alertIds', i, ''));
			const patch = readPatch(node, i, this.getNodeParameter('updateFields', i, {}) as IDataObject);
			const key = JSON.stringify([patchKey(patch), common.customerTenant ?? '', common.region]);
			const group = groups.get(key) ?? [];
			group.push({ index: i, ids, patch, common });
			groups.set(key, group);
		} catch (error) {
			if (!continueOnFail) throw withItemIndex(node, error, i);
			results[i] = errorItem(error, i);
		}
	}

	// 2. One batch call per group chunk.
	for (const group of groups.values()) {
		const first = group[0];
		const unique = [...new Set(group.flatMap((p) => p.ids))];
		let backend: AlertBackend;
		try {
			backend = await backendFor(this, { itemIndex: first.index, ...first.common, maxThrottleWaitMs: Math.max(...group.map((p) => p.common.maxThrottleWaitMs)) });
		} catch (error) {
			if (!continueOnFail) throw withItemIndex(node, error, first.index);
			for (const p of group) results[p.index] = errorItem(error, p.index);
			continue;
		}
		// The largest batch is not documented (Batch update alerts, https://learn.microsoft.com/en-us/defender-endpoint/api/batch-update-alerts): start at the backend's size and, if the API
		// answers MaximumBatchSizeExceeded ("… allowed: m"), re-split with its limit (a 400 changed nothing).
		let size = Math.max(1, backend.maxBatchSize);
		const queue = chunk(unique, size);
		const failedIds = new Map<string, unknown>();
		let calls = 0;
		while (queue.length > 0) {
			const ids = queue.shift()!;
			try {
				calls += 1;
				await backend.batchUpdate(ids, first.patch);
			} catch (error) {
				const allowed = /MaximumBatchSizeExceeded[^]*?allowed:\s*(\d+)/i.exec(String((error as Error)?.message ?? ''));
				const newSize = allowed ? Number(allowed[1]) : 0;
				if (newSize >= 1 && newSize < ids.length) {
					size = newSize;
					const rest = queue.splice(0).flat();
					queue.push(...chunk([...ids, ...rest], size));
					continue;
				}
				if (!continueOnFail) {
					const affected = group.find((p) => p.ids.some((id) => ids.includes(id))) ?? first;
					throw withItemIndex(node, error, affected.index, true);
				}
				for (const id of ids) failedIds.set(id, error);
			}
		}
		const tenantId = outputTenantId(backend);
		for (const p of group) {
			const failed = p.ids.find((id) => failedIds.has(id));
			if (failed !== undefined) {
				results[p.index] = errorItem(failedIds.get(failed), p.index, { alertIds: p.ids });
				continue;
			}
			const json: IDataObject = {
				alertIds: p.ids,
				updated: true,
				changes: { ...p.patch } as IDataObject,
				batchCalls: calls,
				alertsInBatch: unique.length,
				itemsInBatch: group.length,
				tenantId,
				region: p.common.region,
			};
			if (p.common.customerLabel !== undefined) json.customerLabel = p.common.customerLabel;
			results[p.index] = this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: p.index } })[0];
		}
	}
	return results.filter((r): r is INodeExecutionData => r !== undefined);
}
