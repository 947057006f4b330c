/**
 * Small pieces every backend uses on what the API answered: an entity without its `@odata.context`, and a transport
 * failure as the node error it already is.
 */
import type { INode, JsonObject } from 'n8n-workflow';
import { NodeApiError, NodeOperationError } from 'n8n-workflow';

/** The entity without the OData `@odata.context` the API adds to single-entity answers. */
export function stripContext<T extends object>(entity: T): T {
	if (entity && typeof entity === 'object' && '@odata.context' in entity) {
		const { ['@odata.context']: _ignored, ...rest } = entity as Record<string, unknown>;
		void _ignored;
		return rest as T;
	}
	return entity;
}

/** An error from the transport as the node error it already is (anything else wrapped), for re-throwing. */
export function nodeError(node: INode, error: unknown): NodeApiError | NodeOperationError {
	if (error instanceof NodeApiError || error instanceof NodeOperationError) return error;
	return new NodeApiError(node, error as JsonObject);
}
