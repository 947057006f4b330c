/** Error handling shared by the router and the operations that handle items themselves. */
import { type IDataObject, type INode, type INodeExecutionData, NodeApiError, NodeOperationError } from 'n8n-workflow';

import { redact } from '../core/redact';

/** The error as a NodeApiError/NodeOperationError pointing at the item. */
export function withItemIndex(node: INode, error: unknown, itemIndex: number, force = false): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) {
		const context = (error as unknown as { context: IDataObject }).context ?? {};
		if (force || context.itemIndex === undefined) context.itemIndex = itemIndex;
		(error as unknown as { context: IDataObject }).context = context;
		return error;
	}
	const message = error instanceof Error ? error.message : String(error);
	return new NodeOperationError(node, redact(message), { itemIndex });
}

/** The continueOnFail output of a failed item: message, how to fix it, HTTP status, and the item link. */
export function errorItem(error: unknown, itemIndex: number, extra: IDataObject = {}): INodeExecutionData {
	const e = error as { message?: string; description?: string | null; httpCode?: string | null };
	const json: IDataObject = { error: redact(e?.message ?? String(error)), ...extra };
	if (e?.description) json.description = redact(String(e.description));
	if (e?.httpCode) json.httpCode = e.httpCode;
	return { json, pairedItem: { item: itemIndex } };
}
