import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { updateDisplayOptions } from 'n8n-workflow';

import type { AlertBackend, AlertPatch, AlertRecord, ReadBackResult } from '../../backend/types';
import { optionsCollection } from '../../descriptions/common';
import { updateFieldsCollection } from '../../descriptions/updateFields';
import { errorItem, withItemIndex } from '../../helpers/errors';
import { outputTenantId } from '../../helpers/output';
import { alertsApiOf, backendFor } from '../../backend';
import { type CommonParams, readCommon } from '../../helpers/params';
import { patchKey, readPatch } from '../../helpers/patch';
import { parseAlertIdList, validateComment } from '../../helpers/validation';
import { updateGroupEach } from './updateManyEach';

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
	optionsCollection([
		{
			displayName: 'Verify Updates',
			name: 'verifyUpdates',
			type: 'boolean',
			default: true,
			description:
				'Whether to read the alerts back after the batch call, which answers "OK" even for IDs that do not exist: each alert is then reported as updated, not found, or unknown. Off: no extra read, and every alert is reported as "unknown".',
		},
	]),
];

export const description = updateDisplayOptions({ show: { resource: ['alert'], operation: ['updateMany'] } }, properties);

interface Planned {
	index: number;
	ids: string[];
	patch: AlertPatch;
	common: CommonParams;
	verify: boolean;
}

type AlertOutcome = { id: string; updated: true } | { id: string; updated: false; reason: 'notFound' } | { id: string; updated: 'unknown'; reason: string };

/** Clock skew allowed between n8n and Defender when reading back "everything changed since just before the batch". */
const READ_BACK_SKEW_MS = 5 * 60_000;

/** Whether a read-back alert shows the patch (fields equal, the comment among its comments). */
function showsPatch(alert: AlertRecord, patch: AlertPatch): boolean {
	for (const key of ['status', 'assignedTo', 'classification', 'determination'] as const) {
		if (patch[key] !== undefined && alert[key] !== patch[key]) return false;
	}
	if (patch.comment !== undefined) {
		const comments = Array.isArray(alert.comments) ? (alert.comments as Array<{ comment?: unknown }>) : [];
		if (!comments.some((c) => c?.comment === patch.comment)) return false;
	}
	return true;
}

/**
 * What is known about one alert after a batch call that answered 200: read back with the new values → updated;
 * not returned by a read that succeeded → does not exist (the batch call ignores unknown ids); anything else → unknown.
 */
function outcomeOf(id: string, patch: AlertPatch, readBack: ReadBackResult | undefined): AlertOutcome {
	if (!readBack) return { id, updated: 'unknown', reason: 'not verified (Verify Updates is off)' };
	const alert = readBack.alerts.get(id);
	if (alert) {
		return showsPatch(alert, patch)
			? { id, updated: true }
			: { id, updated: 'unknown', reason: 'read back without the new values (changed again meanwhile, or not applied yet)' };
	}
	if (readBack.unresolved.includes(id)) return { id, updated: 'unknown', reason: 'the read-back request failed' };
	return { id, updated: false, reason: 'notFound' };
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
			const ids = parseAlertIdList(node, i, this.getNodeParameter('alertIds', i, ''), await alertsApiOf(this, i));
			const patch = readPatch(node, i, this.getNodeParameter('updateFields', i, {}) as IDataObject);
			validateComment(node, i, patch.comment);
			const verify = (this.getNodeParameter('options', i, {}) as IDataObject).verifyUpdates !== false;
			const key = JSON.stringify([patchKey(patch), common.customerTenant ?? '', common.region]);
			const group = groups.get(key) ?? [];
			group.push({ index: i, ids, patch, common, verify });
			groups.set(key, group);
		} catch (error) {
			if (!continueOnFail) throw withItemIndex(node, error, i);
			results[i] = errorItem(error, i);
		}
	}

	// 2. One batch call per group chunk.
	interface Sent {
		group: Planned[];
		backend: AlertBackend;
		unique: string[];
		failedIds: Map<string, unknown>;
		calls: number;
	}
	const sent: Sent[] = [];
	// The read-back looks for changes since just before the first batch call (minus the allowed clock skew).
	const startedAt = new Date(Date.now() - READ_BACK_SKEW_MS);
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
		// Microsoft Graph has no batch update: JSON batching answers per alert, so there is nothing to read back.
		if (backend.updateEach) {
			await updateGroupEach(this, group, backend as AlertBackend & Required<Pick<AlertBackend, 'updateEach'>>, continueOnFail, results);
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
		sent.push({ group, backend, unique, failedIds, calls });
	}

	// 3. Read back what the batch calls changed (they answer 200 with no body, also for ids that do not exist): one
	// read-back per tenant and region for all its groups, so different changes to one tenant share the reads.
	const byTarget = new Map<string, Sent[]>();
	for (const s of sent) {
		const key = JSON.stringify([s.group[0].common.customerTenant ?? '', s.group[0].common.region]);
		byTarget.set(key, [...(byTarget.get(key) ?? []), s]);
	}
	for (const targetSent of byTarget.values()) {
		const toVerify = [
			...new Set(targetSent.flatMap((s) => s.group.filter((p) => p.verify).flatMap((p) => p.ids.filter((id) => !s.failedIds.has(id))))),
		];
		const readBack = toVerify.length > 0 ? await targetSent[0].backend.readBack(toVerify, { updatedSince: startedAt }) : undefined;
		for (const { group, backend, unique, failedIds, calls } of targetSent) {
			const tenantId = outputTenantId(backend);
			for (const p of group) {
				const failed = p.ids.find((id) => failedIds.has(id));
				if (failed !== undefined) {
					results[p.index] = errorItem(failedIds.get(failed), p.index, { alertIds: p.ids });
					continue;
				}
				const alerts = [...new Set(p.ids)].map((id) => outcomeOf(id, p.patch, p.verify ? readBack : undefined));
				const confirmed = alerts.filter((a) => a.updated === true).map((a) => a.id);
				const notFound = alerts.filter((a) => a.updated === false).map((a) => a.id);
				const unknown = alerts.filter((a) => a.updated === 'unknown').map((a) => a.id);
				const json: IDataObject = {
					alertIds: p.ids,
					// true only when every alert was read back with the change; false when one does not exist
					updated: notFound.length > 0 ? false : unknown.length > 0 ? 'unknown' : true,
					alerts: alerts as unknown as IDataObject[],
					updatedCount: confirmed.length,
					notFoundIds: notFound,
					unknownIds: unknown,
					changes: { ...p.patch } as IDataObject,
					batchCalls: calls,
					// reads for every change to this tenant in this execution (shared by its groups)
					verificationReads: p.verify ? (readBack?.reads ?? 0) : 0,
					alertsInBatch: unique.length,
					itemsInBatch: group.length,
					tenantId,
					region: p.common.region,
				};
				if (p.common.customerLabel !== undefined) json.customerLabel = p.common.customerLabel;
				results[p.index] = this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: p.index } })[0];
			}
		}
	}
	return results.filter((r): r is INodeExecutionData => r !== undefined);
}
