import type { IDataObject, IExecuteFunctions, INodeExecutionData, INodeProperties } from 'n8n-workflow';
import { NodeOperationError, updateDisplayOptions } from 'n8n-workflow';

import { indicatorBackendFor } from '../../backend';
import { type ImportResult, type IndicatorBackend, type IndicatorInput, submitBody } from '../../backend/indicators';
import { optionsCollection } from '../../descriptions/common';
import { indicatorFields, readIndicator } from '../../descriptions/indicator';
import { agentOptInProperty, assertAgentAllowed } from '../../helpers/agentGuard';
import { errorItem, withItemIndex } from '../../helpers/errors';
import { capMessage, INDICATOR_ACTION_LABELS, indicatorKey, isIndicatorCapError, MAX_IMPORT_BATCH, planImportCalls } from '../../helpers/indicators';
import { outputTenantId } from '../../helpers/output';
import { type CommonParams, readCommon } from '../../helpers/params';

const properties: INodeProperties[] = [
	...indicatorFields(
		'The value of this item\'s indicator, usually an expression such as {{ $json.sha256 }}: each input item is one indicator, and items are sent together in import calls of up to 500',
	),
	agentOptInProperty('submit blocking indicators (Block Execution, Block and Remediate, Alert and Block)'),
	optionsCollection(),
];

export const description = updateDisplayOptions({ show: { resource: ['indicator'], operation: ['submitMany'] } }, properties);

interface Planned {
	index: number;
	input: IndicatorInput;
	blocking: boolean;
	common: CommonParams;
}

function shortValue(value: string): string {
	return value.length > 70 ? `${value.slice(0, 70)}…` : value;
}

/**
 * One indicator per input item. Items for the same tenant and region share `indicators/import` calls of up to 500
 * (Import Indicators API, https://learn.microsoft.com/en-us/defender-endpoint/api/import-ti-indicators); each item
 * gets its own output: the indicator's ID, or the failure reason Defender gave for it.
 */
export async function executeAll(this: IExecuteFunctions, items: INodeExecutionData[]): Promise<INodeExecutionData[]> {
	const node = this.getNode();
	const continueOnFail = this.continueOnFail();
	const results: Array<INodeExecutionData | undefined> = new Array(items.length);
	const groups = new Map<string, { dryRun: boolean; planned: Planned[] }>();
	const output = (index: number, json: IDataObject): void => {
		results[index] = this.helpers.constructExecutionMetaData(this.helpers.returnJsonArray(json), { itemData: { item: index } })[0];
	};

	// 1. Validate every item before any request.
	for (let i = 0; i < items.length; i++) {
		try {
			const common = readCommon(this, i);
			const { input, blocking } = readIndicator(this, i);
			const dryRun = this.getNodeParameter('dryRun', i, false) === true;
			if (blocking && !dryRun) assertAgentAllowed(this, i, `Submitting a blocking indicator (${INDICATOR_ACTION_LABELS[input.action]})`);
			const key = JSON.stringify([common.customerTenant ?? '', common.region, dryRun]);
			const group = groups.get(key) ?? { dryRun, planned: [] };
			group.planned.push({ index: i, input, blocking, common });
			groups.set(key, group);
		} catch (error) {
			if (!continueOnFail) throw withItemIndex(node, error, i);
			results[i] = errorItem(error, i);
		}
	}

	// 2. Import calls per group (or, for a dry run, the calls that would be made).
	for (const { dryRun, planned } of groups.values()) {
		const first = planned[0];
		const keyOf = (p: Planned) => indicatorKey(p.input.indicatorType, p.input.indicatorValue);
		const describe = (p: Planned): IDataObject => ({ indicatorValue: p.input.indicatorValue, indicatorType: p.input.indicatorType, action: p.input.action });
		const label = (p: Planned) => (p.common.customerLabel !== undefined ? { customerLabel: p.common.customerLabel } : {});

		if (dryRun) {
			const calls = planImportCalls(planned.map(keyOf), MAX_IMPORT_BATCH);
			calls.forEach((positions, c) => {
				for (const k of positions) {
					const p = planned[k];
					output(p.index, {
						dryRun: true,
						...describe(p),
						blocking: p.blocking,
						importCall: c + 1,
						importCalls: calls.length,
						indicatorsInCall: positions.length,
						request: { method: 'POST', path: '/api/indicators/import', indicator: submitBody(p.input) },
						customerTenant: p.common.customerTenant ?? null,
						region: p.common.region,
						...label(p),
					});
				}
			});
			continue;
		}

		let backend: IndicatorBackend;
		try {
			backend = await indicatorBackendFor(this, { itemIndex: first.index, ...first.common, maxThrottleWaitMs: Math.max(...planned.map((p) => p.common.maxThrottleWaitMs)) });
		} catch (error) {
			if (!continueOnFail) throw withItemIndex(node, error, first.index);
			for (const p of planned) results[p.index] = errorItem(error, p.index);
			continue;
		}
		const tenantId = outputTenantId(backend);
		/** One indicator Defender did not import: its reason, or the tenant limit said clearly. */
		const rejection = (p: Planned, reason: string, progress?: string): NodeOperationError => {
			const after = progress ? ` ${progress}` : '';
			if (isIndicatorCapError(undefined, reason)) {
				const cap = capMessage(backend.tenantId);
				return new NodeOperationError(node, cap.message, { itemIndex: p.index, description: `${cap.hint} Defender said: ${reason}.${after}` });
			}
			return new NodeOperationError(node, `Defender did not import the ${p.input.indicatorType} indicator "${shortValue(p.input.indicatorValue)}": ${reason}`, {
				itemIndex: p.index,
				description: `Check the value, action and fields of this item.${after}`,
			});
		};
		let size = Math.max(1, Math.min(backend.maxImportSize, MAX_IMPORT_BATCH));
		const queue: number[][] = planImportCalls(planned.map(keyOf), size);
		const done = new Map<number, { result: ImportResult; call: number; inCall: number }>();
		let calls = 0;
		let imported = 0;
		while (queue.length > 0) {
			const positions = queue.shift()!;
			let answer: ImportResult[];
			try {
				calls += 1;
				answer = await backend.importIndicators(positions.map((k) => planned[k].input));
			} catch (error) {
				// The documented maximum is 500; should the API answer MaximumBatchSizeExceeded ("… allowed: m"), re-split
				// everything not yet sent with its limit (a 400 imported nothing).
				const allowed = /MaximumBatchSizeExceeded[^]*?allowed:\s*(\d+)/i.exec(String((error as Error)?.message ?? ''));
				const newSize = allowed ? Number(allowed[1]) : 0;
				if (newSize >= 1 && newSize < positions.length) {
					calls -= 1;
					size = newSize;
					const rest = [...positions, ...queue.splice(0).flat()].sort((a, b) => a - b);
					for (const c of planImportCalls(rest.map((k) => keyOf(planned[k])), size)) queue.push(c.map((k) => rest[k]));
					continue;
				}
				if (!continueOnFail) throw withItemIndex(node, error, planned[positions[0]].index, true);
				for (const k of positions) results[planned[k].index] = errorItem(error, planned[k].index, describe(planned[k]));
				continue;
			}
			let firstFailure: { p: Planned; reason: string } | undefined;
			for (let n = 0; n < positions.length; n++) {
				const k = positions[n];
				const result = answer[n];
				done.set(k, { result, call: calls, inCall: positions.length });
				if (!result.isFailed) imported += 1;
				else if (!firstFailure) {
					const reason = result.failureReason ?? 'no reason given';
					firstFailure = { p: planned[k], reason };
				}
			}
			if (firstFailure && !continueOnFail) {
				const sent = done.size;
				const unsent = planned.length - sent;
				throw rejection(
					firstFailure.p,
					firstFailure.reason,
					`${imported} of the ${sent} indicators sent so far were imported${unsent ? `; the remaining ${unsent} were not sent` : ''}. Turn on the node setting On Error → Continue to get one result item per indicator instead.`,
				);
			}
		}
		for (const [k, entry] of done) {
			const p = planned[k];
			const { result } = entry;
			if (result.isFailed) {
				const reason = result.failureReason ?? 'no reason given';
				results[p.index] = errorItem(rejection(p, reason), p.index, { ...describe(p), imported: false, failureReason: reason });
				continue;
			}
			output(p.index, {
				id: result.id,
				...describe(p),
				imported: true,
				importCall: entry.call,
				importCalls: calls,
				indicatorsInCall: entry.inCall,
				tenantId,
				region: p.common.region,
				...label(p),
			});
		}
	}
	return results.filter((r): r is INodeExecutionData => r !== undefined);
}
