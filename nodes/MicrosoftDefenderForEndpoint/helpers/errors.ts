/** Error handling shared by the router and the operations that handle items themselves. */
import { type IDataObject, type INode, type INodeExecutionData, NodeApiError, NodeOperationError } from 'n8n-workflow';

import { redact } from '../core/redact';
import { failureFacts } from '../transport/request';

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

/** The continueOnFail output of a failed item: message, how to fix it, HTTP status or network cause, and the item link. */
export function errorItem(error: unknown, itemIndex: number, extra: IDataObject = {}): INodeExecutionData {
	const facts = failureFacts(error);
	const json: IDataObject = { error: facts.message, ...extra };
	if (facts.description) json.description = facts.description;
	if (facts.httpCode !== undefined) json.httpCode = String(facts.httpCode);
	// No HTTP answer (refused, timed out, DNS…): the cause in its own field, never in httpCode.
	if (facts.networkError) json.networkError = facts.networkError;
	return { json, pairedItem: { item: itemIndex } };
}
