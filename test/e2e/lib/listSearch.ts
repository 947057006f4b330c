/**
 * A resource locator's "From List" search as the editor calls it: POST /rest/dynamic-node-parameters/
 * resource-locator-results on a running n8n (`start()` first), as the owner. n8n runs the node type's
 * `methods.listSearch[methodName]` with the given credentials and current parameters and returns its page.
 */
import type { INodeListSearchResult, INodeParameters } from 'n8n-workflow';
import { rest, type N8nInstance } from './n8n';
import { CREDENTIAL_TYPE, NODE_TYPE } from './workflows';

export interface ListSearchRequest {
	methodName: string;
	/** Current parameters of the node in the editor (resource, operation, region, customer tenant …). */
	currentNodeParameters: INodeParameters;
	/** Parameter path of the locator (default `parameters.machineId`). */
	path?: string;
	filter?: string;
	paginationToken?: string;
	credential?: { id: string; name: string };
	nodeType?: string;
	version?: number;
}

export async function listSearch(instance: N8nInstance, request: ListSearchRequest): Promise<INodeListSearchResult> {
	const credential = request.credential ?? { id: 'mdeEmulatorCred1', name: 'MDE (emulator)' };
	return await rest<INodeListSearchResult>(instance, 'POST', '/dynamic-node-parameters/resource-locator-results', {
		path: request.path ?? 'parameters.machineId',
		nodeTypeAndVersion: { name: request.nodeType ?? NODE_TYPE, version: request.version ?? 1 },
		methodName: request.methodName,
		currentNodeParameters: request.currentNodeParameters,
		credentials: { [CREDENTIAL_TYPE]: credential },
		...(request.filter !== undefined ? { filter: request.filter } : {}),
		...(request.paginationToken !== undefined ? { paginationToken: request.paginationToken } : {}),
	});
}
