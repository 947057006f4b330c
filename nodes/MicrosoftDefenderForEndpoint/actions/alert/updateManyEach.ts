/**
 * Update Many on an API without a batch update of its own (Microsoft Graph: JSON batching, `backend.updateEach`):
 * every alert's own answer is its outcome, so no read-back is needed. Each input item still gets one output item
 * with the same fields as on the Defender for Endpoint API (updated / notFound per alert, batchCalls, …).
 */
import type { IDataObject, IExecuteFunctions, INodeExecutionData } from 'n8n-workflow';

import type { AlertBackend, AlertPatch } from '../../backend/types';
import { errorItem, withItemIndex } from '../../helpers/errors';
import { outputTenantId } from '../../helpers/output';
import type { CommonParams } from '../../helpers/params';

export interface PlannedItem {
	index: number;
	ids: string[];
	patch: AlertPatch;
	common: CommonParams;
}

/**
 * Apply one group's change (items asking for the same change) with `backend.updateEach` and write each item's
 * output into `results`. Without continueOnFail the first item with a failed alert throws (with its item index).
 */
export async function updateGroupEach(
	ctx: IExecuteFunctions,
	group: PlannedItem[],
	backend: AlertBackend & Required<Pick<AlertBackend, 'updateEach'>>,
	continueOnFail: boolean,
	results: Array<INodeExecutionData | undefined>,
): Promise<void> {
	const node = ctx.getNode();
	const unique = [...new Set(group.flatMap((p) => p.ids))];
	let result: Awaited<ReturnType<typeof backend.updateEach>>;
	try {
		result = await backend.updateEach(unique, group[0].patch);
	} catch (error) {
		if (!continueOnFail) throw withItemIndex(node, error, group[0].index, true);
		for (const p of group) results[p.index] = errorItem(error, p.index, { alertIds: p.ids });
		return;
	}
	const tenantId = outputTenantId(backend);
	for (const p of group) {
		const ids = [...new Set(p.ids)];
		const failed = ids.map((id) => result.outcomes.get(id)).find((o) => o?.status === 'failed');
		if (failed && failed.status === 'failed') {
			if (!continueOnFail) throw withItemIndex(node, failed.error, p.index, true);
			results[p.index] = errorItem(failed.error, p.index, { alertIds: p.ids });
			continue;
		}
		const alerts = ids.map((id) => (result.outcomes.get(id)?.status === 'updated' ? { id, updated: true } : { id, updated: false, reason: 'notFound' }));
		const confirmed = alerts.filter((a) => a.updated === true).map((a) => a.id);
		const notFound = alerts.filter((a) => a.updated === false).map((a) => a.id);
		const json: IDataObject = {
			alertIds: p.ids,
			updated: notFound.length > 0 ? false : true,
			alerts: alerts as unknown as IDataObject[],
			updatedCount: confirmed.length,
			notFoundIds: notFound,
			unknownIds: [],
			changes: { ...p.patch } as IDataObject,
			batchCalls: result.calls,
			// every alert answered for itself inside the batch: nothing to read back
			verificationReads: 0,
			alertsInBatch: unique.length,
			itemsInBatch: group.length,
			tenantId,
			region: p.common.region,
		};
		if (p.common.customerLabel !== undefined) json.customerLabel = p.common.customerLabel;
		results[p.index] = ctx.helpers.constructExecutionMetaData(ctx.helpers.returnJsonArray(json), { itemData: { item: p.index } })[0];
	}
}
