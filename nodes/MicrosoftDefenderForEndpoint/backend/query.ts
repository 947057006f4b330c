/**
 * How a structured alert query (`AlertListQuery.where`, core/graphAlerts `AlertWhere`) reaches each API: the
 * Defender backend renders it as its OData `$filter` (helpers/odata buildAlertFilter, unchanged), the Graph backend
 * as a Graph `$filter` (core/graphAlerts graphFilterPlan). A filter one API lacks becomes a NodeOperationError with
 * the item index, naming the Alerts API option that has it, before any request.
 */
import { type INode, NodeOperationError } from 'n8n-workflow';

import { type AlertWhere, assertDefenderCanFilter, QueryNotSupportedError } from '../core/graphAlerts';
import { buildAlertFilter } from '../helpers/odata';

export function queryError(node: INode, itemIndex: number | undefined, error: unknown): NodeOperationError {
	if (error instanceof QueryNotSupportedError) return new NodeOperationError(node, error.message, { description: error.hint, itemIndex });
	return new NodeOperationError(node, error as Error, { itemIndex });
}

/** The Defender for Endpoint `$filter` of a structured query (Graph-only filters throw). */
export function mdeFilter(node: INode, itemIndex: number | undefined, where: AlertWhere): string | undefined {
	try {
		assertDefenderCanFilter(where);
	} catch (error) {
		throw queryError(node, itemIndex, error);
	}
	return buildAlertFilter(where);
}
